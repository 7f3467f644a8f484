import { integerOption } from '@greenraft/consensus';
import { type SimulationInit, type SimulationResult, type Violation, resolveSimulationInit, runSimulation } from './simulation.js';

/** Options of {@link runSimulations}: one run per seed in `[seedStart, seedStart + seeds)`. */
export interface SimulationBatchInit extends Omit<SimulationInit, 'seed'> {
  /**
   * How many seeds to run.
   * @default 100
   */
  seeds?: number;
  /**
   * The first seed.
   * @default 1
   */
  seedStart?: number;
  /**
   * Stop after the first run that finds a violation (what the checker-proof tests do).
   * @default false
   */
  stopAtFirstViolation?: boolean;
  /** Called after each run, in seed order. */
  onRun?: (result: SimulationResult, done: number, total: number) => void;
}

/**
 * What a batch of runs found: the shape `greenraft sim --json` prints (without the violations' `detail`,
 * which {@link SimulationSummary.violations} keeps).
 */
export interface SimulationSummary {
  /** Runs completed. */
  readonly runs: number;
  /** The first violation of each failing run, by seed. */
  readonly violations: readonly Violation[];
  /** Distinct (term, leader) pairs, summed over runs. */
  readonly elections: number;
  /** Highest committed index of each run, summed over runs. */
  readonly commits: number;
  /** The highest term any node reached in any run. */
  readonly maxTerm: number;
  /** Steps run, summed over runs. */
  readonly steps: number;
  /** True when no run's client history was found not linearizable (a timed-out check counts neither way). */
  readonly linearizable: boolean;
  /** Operations in the checked client histories, summed over runs. */
  readonly historyOps: number;
  /** Runs whose linearizability check ran out of time: neither a pass nor a violation. */
  readonly linearizabilityUnknown: number;
}

/**
 * Merges run results into a summary, in seed order whatever order they came in, so the summary
 * is the same however the runs were spread over workers.
 *
 * @example
 * ```ts
 * const results = await Promise.all([3, 1, 2].map((seed) => runSimulation({ seed, steps: 300 })));
 * summarizeRuns(results).violations; // sorted by seed
 * ```
 */
export function summarizeRuns(results: readonly SimulationResult[]): SimulationSummary {
  const sorted = [...results].sort((a, b) => a.seed - b.seed);
  let elections = 0;
  let commits = 0;
  let maxTerm = 0;
  let steps = 0;
  let historyOps = 0;
  let illegal = 0;
  let unknown = 0;
  const violations: Violation[] = [];
  for (const result of sorted) {
    elections += result.elections;
    commits += result.commits;
    maxTerm = Math.max(maxTerm, result.maxTerm);
    steps += result.steps;
    historyOps += result.historyOps;
    if (result.linearizability === 'illegal') illegal++;
    else if (result.linearizability === 'unknown') unknown++;
    if (result.violation) violations.push(result.violation);
  }
  return { runs: sorted.length, violations, elections, commits, maxTerm, steps, linearizable: illegal === 0, historyOps, linearizabilityUnknown: unknown };
}

/**
 * Runs one simulation per seed, one after another in this thread, and summarises them.
 * Throws `InvalidArgumentError` (from `@greenraft/consensus`) for bad options before running anything.
 *
 * @example
 * ```ts
 * const summary = await runSimulations({ seeds: 20, nodes: 3, steps: 500, nemesis: 'crash,partition' });
 * console.log(summary.violations.length === 0 ? 'all safe' : summary.violations[0]!.replay);
 * ```
 */
export async function runSimulations(init: SimulationBatchInit = {}): Promise<SimulationSummary> {
  const seeds = init.seeds ?? 100;
  const seedStart = init.seedStart ?? 1;
  integerOption('seeds', seeds, { min: 1 });
  const { seeds: _seeds, seedStart: _start, stopAtFirstViolation, onRun, ...runInit } = init;
  // Validate once (including the last seed) so bad options fail before any run.
  resolveSimulationInit({ ...runInit, seed: seedStart });
  resolveSimulationInit({ ...runInit, seed: seedStart + seeds - 1 });
  const results: SimulationResult[] = [];
  for (let seed = seedStart; seed < seedStart + seeds; seed++) {
    const result = await runSimulation({ ...runInit, seed });
    results.push(result);
    onRun?.(result, results.length, seeds);
    if (stopAtFirstViolation && result.violation) break;
  }
  return summarizeRuns(results);
}
