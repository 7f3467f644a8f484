/**
 * `greenraft sim --scenario NAME`: scripted scenarios instead of seeded simulations. The one there
 * is, `paper-elections`, reproduces the shape of the paper's Tables 3–4: who wins 200 leader
 * elections in the 30-node market of Tables 1–2, under classic and under weighted Raft.
 */
import { type ElectionCounts, type PaperElectionsResult, paperElections } from '@greenraft/simulation';
import type { SimArguments } from './sim-args.js';

/**
 * The `--json` output of `paper-elections`: exactly `{"classic":{"<nodeId>":count,…},"weighted":{…}}`,
 * every node listed in id order.
 */
export function formatElectionsJson(result: PaperElectionsResult): string {
  return JSON.stringify({ classic: result.classic, weighted: result.weighted });
}

function row(label: string, ids: readonly string[], counts: ElectionCounts): string {
  return `${label.padEnd(16)}${ids.map((id) => String(counts[id] ?? 0).padStart(5)).join('')}`;
}

/** The readable output of `paper-elections`: the paper's two tables, nodes 1–15 then 16–30. */
export function formatElectionsTable(result: PaperElectionsResult, elections: number): string {
  const ids = Object.keys(result.classic);
  const halves = [ids.slice(0, Math.ceil(ids.length / 2)), ids.slice(Math.ceil(ids.length / 2))];
  const lines = [`greenraft sim --scenario paper-elections: leader elections won per node, ${elections} elections per policy`];
  halves.forEach((half, position) => {
    lines.push('', `Table ${3 + position}`, row('Node number', half, Object.fromEntries(half.map((id) => [id, Number(id)]))));
    lines.push(row('Classic Raft', half, result.classic), row('Weighted Raft', half, result.weighted));
  });
  return lines.join('\n');
}

/** Runs the scenario `args.scenario` and prints its result; returns the exit code. */
export function runScenario(args: SimArguments): number {
  const result = paperElections({ elections: args.elections, seed: args.seedStart });
  process.stdout.write(`${args.json ? formatElectionsJson(result) : formatElectionsTable(result, args.elections)}\n`);
  return 0;
}
