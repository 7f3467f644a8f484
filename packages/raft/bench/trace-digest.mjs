#!/usr/bin/env node
// Trace digests of the deterministic simulation: one SHA-256 per seed over the whole trace of a run
// (every Ready every core hands out — soft and hard state, entries, committed entries, messages,
// snapshots, read states, commit quorums — plus the run's elected/applied events and its result).
// Two trees whose digests agree on the same seeds behave identically on those runs: this is how a
// refactoring of the engine is shown to change no behaviour.
//
// It bundles the sources of a tree (no build needed), so it can run against another checkout, e.g.
// a git worktree of an older commit:
//   node packages/raft/bench/trace-digest.mjs [--root DIR] [--package NAME=DIR ...] [--nodes 3,5]
//        [--seeds 300] [--seed-start 1] [--steps 2000] [--nemesis all] [--policy classic] [--out FILE]
//   node packages/raft/bench/trace-digest.mjs --compare A.txt B.txt
// --root picks the tree every @greenraft package comes from (default: this repository);
// --package raft=DIR takes one package from another tree instead, to tell whose change moved a digest.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const repository = resolve(here, '../../..');

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: repository },
    package: { type: 'string', multiple: true, default: [] },
    nodes: { type: 'string', default: '3,5' },
    seeds: { type: 'string', default: '300' },
    'seed-start': { type: 'string', default: '1' },
    steps: { type: 'string', default: '2000' },
    nemesis: { type: 'string', default: 'all' },
    policy: { type: 'string', default: 'classic' },
    out: { type: 'string' },
    compare: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

if (values.compare) {
  process.exit(compare(...process.argv.slice(process.argv.indexOf('--compare') + 1, process.argv.indexOf('--compare') + 3)));
}

/** Compares two digest files line by line (same seeds); prints the figures; exit status 1 on any difference. */
function compare(a, b) {
  const read = (file) => new Map(readFileSync(file, 'utf8').split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const [nodes, seed, ...trace] = line.split(' ');
    return [`${nodes} ${seed}`, trace.join(' ')];
  }));
  const left = read(a);
  const right = read(b);
  let same = 0;
  const differ = [];
  for (const [key, digest] of left) {
    if (!right.has(key)) continue;
    if (right.get(key) === digest) same++;
    else differ.push(key);
  }
  const compared = same + differ.length;
  console.log(`compared ${compared} runs: ${same} identical, ${differ.length} different`);
  for (const key of differ.slice(0, 20)) console.log(`  differs: ${key}`);
  return differ.length === 0 && compared > 0 ? 0 : 1;
}

const root = resolve(values.root);
const treeOf = new Map(values.package.map((pair) => {
  const [name, dir] = pair.split('=');
  return [name, resolve(dir)];
}));

// Bundle the tree's sources: @greenraft/<pkg>[/<sub>] → <tree>/packages/<pkg>/src/<sub|index>.ts.
const outdir = mkdtempSync(join(tmpdir(), 'greenraft-trace-'));
const bundle = join(outdir, 'simulation.mjs');
try {
  await build({
    stdin: {
      contents: "export { runSimulation } from '@greenraft/simulation'; export { RaftCore } from '@greenraft/raft';",
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
            const tree = treeOf.get(name) ?? root;
            return { path: join(tree, 'packages', name, 'src', `${sub ?? 'index'}.ts`) };
          });
        },
      },
    ],
  });
  const { runSimulation, RaftCore } = await import(pathToFileURL(bundle).href);
  await run(runSimulation, RaftCore);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}

/** A stable text form of a value: sorted keys, Maps and Sets sorted, bytes as hex, undefined fields left out. */
function canonical(value) {
  if (value === undefined) return 'u';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `b${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Map) return `M{${[...value].map(([k, v]) => `${canonical(k)}:${canonical(v)}`).sort().join(',')}}`;
  if (value instanceof Set) return `S{${[...value].map(canonical).sort().join(',')}}`;
  const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
  return `{${keys.map((key) => `${key}:${canonical(value[key])}`).join(',')}}`;
}

async function run(runSimulation, RaftCore) {
  let hash;
  let readies = 0;
  const ready = RaftCore.prototype.ready;
  // Every Ready any core hands out, whoever asked for it (the Ready loop, or a crash mid-Ready).
  RaftCore.prototype.ready = function tracedReady() {
    const rd = ready.call(this);
    readies++;
    hash?.update(`${this.id} ${this.role} ${this.term} ${this.commitIndex} ${this.lastIndex} ${canonical(rd)}\n`);
    return rd;
  };
  const lines = [];
  // The root relative to this repository, so a recorded file does not name the machine it was made on.
  const header = `# trace digests: root=${relative(repository, root) || '.'}${[...treeOf].map(([name, dir]) => ` ${name}=${dir}`).join('')} nodes=${values.nodes} seeds=${values['seed-start']}..+${values.seeds} steps=${values.steps} nemesis=${values.nemesis} policy=${values.policy}`;
  lines.push(header);
  const started = performance.now();
  let totalReadies = 0;
  for (const nodes of values.nodes.split(',').map(Number)) {
    for (let seed = Number(values['seed-start']); seed < Number(values['seed-start']) + Number(values.seeds); seed++) {
      hash = createHash('sha256');
      readies = 0;
      const result = await runSimulation({
        seed,
        nodes,
        steps: Number(values.steps),
        nemesis: values.nemesis,
        policy: values.policy,
        // The verdict depends on wall-clock time; the trace does not.
        linearizabilityTimeoutMs: 1,
        onEvent: (event) => hash.update(`event ${canonical(event)}\n`),
      });
      const { linearizability: _verdict, ...rest } = result;
      const violation = rest.violation?.property === 'linearizability' ? undefined : rest.violation;
      hash.update(`result ${canonical({ ...rest, violation })}\n`);
      totalReadies += readies;
      const line = `nodes=${nodes} seed=${seed} readies=${readies} digest=${hash.digest('hex').slice(0, 32)}`;
      lines.push(line);
      console.log(line);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = `# ${lines.length - 1} runs, ${totalReadies} readies digested in ${seconds.toFixed(1)} s`;
  lines.push(summary);
  console.log(summary);
  if (values.out) writeFileSync(values.out, `${lines.join('\n')}\n`);
}
