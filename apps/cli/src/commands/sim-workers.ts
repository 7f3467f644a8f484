/**
 * Spreads the seeds of `greenraft sim` over worker threads. Each worker runs one seed at a time and
 * asks for the next, so slow seeds do not leave a thread idle; the caller merges the results in seed
 * order, which makes the output the same for any number of workers.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type SimulationInit, type SimulationResult, runSimulation } from '@greenraft/simulation';

/** What the parent hands a worker thread. */
interface SimWorkerData {
  readonly kind: 'greenraft-sim-worker';
  readonly init: Omit<SimulationInit, 'seed'>;
}

/** True inside a worker thread started by {@link runSeedsInWorkers}. */
export function isSimWorker(): boolean {
  return !isMainThread && (workerData as SimWorkerData | undefined)?.kind === 'greenraft-sim-worker';
}

/** The body of a worker thread: run each seed the parent sends, post back its result. */
export async function serveSimWorker(): Promise<number> {
  const { init } = workerData as SimWorkerData;
  const port = parentPort!;
  port.on('message', (seed: number) => {
    runSimulation({ ...init, seed }).then(
      (result) => port.postMessage(result),
      (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
  return 0;
}

/** Options of {@link runSeedsInWorkers}. */
export interface SeedPoolInit {
  /** The module a worker thread starts from: the built CLI (it routes `sim` to {@link serveSimWorker}). */
  readonly entry: URL;
  readonly init: Omit<SimulationInit, 'seed'>;
  readonly seeds: readonly number[];
  readonly workers: number;
  /** Called as each run finishes (in completion order). */
  readonly onResult: (result: SimulationResult) => void;
}

/** Runs every seed on `workers` threads; resolves with the results in completion order. */
export function runSeedsInWorkers(pool: SeedPoolInit): Promise<SimulationResult[]> {
  // The next seed to hand out: an index, since shifting a queue of millions of seeds is quadratic.
  let next = 0;
  const results: SimulationResult[] = [];
  const threads: Worker[] = [];
  return new Promise<SimulationResult[]>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const thread of threads) void thread.terminate();
      if (error) reject(error);
      else resolve(results);
    };
    const count = Math.max(1, Math.min(pool.workers, pool.seeds.length));
    for (let i = 0; i < count; i++) {
      const thread = new Worker(pool.entry, {
        argv: ['sim'],
        workerData: { kind: 'greenraft-sim-worker', init: pool.init } satisfies SimWorkerData,
      });
      threads.push(thread);
      thread.on('message', (message: SimulationResult | { error: string }) => {
        if ('error' in message) return finish(new Error(message.error));
        results.push(message);
        pool.onResult(message);
        if (results.length === pool.seeds.length) return finish();
        if (next < pool.seeds.length) thread.postMessage(pool.seeds[next++]);
      });
      thread.on('error', (error) => finish(error));
      thread.on('exit', (code) => {
        if (!settled && code !== 0) finish(new Error(`a simulation worker exited with code ${code}`));
      });
      thread.postMessage(pool.seeds[next++]);
    }
  });
}
