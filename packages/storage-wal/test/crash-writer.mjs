// The crash test's writer: opens the store in DIRECTORY (built code, dist/), then saves batches
// forever, several at once (so group commit coalesces them), with overwrites, hard states,
// snapshots and compactions, and prints one line per event with a synchronous write, so that
// every line printed before a SIGKILL reaches the test:
//   ready LAST              opened; LAST is the last index found
//   save ID DESCRIPTION     about to call save (workload.mjs describes the batch)
//   compact ID INDEX        about to call compact
//   ack ID                  that call resolved: durable
//   sync FILE OFFSET        FILE is durable up to OFFSET
// Usage: node crash-writer.mjs DIRECTORY SEED SEGMENT_BYTES (GREENRAFT_WAL_FAILPOINT applies).
import { writeSync } from 'node:fs';
import { basename } from 'node:path';
import { walStorage } from '../dist/index.js';
import { batchFrom, prng } from './workload.mjs';

const [directory, seedText, segmentText] = process.argv.slice(2);
const out = (line) => writeSync(1, `${line}\n`);
const random = prng(Number(seedText));
const between = (low, high) => low + Math.floor(random() * (high - low + 1));

const storage = await walStorage({ directory, segmentBytes: Number(segmentText), cacheBytes: 8192, onSync: ({ file, offset }) => out(`sync ${basename(file)} ${offset}`) });
const state = await storage.load();
// The writer's own view of the log it has written (acknowledged or not): terms since the snapshot.
let snapshotIndex = state.snapshot?.metadata.index ?? 0;
const terms = new Map(state.entries.map((entry) => [entry.index, entry.term]));
if (state.snapshot) terms.set(snapshotIndex, state.snapshot.metadata.term);
let last = storage.lastIndex;
let term = Math.max(state.hardState.term, state.entries.at(-1)?.term ?? 0, state.snapshot?.metadata.term ?? 0, 1);
let commit = state.hardState.commit;
out(`ready ${last}`);

let id = 0;
const issue = (line, call) => {
  const mine = id++;
  out(line(mine));
  return call().then(() => out(`ack ${mine}`));
};

for (;;) {
  const pending = [];
  for (let concurrent = between(1, 4); concurrent > 0; concurrent--) {
    const roll = random();
    const description = {};
    if (roll < 0.7 || last === snapshotIndex || last === 0) {
      const first = last + 1;
      description.e = [];
      for (let i = 0, count = between(1, 30); i < count; i++) description.e.push([first + i, term, random() < 0.03 ? -1 : between(0, 300)]);
    } else if (roll < 0.8) {
      // A new leader overwrites a suffix: truncation without rewriting the log.
      term++;
      const first = between(snapshotIndex + 1, last);
      description.e = [];
      for (let i = 0, count = between(1, 5); i < count; i++) description.e.push([first + i, term, between(0, 200)]);
    } else if (roll < 0.9) {
      if (random() < 0.3) term++;
      commit = Math.max(commit, between(snapshotIndex, last));
      description.h = [term, random() < 0.5 ? 'b' : null, commit];
    } else {
      // A snapshot of the log as the writer wrote it: at an index it holds, with that entry's term.
      const index = between(Math.max(snapshotIndex, 1), last);
      description.s = [index, terms.get(index), between(0, 20_000)];
    }
    if (description.e) {
      for (const [index] of description.e) if (index <= last) for (let i = index; i <= last; i++) terms.delete(i);
      for (const [index, entryTerm] of description.e) terms.set(index, entryTerm);
      last = description.e.at(-1)[0];
    }
    if (description.s) {
      snapshotIndex = description.s[0];
      for (const index of terms.keys()) if (index < snapshotIndex) terms.delete(index);
    }
    const batch = batchFrom(description);
    pending.push(issue((mine) => `save ${mine} ${JSON.stringify(description)}`, () => storage.save(batch)));
    if (description.s) pending.push(issue((mine) => `compact ${mine} ${snapshotIndex}`, () => storage.compact(snapshotIndex)));
  }
  await Promise.all(pending);
}
