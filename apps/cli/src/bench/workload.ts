/**
 * The write every in-process suite replicates and the state machine it is applied to: 128-byte
 * entries, each a put of a 124-byte value under one of {@link KEYS} keys (the key is the first
 * four bytes), into a map. The same state machine's apply rate, without replication, is the
 * `limits` suite's bound on write throughput.
 */
import type { ApplyInput, StateMachine } from '@greenraft/consensus';

/** Bytes per write, as the workload asks. */
export const WRITE_BYTES = 128;
/** Distinct keys the writes go to: the map stays small, as a hot working set does. */
export const KEYS = 1024;

/** The `n`-th write: key `n mod KEYS` in the first four bytes (little endian), then a fixed value. */
export function writePayload(n: number): Uint8Array {
  const data = new Uint8Array(WRITE_BYTES);
  new DataView(data.buffer).setUint32(0, n % KEYS, true);
  for (let i = 4; i < WRITE_BYTES; i++) data[i] = (n + i) & 0xff;
  return data;
}

/** A pool of distinct payloads the clients cycle through, so no write allocates while measured. */
export function payloadPool(size = KEYS): readonly Uint8Array[] {
  return Array.from({ length: size }, (_, n) => writePayload(n));
}

/** A key-value map of the writes: apply stores the value under its key and returns the map's size. */
export class BenchKvStore implements StateMachine<number> {
  readonly values = new Map<number, Uint8Array>();
  applied = 0;

  apply({ data }: ApplyInput): number {
    const key = data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24);
    this.values.set(key, data.subarray(4));
    this.applied++;
    return this.values.size;
  }

  snapshot(): Uint8Array {
    // key (4 bytes) + value, one after the other: the values are all WRITE_BYTES - 4 long.
    const out = new Uint8Array(this.values.size * WRITE_BYTES);
    let at = 0;
    for (const [key, value] of this.values) {
      new DataView(out.buffer).setUint32(at, key >>> 0, true);
      out.set(value, at + 4);
      at += WRITE_BYTES;
    }
    return out;
  }

  restore(data: Uint8Array): void {
    this.values.clear();
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let at = 0; at + WRITE_BYTES <= data.byteLength; at += WRITE_BYTES) {
      this.values.set(view.getUint32(at, true) | 0, data.slice(at + 4, at + WRITE_BYTES));
    }
  }
}
