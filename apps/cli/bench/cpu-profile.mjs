// Where a CPU profile's time went: reads the .cpuprofile files `node --cpu-prof` writes and
// prints, per process, the share of the samples in garbage collection, idle and the rest, the
// share of each package (by the file a function lives in, self time only) and the functions with
// the most self time. `docs/benchmarks.md` ("Where the time went") quotes its output.
//
// Run, from the repository root, after `npm run build`:
//   node --cpu-prof --cpu-prof-dir=/tmp/greenraft-prof apps/cli/dist/bin.js bench --suite memory --only 'memory 3 nodes classic c1024' --seconds 5
//   node apps/cli/bench/cpu-profile.mjs /tmp/greenraft-prof
//   node apps/cli/bench/cpu-profile.mjs --without measureApplyRate,measureMemoryRoundTrip /tmp/greenraft-prof
// Options: --top N (functions listed, default 15); --without F,G (leave out the samples taken inside
// these functions, e.g. the limits the bench measures before its suites); --json (one object per
// profile, one per line). Each file is named by the process that wrote it (CPU.date.time.PID.…);
// `greenraft bench --suite cluster` logs the pids of its nodes and its client process.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The pseudo-functions V8 puts in a profile for time spent outside JavaScript. */
const SPECIAL = { '(garbage collector)': 'gc', '(idle)': 'idle', '(program)': 'program', '(root)': 'program' };

/** Where a function lives, as a short name: the workspace package, the npm package, Node.js itself, or V8. */
function placeOf(url) {
  if (url === '') return 'V8 and native code';
  if (url.startsWith('node:')) return 'Node.js (node:*)';
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(url);
  const npm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  // A dependency installed under a workspace package is that dependency, not the package.
  if (npm !== null && (workspace === null || url.lastIndexOf('/node_modules/') > url.lastIndexOf(`/${workspace[1]}/`))) return npm[1];
  if (workspace !== null) return `@greenraft/${workspace[2]}`;
  return url.replace(/^file:\/\//, '');
}

/** The summary of one parsed profile: sample shares by kind, by place and by function, leaving out the samples inside `without`. */
function summarize(profile, top = 15, without = new Set()) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const left = new Map();
  const leftOut = (id) => {
    if (id === undefined) return false;
    let answer = left.get(id);
    if (answer === undefined) {
      answer = without.has(byId.get(id).callFrame.functionName) || leftOut(parents.get(id));
      left.set(id, answer);
    }
    return answer;
  };
  const counts = new Map();
  let omitted = 0;
  for (const id of profile.samples) {
    if (leftOut(id)) omitted++;
    else counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const total = profile.samples.length - omitted;
  const kinds = { gc: 0, idle: 0, program: 0, javascript: 0 };
  const places = new Map();
  const functions = new Map();
  for (const [id, count] of counts) {
    const { callFrame } = byId.get(id);
    const special = SPECIAL[callFrame.functionName];
    if (special !== undefined) {
      kinds[special] += count;
      continue;
    }
    kinds.javascript += count;
    const place = placeOf(callFrame.url);
    places.set(place, (places.get(place) ?? 0) + count);
    const name = callFrame.functionName === '' ? '(anonymous)' : callFrame.functionName;
    const key = `${name}\u0000${callFrame.url}\u0000${callFrame.lineNumber}`;
    const entry = functions.get(key) ?? { name, place, line: callFrame.lineNumber + 1, samples: 0 };
    entry.samples += count;
    functions.set(key, entry);
  }
  const share = (count) => (total === 0 ? 0 : count / total);
  const busy = total - kinds.idle;
  return {
    samples: total,
    omitted,
    seconds: (profile.endTime - profile.startTime) / 1e6,
    busy: share(busy),
    gc: share(kinds.gc),
    idle: share(kinds.idle),
    program: share(kinds.program),
    javascript: share(kinds.javascript),
    // Shares of the busy samples as well, so a mostly idle process still shows where its work went.
    places: [...places].sort((a, b) => b[1] - a[1]).map(([place, count]) => ({ place, share: share(count), ofBusy: busy === 0 ? 0 : count / busy })),
    functions: [...functions.values()]
      .sort((a, b) => b.samples - a.samples)
      .slice(0, top)
      .map((entry) => ({ ...entry, share: share(entry.samples), ofBusy: busy === 0 ? 0 : entry.samples / busy })),
  };
}

/** The .cpuprofile files of the paths given: files as they are, directories by their contents, in name order. */
function profileFiles(paths) {
  return paths.flatMap((path) =>
    statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((name) => name.endsWith('.cpuprofile'))
          .sort()
          .map((name) => join(path, name))
      : [path],
  );
}

const percent = (value) => `${(100 * value).toFixed(1)} %`.padStart(7);

function print(file, summary) {
  const pid = /^CPU\.\d+\.\d+\.(\d+)\./.exec(basename(file))?.[1];
  const lines = [
    `${file}: ${pid === undefined ? 'a process' : `process ${pid}`}, ${summary.samples} samples over ${summary.seconds.toFixed(1)} s${summary.omitted === 0 ? '' : ` (${summary.omitted} more left out)`}`,
    `  busy ${percent(summary.busy)}   idle ${percent(summary.idle)}   garbage collector ${percent(summary.gc)}   (program) ${percent(summary.program)}   JavaScript ${percent(summary.javascript)}`,
    '  self time by place (share of all samples, of the busy ones):',
    ...summary.places.slice(0, 12).map((entry) => `  ${percent(entry.share)} ${percent(entry.ofBusy)}  ${entry.place}`),
    '  functions with the most self time:',
    ...summary.functions.map((entry) => `  ${percent(entry.share)} ${percent(entry.ofBusy)}  ${entry.name}  ${entry.place}:${entry.line}`),
  ];
  console.log(lines.join('\n'));
}

function main(argv) {
  let top = 15;
  let json = false;
  let without = new Set();
  const paths = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--top') {
      top = Number(argv[++i]);
      if (!Number.isInteger(top) || top < 1) throw new Error('--top takes a whole number of functions');
    } else if (arg === '--without') {
      const names = argv[++i];
      if (names === undefined || names.startsWith('--')) throw new Error('--without takes a comma list of function names');
      without = new Set(names.split(',').map((name) => name.trim()));
    } else paths.push(arg);
  }
  if (paths.length === 0) throw new Error('usage: node apps/cli/bench/cpu-profile.mjs [--top N] [--without F,G] [--json] PROFILE_OR_DIRECTORY...');
  const files = profileFiles(paths);
  if (files.length === 0) throw new Error(`no .cpuprofile file in ${paths.join(', ')}`);
  for (const [i, file] of files.entries()) {
    const summary = summarize(JSON.parse(readFileSync(file, 'utf8')), top, without);
    if (json) console.log(JSON.stringify({ file, ...summary }));
    else {
      if (i > 0) console.log('');
      print(file, summary);
    }
  }
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`cpu-profile: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
