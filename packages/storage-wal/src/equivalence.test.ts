/**
 * The write-ahead log must mean exactly what the memory store means: random sequences of saves
 * (appends, overwrites, snapshots that keep or drop the log, hard states, invalid batches),
 * compactions and reopenings give the same accepted/refused outcome and the same loaded state on
 * both, on small segments so that batches cross segment boundaries and old segments get deleted.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError, configuration } from '@greenraft/consensus';
import type { LogEntry, PersistentState, Storage, StorageBatch } from '@greenraft/consensus';
import { type MemoryStorage, memoryStorage } from '@greenraft/raft';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { type WalStorage, walStorage } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-equivalence-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const RUNS = Number(process.env.GREENRAFT_WAL_EQUIVALENCE_RUNS ?? 60);

type Op =
  | { readonly kind: 'append'; readonly count: number; readonly bumpTerm: boolean; readonly config: boolean; readonly size: number }
  | { readonly kind: 'overwrite'; readonly percent: number; readonly count: number }
  | { readonly kind: 'snapshot'; readonly percent: number; readonly agree: boolean; readonly entries: number }
  | { readonly kind: 'compact'; readonly percent: number }
  | { readonly kind: 'hardState'; readonly termStep: number; readonly vote: boolean }
  | { readonly kind: 'invalid'; readonly flavour: number }
  | { readonly kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 12 }), bumpTerm: fc.boolean(), config: fc.boolean(), size: fc.integer({ min: 0, max: 700 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('overwrite' as const), percent: fc.integer({ min: 0, max: 100 }), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), percent: fc.integer({ min: 0, max: 130 }), agree: fc.boolean(), entries: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), percent: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hardState' as const), termStep: fc.integer({ min: -1, max: 2 }), vote: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invalid' as const), flavour: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

const data = (index: number, term: number, size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (index * 31 + term * 7 + i) & 0xff);
const entry = (index: number, term: number, size: number, config = false): LogEntry =>
  config
    ? { type: 'config', index, term, config: { incoming: configuration({ a: 1 + (index % 3), b: 1 }, index % 2 === 0 ? ['c'] : []), outgoing: configuration(['a', 'b', 'c']) } }
    : { type: 'normal', index, term, data: data(index, term, size) };
const run = (from: number, count: number, term: number, size = 16): LogEntry[] => Array.from({ length: count }, (_, i) => entry(from + i, term, size));

/** Turns an abstract operation into a batch against the model's current state. */
function batchFor(model: MemoryStorage, state: PersistentState, op: Op, maxTerm: number): StorageBatch | undefined {
  const last = model.lastIndex;
  const snapshotIndex = state.snapshot?.metadata.index ?? 0;
  const lastTerm = state.entries.at(-1)?.term ?? state.snapshot?.metadata.term ?? 0;
  switch (op.kind) {
    case 'append': {
      const term = op.bumpTerm ? maxTerm + 1 : Math.max(lastTerm, 1);
      return { entries: Array.from({ length: op.count }, (_, i) => entry(last + 1 + i, term, op.size, op.config && i === 0)) };
    }
    case 'overwrite': {
      const from = snapshotIndex + 1 + Math.floor((op.percent / 100) * Math.max(0, last - snapshotIndex));
      return { entries: run(from, op.count, maxTerm + 1) };
    }
    case 'snapshot': {
      const index = Math.max(snapshotIndex, Math.floor((op.percent / 100) * last));
      const stored = state.entries.find((e) => e.index === index)?.term ?? (index === snapshotIndex ? state.snapshot?.metadata.term : undefined);
      const term = op.agree && stored !== undefined ? stored : maxTerm + 1;
      const snapshot = { metadata: { index, term, config: { incoming: configuration({ a: 3, b: 1 }, ['d']) } }, data: data(index, term, 100 + (index % 50)) };
      return op.entries > 0 ? { snapshot, entries: run(index + 1, op.entries, term), hardState: { term: Math.max(term, maxTerm), vote: 'a', commit: index } } : { snapshot };
    }
    case 'hardState':
      return { hardState: { term: Math.max(0, maxTerm + op.termStep), vote: op.vote ? 'b' : undefined, commit: Math.max(0, last - 1) } };
    case 'invalid':
      return [
        { entries: run(last + 2, 2, maxTerm) }, // a gap
        { entries: [entry(last + 1, maxTerm, 4), entry(last + 3, maxTerm, 4)] }, // not contiguous
        { entries: [entry(last + 1, maxTerm + 2, 4), entry(last + 2, maxTerm + 1, 4)] }, // term goes down
        { hardState: { term: -1, vote: undefined, commit: 0 } },
      ][op.flavour];
    default:
      return undefined;
  }
}

const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof StorageError ? 'StorageError' : `unexpected ${String(error)}`),
  );

const comparable = (state: PersistentState): unknown => ({
  hardState: state.hardState,
  snapshot: state.snapshot && { metadata: state.snapshot.metadata, data: [...state.snapshot.data] },
  entries: state.entries.map((e) => (e.type === 'normal' ? { ...e, data: [...e.data] } : e)),
});

let runs = 0;
it('behaves exactly as the memory store under random saves, compactions and reopenings', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30, size: 'max' }), fc.boolean(), async (ops, withCache) => {
      const directory = join(root, `run-${++runs}`);
      const init = { directory, segmentBytes: 4096, cacheBytes: withCache ? 2048 : 0 };
      const model = memoryStorage();
      let wal: WalStorage = await walStorage(init);
      try {
        let maxTerm = 1;
        for (const step of ops) {
          if (step.kind === 'reopen') {
            // A clean close and reopen keeps everything, entries not yet compacted included: the model stays as it is.
            await wal.close();
            wal = await walStorage(init);
          } else if (step.kind === 'compact') {
            const state = await model.load();
            const index = Math.floor((step.percent / 100) * (state.snapshot?.metadata.index ?? 3));
            expect(await outcome(wal.compact(index)), `compact(${index})`).toBe(await outcome(model.compact(index)));
          } else {
            const batch = batchFor(model, await model.load(), step, maxTerm)!;
            const expected = await outcome(model.save(batch));
            expect(await outcome(wal.save(batch)), JSON.stringify(step)).toBe(expected);
            if (expected === 'ok') {
              for (const e of batch.entries ?? []) maxTerm = Math.max(maxTerm, e.term);
              maxTerm = Math.max(maxTerm, batch.hardState?.term ?? 0, batch.snapshot?.metadata.term ?? 0);
            }
          }
          expect([wal.firstIndex, wal.lastIndex]).toEqual([model.firstIndex, model.lastIndex]);
          expect(comparable(await wal.load())).toEqual(comparable(await model.load()));
        }
        await wal.close();
        // Whatever the history, a last reopen finds the same state, and no segment is kept that the log does not need.
        wal = await walStorage(init);
        expect(comparable(await wal.load())).toEqual(comparable(await model.load()));
        expect(wal.recovery.tornTail).toBeUndefined();
        const files = readdirSync(directory).filter((name) => name.endsWith('.snap'));
        expect(files.length).toBe((await model.load()).snapshot === undefined ? 0 : 1);
      } finally {
        await wal.close();
        await (model as Storage).close();
        rmSync(directory, { recursive: true, force: true });
      }
    }),
    { numRuns: RUNS },
  );
});
