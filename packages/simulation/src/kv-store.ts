import { decodeChainSnapshot } from './digest.js';
import type { KvOutput } from '@greenraft/linearizability';

/** A write a client proposes to the replicated key-value store; reads go through ReadIndex instead. */
export type KvCommand =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  /** Sets `key` to `value` if it holds `expected` (an absent key holds `""`), as {@link kvModel} specifies. */
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string; readonly value: string };

// Entry data of a KV command opens with these two bytes; anything else (a leader's empty entry,
// the liveness probe's payload) is not a command and leaves the store unchanged.
const MARKER_0 = 0x4b; // 'K'
const MARKER_1 = 0x56; // 'V'
const SEPARATOR = '\u0000';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The log entry data of a KV command: a two-byte marker, then the fields as UTF-8 separated by NUL.
 * Keys and values must not contain NUL (the simulator's never do).
 */
export function encodeKvCommand(command: KvCommand): Uint8Array {
  const text = command.kind === 'put' ? `p${SEPARATOR}${command.key}${SEPARATOR}${command.value}` : `c${SEPARATOR}${command.key}${SEPARATOR}${command.expected}${SEPARATOR}${command.value}`;
  const body = encoder.encode(text);
  const data = new Uint8Array(body.byteLength + 2);
  data[0] = MARKER_0;
  data[1] = MARKER_1;
  data.set(body, 2);
  return data;
}

/** Reads {@link encodeKvCommand}'s data back; `undefined` for data that is not a KV command. */
export function decodeKvCommand(data: Uint8Array): KvCommand | undefined {
  if (data.byteLength < 3 || data[0] !== MARKER_0 || data[1] !== MARKER_1) return undefined;
  const fields = decoder.decode(data.subarray(2)).split(SEPARATOR);
  if (fields[0] === 'p' && fields.length === 3) return { kind: 'put', key: fields[1]!, value: fields[2]! };
  if (fields[0] === 'c' && fields.length === 4) return { kind: 'cas', key: fields[1]!, expected: fields[2]!, value: fields[3]! };
  return undefined;
}

/**
 * One node's copy of the replicated key-value store: what it has applied. Absent keys read as `""`,
 * the convention of {@link kvModel}, so the store's answers are checked against that model directly.
 */
export class KvStore {
  private readonly values = new Map<string, string>();

  /** The value of `key` (`""` when absent). */
  get(key: string): string {
    return this.values.get(key) ?? '';
  }

  /** Applies a committed command and returns what the proposing client is told. */
  apply(command: KvCommand): Extract<KvOutput, { kind: KvCommand['kind'] }> {
    if (command.kind === 'put') {
      this.values.set(command.key, command.value);
      return { kind: 'put' };
    }
    const swapped = this.get(command.key) === command.expected;
    if (swapped) this.values.set(command.key, command.value);
    return { kind: 'cas', swapped };
  }

  /** Every key and its value, sorted by key: equal stores give equal encodings. */
  entries(): [string, string][] {
    return [...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A store holding exactly `entries`. */
  static from(entries: Iterable<readonly [string, string]>): KvStore {
    const store = new KvStore();
    for (const [key, value] of entries) store.values.set(key, value);
    return store;
  }
}

/**
 * Snapshot data of the simulator's state machine: the 4-byte chain digest of everything applied
 * (what State Machine Safety compares, read by `decodeChainSnapshot`), then the KV store as JSON.
 */
export function encodeStateSnapshot(chain: number, store: KvStore): Uint8Array {
  const body = encoder.encode(JSON.stringify(store.entries()));
  const data = new Uint8Array(4 + body.byteLength);
  new DataView(data.buffer).setUint32(0, chain >>> 0);
  data.set(body, 4);
  return data;
}

/** Reads {@link encodeStateSnapshot}'s data back; `undefined` when it is not this state machine's. */
export function decodeStateSnapshot(data: Uint8Array): { chain: number; store: KvStore } | undefined {
  const chain = decodeChainSnapshot(data);
  if (chain === undefined) return undefined;
  if (data.byteLength === 4) return { chain, store: new KvStore() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data.subarray(4)));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string')) {
    return undefined;
  }
  return { chain, store: KvStore.from(parsed as [string, string][]) };
}
