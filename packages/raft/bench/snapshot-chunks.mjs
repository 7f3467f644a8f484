#!/usr/bin/env node
// InstallSnapshot chunks sent per distinct chunk: how many times the leader sends each chunk of a
// snapshot to a lagging follower, on links that delay, duplicate, reorder and lose messages, break
// mid-transfer or are slower than the retransmission timeout (1.00 = every chunk sent once), and
// over whole simulated clusters under the full nemesis.
//
// It bundles the sources of a tree (no build needed), so it can measure another checkout, e.g. a
// git worktree of an older commit:
//   node packages/raft/bench/snapshot-chunks.mjs [--root DIR] [--package raft=DIR]
//        [--seeds 40] [--nodes 5] [--steps 2000] [--nemesis all]
// --root picks the tree every @greenraft package comes from (default: this repository);
// --package raft=DIR takes one package from another tree instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const repository = resolve(here, '../../..');

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: repository },
    package: { type: 'string', multiple: true, default: [] },
    seeds: { type: 'string', default: '40' },
    nodes: { type: 'string', default: '5' },
    steps: { type: 'string', default: '2000' },
    nemesis: { type: 'string', default: 'all' },
  },
});
const root = resolve(values.root);
/** Past this many chunks per distinct chunk a transfer counts as a runaway and is stopped. */
const RUNAWAY = 50;
const treeOf = new Map(values.package.map((pair) => {
  const [name, dir] = pair.split('=');
  return [name, resolve(dir)];
}));

