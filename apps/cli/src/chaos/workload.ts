/**
 * The clients of a chaos run: several `@greenraft/client` instances in this process, each with
 * its own client id and process id in the history, doing put, get (linearizable) and cas on a few
 * shared keys, one operation at a time each, until told to stop. Every written value is unique
 * (`c3-17`: client 3's 17th write), so a value read names the write that produced it. About one
 * write in seven goes to a key of its own (`u-c3-17`) that nothing overwrites: read back at the
 * end, each such acknowledged write must still be there, however many writes the shared keys saw.
 */
import { createClient, type GreenraftClient, isOutcomeUnknown } from '@greenraft/client';
import { seededRandom } from '@greenraft/consensus';
import type { KvInput, KvOutput } from '@greenraft/linearizability';
import type { ChaosHistory, RecordedOperation } from './history.js';

/** Client settings: an attempt gives up on a stuck node a little after the nodes' own deadline. */
export interface ClientTiming {
  /** A call's deadline, retries included. */
  readonly timeoutMs: number;
  /** One attempt's wait before it is retried on another node. */
  readonly attemptTimeoutMs: number;
  /** Socket open and `hello` answered. */
  readonly connectTimeoutMs: number;
}

/** The client timing chaos runs use unless told otherwise. */
export const DEFAULT_CLIENT_TIMING: ClientTiming = { timeoutMs: 8000, attemptTimeoutMs: 3000, connectTimeoutMs: 1500 };

/** Options of {@link runWorkload}. */
export interface WorkloadInit {
  readonly history: ChaosHistory;
  /** Every node's client URL. */
  readonly endpoints: readonly string[];
  readonly keys: readonly string[];
  readonly clients: number;
  readonly seed: number;
  /** Mean pause between one client's operations, in milliseconds. */
  readonly thinkMs: number;
  readonly timing: ClientTiming;
  /** Client ids are `${clientPrefix}-c${k}`. */
  readonly clientPrefix: string;
  /**
   * How the clients' gets read; `stale` (a follower's own state) is the injected bug.
   * @default 'linearizable'
   */
  readonly readConsistency?: 'linearizable' | 'stale';
  /** Fires when the clients should stop starting operations. */
  readonly signal: AbortSignal;
}

/** What the clients did. */
export interface WorkloadCounts {
  ops: number;
  reads: number;
  writes: number;
  /** Writes acknowledged as applied: puts answered, cas answered `swapped: true`. */
  acknowledged: number;
  /** Operations whose outcome is unknown (timeouts, connections lost with the request in flight). */
  indefinite: number;
  /** Operations that surely took no effect. */
  failed: number;
}

/** Waits `ms`, or less if `signal` fires first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/**
 * Runs one operation through `client` and records it; resolves with the outcome. A get is recorded
 * as linearizable whatever `readConsistency` says: reading `stale` is the injected bug the
 * checker must catch.
 */
export async function recordOperation(
  client: GreenraftClient,
  history: ChaosHistory,
  process: number,
  input: KvInput,
  timing: ClientTiming,
  readConsistency: 'linearizable' | 'stale' = 'linearizable',
): Promise<RecordedOperation> {
  const op = history.invoke(process, input);
  try {
    let output: KvOutput;
    switch (input.kind) {
      case 'get': {
        const { value } = await client.get(input.key, { consistency: readConsistency, timeoutMs: timing.timeoutMs });
        output = { kind: 'get', value: value ?? '' };
        break;
      }
      case 'put':
        await client.put(input.key, input.value, { timeoutMs: timing.timeoutMs });
        output = { kind: 'put' };
        break;
      case 'cas': {
        // The model's absent key holds "": a cas from "" is a cas from absent.
        const { swapped } = await client.cas(input.key, input.expected === '' ? null : input.expected, input.value, { timeoutMs: timing.timeoutMs });
        output = { kind: 'cas', swapped };
        break;
      }
      case 'append':
        throw new Error('the chaos workload does not append');
    }
    history.ok(op, output);
  } catch (error) {
    // A read that failed changed nothing; a write that failed may have been applied unless the client says otherwise.
    if (input.kind !== 'get' && isOutcomeUnknown(error)) history.info(op, describe(error));
    else history.fail(op, describe(error));
  }
  return op;
}

/** Runs the clients until `init.signal` fires, then waits for their last operations to end. */
export async function runWorkload(init: WorkloadInit): Promise<WorkloadCounts> {
  const counts: WorkloadCounts = { ops: 0, reads: 0, writes: 0, acknowledged: 0, indefinite: 0, failed: 0 };
  // What any client last saw in each key: a cas from it has a fair chance to swap.
  const lastSeen = new Map<string, string>();
  let nextProcess = init.clients;
  const clients: GreenraftClient[] = [];
  const loop = async (k: number) => {
    const random = seededRandom(init.seed * 1009 + k);
    // Each client starts on another node; all of them are failover candidates.
    const endpoints = init.endpoints.map((_, i) => init.endpoints[(i + k) % init.endpoints.length]!);
    // Reading stale, a client stays on the node it starts on: followers lag, where the bug shows.
    const client = createClient({ endpoints, clientId: `${init.clientPrefix}-c${k}`, ...init.timing, followLeader: init.readConsistency !== 'stale' });
    clients.push(client);
    let process = k;
    let written = 0;
    while (!init.signal.aborted) {
      const key = init.keys[Math.floor(random() * init.keys.length)]!;
      const choice = random();
      let input: KvInput;
      if (choice < 0.45) input = { kind: 'get', key };
      else if (choice < 0.72) input = { kind: 'put', key, value: `c${k}-${++written}` };
      else if (choice < 0.8) {
        const value = `c${k}-${++written}`;
        input = { kind: 'put', key: `u-${value}`, value };
      } else input = { kind: 'cas', key, expected: random() < 0.85 ? (lastSeen.get(key) ?? '') : '', value: `c${k}-${++written}` };
      counts.ops++;
      if (input.kind === 'get') counts.reads++;
      else counts.writes++;
      const op = await recordOperation(client, init.history, process, input, init.timing, init.readConsistency);
      if (op.outcome === 'ok') {
        if (op.output?.kind === 'get' && op.output.value !== '') lastSeen.set(input.key, op.output.value);
        if (op.output?.kind === 'put' || (op.output?.kind === 'cas' && op.output.swapped)) {
          counts.acknowledged++;
          if (input.kind !== 'get') lastSeen.set(input.key, input.value);
        }
      } else if (op.outcome === 'info') {
        counts.indefinite++;
        // The old process may still have its operation in flight: go on as a new one.
        process = nextProcess++;
      } else counts.failed++;
      if (init.thinkMs > 0) await sleep(random() * 2 * init.thinkMs, init.signal);
    }
  };
  try {
    await Promise.all(Array.from({ length: init.clients }, (_, k) => loop(k)));
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  }
  return counts;
}
