/**
 * `greenraft sim`: deterministic whole-cluster simulations with a nemesis and Raft's safety
 * checkers, spread over worker threads; prints a summary, or one JSON object with `--json`.
 */
import { type SimulationInit, type SimulationResult, runSimulation, summarizeRuns } from '@greenraft/simulation';
import { defineCommand, type ParsedCommandLine } from '../args.js';
import { checkSimArguments, type SimArguments, simSpec } from './sim-args.js';
import { createProgress, formatJsonSummary, formatTextSummary } from './sim-report.js';
import { runScenario } from './sim-scenario.js';
import { isSimWorker, runSeedsInWorkers, serveSimWorker } from './sim-workers.js';

/** Runs `greenraft sim`; resolves with the exit code. */
export async function runSim({ options }: ParsedCommandLine<typeof simSpec.options>): Promise<number> {
  if (isSimWorker()) return serveSimWorker();
  const args: SimArguments = checkSimArguments(options);

  if (args.scenario !== undefined) return runScenario(args);
  const init: Omit<SimulationInit, 'seed'> = {
    nodes: args.nodes,
    steps: args.steps,
    nemesis: args.nemesis,
    ...(args.injectBug === undefined ? {} : { bug: args.injectBug }),
    ...(args.policy === 'weighted' ? { policy: args.policy, scoring: args.scoring, epoch: args.epoch } : {}),
  };
  const seeds = Array.from({ length: args.seeds }, (_, i) => args.seedStart + i);
  const progress = args.json ? undefined : createProgress(process.stderr, seeds.length);
  const started = performance.now();
  let results: SimulationResult[];
  // Worker threads start from the built CLI; from sources (tests) the seeds run in this thread.
  const entry = new URL(import.meta.url);
  if (args.workers > 1 && seeds.length > 1 && entry.pathname.endsWith('.js')) {
    results = await runSeedsInWorkers({ entry, init, seeds, workers: args.workers, onResult: (result) => progress?.update(result) });
  } else {
    results = [];
    for (const seed of seeds) {
      const result = await runSimulation({ ...init, seed });
      results.push(result);
      progress?.update(result);
    }
  }
  progress?.done();
  const summary = summarizeRuns(results);
  if (args.json) process.stdout.write(`${formatJsonSummary(summary)}\n`);
  else process.stdout.write(`${formatTextSummary(summary, args, performance.now() - started)}\n`);
  return summary.violations.length === 0 ? 0 : 1;
}

/** `greenraft sim`. */
export const simCommand = defineCommand(simSpec, runSim);