const outdir = mkdtempSync(join(tmpdir(), 'greenraft-chunks-'));
const bundle = join(outdir, 'bench.mjs');
try {
  await build({
    stdin: {
      contents: [
        "export { coreNetwork, utf8 } from '@greenraft/raft/testing';",
        "export { RaftCore } from '@greenraft/raft';",
        "export { configuration, seededRandom } from '@greenraft/consensus';",
        "export { runSimulation } from '@greenraft/simulation';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    logLevel: 'error',
    nodePaths: [join(repository, 'node_modules')],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    plugins: [
      {
        name: 'greenraft-sources',
        setup(builder) {
          builder.onResolve({ filter: /^@greenraft\// }, ({ path }) => {
            const [, name, sub] = /^@greenraft\/([^/]+)(?:\/(.+))?$/.exec(path);
            return { path: join(treeOf.get(name) ?? root, 'packages', name, 'src', `${sub ?? 'index'}.ts`) };
          });
        },
      },
    ],
  });
  const engine = await import(pathToFileURL(bundle).href);
  console.log(`# snapshot chunks: root=${root}${[...treeOf].map(([name, dir]) => ` ${name}=${dir}`).join('')}`);
  links(engine);
  await simulation(engine);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}

/**
 * A three-node cluster whose leader must send a snapshot of `words` entries to follower 3, over a
 * link (1 ↔ 3, snapshot messages only) that the scenario's `fate` delays, duplicates or loses.
 */
function transfer({ coreNetwork, configuration, utf8 }, { chunkBytes = 16, words = 40, fate, cutAt, cutTicks = 0 }) {
  const net = coreNetwork({ bootstrap: configuration(['1', '2', '3']), options: { snapshotChunkBytes: chunkBytes } });
  net.core('1').campaign();
  net.stabilize();
  net.partition(['1', '2'], ['3']);
  for (let i = 0; i < words; i++) net.core('1').propose(utf8(`meter-${i}: ${i * 1.5} kWh`));
  net.stabilize();
  const snapshot = net.compact('1');
  net.heal();
  const distinct = Math.ceil(snapshot.data.byteLength / chunkBytes);
  const line = [];
  let now = 0;
  let sent = 0;
  let cut = false;
  net.drop((m) => {
    const between = (m.from === '1' && m.to === '3') || (m.from === '3' && m.to === '1');
    if (!between) return false;
    if (m.type === 'snapshotRequest' && ++sent > RUNAWAY * distinct) throw new RangeError('runaway');
    if (cut) {
      line.length = 0;
      return true;
    }
    if (m.type !== 'snapshotRequest' && m.type !== 'snapshotResponse') return false;
    for (const delay of fate(m, now)) line.push({ at: now + delay, message: m });
    return true;
  });
  const installed = () => net.record('3').storage.snapshot?.metadata.index === snapshot.metadata.index;
  try {
    while (!installed()) {
      if (now > 20_000) return { distinct, sent, ticks: now, outcome: 'stuck' };
      now++;
      net.tick('1');
      net.stabilize();
      for (;;) {
        const due = line.filter((item) => item.at <= now);
        if (due.length === 0) break;
        for (const item of due) line.splice(line.indexOf(item), 1);
        for (const { message } of due) net.core(message.to).step(message);
        net.stabilize();
      }
      if (cutAt !== undefined && !cut && sent >= cutAt && cutTicks > 0) {
        cut = true;
        for (let i = 0; i < cutTicks; i++) {
          now++;
          net.tick('1');
          net.stabilize();
        }
        cut = false;
        cutAt = undefined;
      }
    }
  } catch (error) {
    if (error instanceof RangeError) return { distinct, sent, ticks: now, outcome: 'runaway' };
    throw error;
  }
  return { distinct, sent, ticks: now, outcome: 'installed' };
}

function links(engine) {
  const random = engine.seededRandom(7);
  let busyUntil = 0;
  const scenarios = [
    ['instant link', () => [0]],
    ['3-tick link, every answer delivered 3 times', (m) => (m.type === 'snapshotRequest' ? [3] : [3, 4, 6])],
    ['0-4 tick delays, 1-3 copies each way (reordering)', () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.floor(random() * 5))],
    ['1-tick link losing 10% each way', () => (random() < 0.1 ? [] : [1])],
    ['bandwidth-bound link: a chunk every 25 ticks', (m, now) => {
      if (m.type === 'snapshotResponse') return [1];
      busyUntil = Math.max(busyUntil, now) + 25;
      return [busyUntil - now];
    }],
    ['1-tick link, broken for 60 ticks after 6 chunks', () => [1], { cutAt: 6, cutTicks: 60 }],
  ];
  console.log('\nscenario                                              distinct     sent  per chunk   ticks  outcome');
  for (const [name, fate, extra] of scenarios) {
    busyUntil = 0;
    const r = transfer(engine, { fate, ...extra });
    const per = r.outcome === 'runaway' ? `>${RUNAWAY}` : (r.sent / r.distinct).toFixed(2);
    console.log(`${name.padEnd(52)} ${String(r.distinct).padStart(9)} ${String(r.sent).padStart(8)} ${per.padStart(10)} ${String(r.ticks).padStart(7)}  ${r.outcome}`);
  }
}

/** Chunks sent and distinct chunks over whole simulated runs (every leader, every follower, every transfer). */
async function simulation({ runSimulation, RaftCore }) {
  let sent = 0;
  const distinct = new Set();
  const ready = RaftCore.prototype.ready;
  RaftCore.prototype.ready = function countedReady() {
    const rd = ready.call(this);
    // A Ready handed out again before advance repeats its messages: count each message object once.
    for (const m of rd.messages) {
      if (m.type !== 'snapshotRequest' || counted.has(m)) continue;
      counted.add(m);
      sent++;
      distinct.add(`${m.from} ${m.to} ${m.term} ${m.metadata.index} ${m.offset}`);
    }
    return rd;
  };
  let counted = new WeakSet();
  const started = performance.now();
  let violations = 0;
  for (let seed = 1; seed <= Number(values.seeds); seed++) {
    counted = new WeakSet();
    const result = await runSimulation({ seed, nodes: Number(values.nodes), steps: Number(values.steps), nemesis: values.nemesis, linearizabilityTimeoutMs: 1 });
    if (result.violation !== undefined && result.violation.property !== 'linearizability') violations++;
  }
  RaftCore.prototype.ready = ready;
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nsimulation: ${values.seeds} seeds × ${values.steps} steps, ${values.nodes} nodes, nemesis ${values.nemesis}: ${sent} chunks sent for ${distinct.size} distinct (${(sent / Math.max(1, distinct.size)).toFixed(2)} per chunk), ${violations} safety violations, ${seconds.toFixed(1)} s`);
}
