/**
 * `greenraft sim`: deterministic whole-cluster simulations with a nemesis and Raft's safety
 * checkers, spread over worker threads; prints a summary, or one JSON object with `--json`.
 */
import { InvalidArgumentError } from '@greenraft/consensus';
import { type SimulationInit, type SimulationResult, runSimulation, summarizeRuns } from '@greenraft/simulation';
import { SIM_USAGE, type SimArguments, parseSimArguments } from './sim-args.js';
import { createProgress, formatJsonSummary, formatTextSummary } from './sim-report.js';
import { runScenario } from './sim-scenario.js';
import { isSimWorker, runSeedsInWorkers, serveSimWorker } from './sim-workers.js';

export async function run(argv: string[]): Promise<number> {
  if (isSimWorker()) return serveSimWorker();
  let args: SimArguments;
  try {
    const parsed = parseSimArguments(argv);
    if (parsed === 'help') {
      console.log(SIM_USAGE);
      return 0;
    }
    args = parsed;
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    console.error(`greenraft sim: ${error.message}\nRun 'greenraft sim --help' for the options.`);
    return 2;
  }

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
