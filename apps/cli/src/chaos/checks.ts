/**
 * The final checks of a chaos run, once every fault is lifted and every node runs again:
 * - every key read back linearizably (those reads join the history);
 * - lost writes: an acknowledged write is lost when the final value of its key was written by an
 *   operation that had returned before the acknowledged write was even invoked, or when the key
 *   reads as absent (nothing deletes): no linearization can then end with that value;
 * - convergence: every node reaches the same applied index, equal to its commit index, and holds
 *   the same value (and modification index) for every key, read with `consistency=stale`
 *   from each node's own state.
 */
import { createHash } from 'node:crypto';
import type { GreenraftClient } from '@greenraft/client';
import type { ChaosHistory, RecordedOperation } from './history.js';
import { fetchStatus, type NodeStatus } from './observer.js';
import { type ClientTiming, recordOperation } from './workload.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items`, at most `concurrency` at a time. */
export async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Every key the history wrote (or may have written), and the shared keys, sorted. */
export function keysOf(history: ChaosHistory, shared: readonly string[]): string[] {
  const keys = new Set(shared);
  for (const op of history.operations) if (op.outcome !== 'fail') keys.add(op.input.key);
  return [...keys].sort();
}

/**
 * Reads every key linearizably through `client` (32 at a time), retrying each until `deadline`;
 * the reads join the history, each under a process id of its own from `firstProcess` on.
 */
export async function finalReads(
  client: GreenraftClient,
  history: ChaosHistory,
  keys: readonly string[],
  firstProcess: number,
  timing: ClientTiming,
  deadline: number,
): Promise<Map<string, RecordedOperation | undefined>> {
  const reads = new Map<string, RecordedOperation | undefined>();
  let process = firstProcess;
  await inPool(keys, 32, async (key) => {
    let read: RecordedOperation | undefined;
    while (performance.now() < deadline) {
      const op = await recordOperation(client, history, process++, { kind: 'get', key }, timing);
      if (op.outcome === 'ok') {
        read = op;
        break;
      }
      await sleep(200);
    }
    reads.set(key, read);
  });
  return reads;
}

/** What the lost-write check found, per key and in all. */
export interface LostWrites {
  /** Acknowledged writes no final value can follow. */
  readonly lost: number;
  /** Keys whose final read never succeeded: their writes are unverified. */
  readonly unreadKeys: string[];
  /** Final values no write of the history produced. */
  readonly unexplained: { readonly key: string; readonly value: string }[];
  /** Up to 20 lost writes, for the report. */
  readonly examples: { readonly key: string; readonly value: string; readonly finalValue: string }[];
}

/** The written value of an operation, if it wrote (or may have written) one. */
function writtenValue(op: RecordedOperation): string | undefined {
  if (op.input.kind === 'put') return op.input.value;
  if (op.input.kind === 'cas' && !(op.outcome === 'ok' && op.output?.kind === 'cas' && !op.output.swapped)) return op.input.value;
  return undefined;
}

function acknowledged(op: RecordedOperation): boolean {
  if (op.outcome !== 'ok') return false;
  return op.output?.kind === 'put' || (op.output?.kind === 'cas' && op.output.swapped);
}

/**
 * The lost-write check over the history and the final reads. Every value is written once, so the
 * final value names its writer w; an acknowledged write v of the same key invoked after w had
 * returned comes after w in every linearization, and precedes the final read, so a final value
 * written by w means v was lost.
 */
export function lostWrites(history: ChaosHistory, finals: ReadonlyMap<string, RecordedOperation | undefined>): LostWrites {
  const writers = new Map<string, RecordedOperation>();
  const byKey = new Map<string, RecordedOperation[]>();
  for (const op of history.operations) {
    if (op.outcome === 'fail') continue;
    const value = writtenValue(op);
    if (value === undefined) continue;
    writers.set(`${op.input.key}\u0000${value}`, op);
    let ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, (ops = []));
    ops.push(op);
  }
  let lost = 0;
  const unreadKeys: string[] = [];
  const unexplained: { key: string; value: string }[] = [];
  const examples: { key: string; value: string; finalValue: string }[] = [];
  for (const [key, read] of finals) {
    const writes = (byKey.get(key) ?? []).filter(acknowledged);
    if (read === undefined || read.output?.kind !== 'get') {
      if (writes.length > 0) unreadKeys.push(key);
      continue;
    }
    const finalValue = read.output.value;
    const writer = finalValue === '' ? undefined : writers.get(`${key}\u0000${finalValue}`);
    if (finalValue !== '' && writer === undefined) {
      unexplained.push({ key, value: finalValue });
      continue;
    }
    for (const write of writes) {
      // Absent (nothing deletes): every acknowledged write is gone; else those invoked after the final writer returned.
      const gone = writer === undefined || (writer.returned !== undefined && writer.outcome === 'ok' && writer.returned < write.call);
      if (!gone) continue;
      lost++;
      if (examples.length < 20) examples.push({ key, value: writtenValue(write)!, finalValue });
    }
  }
  return { lost, unreadKeys, unexplained, examples };
}

/** Whether every node ended in the same state. */
export interface Convergence {
  readonly converged: boolean;
  /** The applied index all nodes reached, when they did. */
  readonly appliedIndex: number | undefined;
  /** Per node: its applied index and the digest of its keys (absent: it did not answer). */
  readonly nodes: Record<string, { appliedIndex: number; commitIndex: number; digest: string } | null>;
  /** Why not, when not. */
  readonly problem: string | undefined;
}

async function staleRead(clientUrl: string, key: string): Promise<{ value: string | null; index: number } | undefined> {
  try {
    const response = await fetch(`${clientUrl}/v1/kv/${encodeURIComponent(key)}?consistency=stale`, { signal: AbortSignal.timeout(2000) });
    if (response.status === 404) {
      await response.arrayBuffer();
      return { value: null, index: 0 };
    }
    if (!response.ok) {
      await response.arrayBuffer();
      return undefined;
    }
    const body = (await response.json()) as { value?: unknown; index?: unknown };
    return typeof body.value === 'string' && typeof body.index === 'number' ? { value: body.value, index: body.index } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits (until `deadline`) for every node to apply everything committed, the same applied index
 * on all, then compares their keys; the applied index is checked again after the reads, so the
 * comparison is of one state.
 */
export async function convergence(nodes: ReadonlyMap<string, string>, keys: readonly string[], deadline: number): Promise<Convergence> {
  let last: Convergence = { converged: false, appliedIndex: undefined, nodes: {}, problem: 'no node answered' };
  while (performance.now() < deadline) {
    const statuses = new Map<string, NodeStatus | undefined>();
    await Promise.all([...nodes].map(async ([id, url]) => statuses.set(id, await fetchStatus(url, 2000))));
    const answered = [...statuses.values()].filter((status): status is NodeStatus => status !== undefined);
    const applied = new Set(answered.map((status) => status.appliedIndex));
    const settled = answered.length === nodes.size && applied.size === 1 && answered.every((status) => status.commitIndex === status.appliedIndex);
    if (!settled) {
      last = {
        converged: false,
        appliedIndex: undefined,
        nodes: Object.fromEntries([...statuses].map(([id, status]) => [id, status === undefined ? null : { appliedIndex: status.appliedIndex, commitIndex: status.commitIndex, digest: '' }])),
        problem: answered.length < nodes.size ? `${nodes.size - answered.length} node(s) did not answer` : 'applied indexes differ, or a node has not applied all it knows committed',
      };
      await sleep(300);
      continue;
    }
    const appliedIndex = answered[0]!.appliedIndex;
    const digests = new Map<string, string>();
    let complete = true;
    await Promise.all(
      [...nodes].map(async ([id, url]) => {
        const values = new Map<string, { value: string | null; index: number }>();
        await inPool(keys, 16, async (key) => {
          const read = await staleRead(url, key);
          if (read === undefined) complete = false;
          else values.set(key, read);
        });
        const hash = createHash('sha256');
        for (const key of keys) hash.update(`${JSON.stringify([key, values.get(key)?.value, values.get(key)?.index])}\n`);
        digests.set(id, hash.digest('hex').slice(0, 16));
      }),
    );
    const after = await Promise.all([...nodes].map(async ([, url]) => (await fetchStatus(url, 2000))?.appliedIndex));
    if (!complete || after.some((index) => index !== appliedIndex)) {
      await sleep(300);
      continue;
    }
    const distinct = new Set(digests.values());
    const perNode = Object.fromEntries([...statuses].map(([id, status]) => [id, { appliedIndex: status!.appliedIndex, commitIndex: status!.commitIndex, digest: digests.get(id)! }]));
    return { converged: distinct.size === 1, appliedIndex, nodes: perNode, problem: distinct.size === 1 ? undefined : 'nodes at the same applied index hold different values' };
  }
  return last;
}
