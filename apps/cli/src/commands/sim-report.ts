/** What `greenraft sim` prints: the JSON contract, the readable summary and the progress display. */
import type { SimulationResult, SimulationSummary } from '@greenraft/simulation';
import type { SimArguments } from './sim-args.js';

/**
 * The `--json` output, exactly `{"runs","violations":[{"seed","property","step","replay"}],"elections","commits","maxTerm",
 * "linearizable","historyOps","linearizabilityUnknown"}`: other tooling parses it, so fields are only ever added at the end,
 * never renamed or removed.
 */
export function formatJsonSummary(summary: SimulationSummary): string {
  return JSON.stringify({
    runs: summary.runs,
    violations: summary.violations.map(({ seed, property, step, replay }) => ({ seed, property, step, replay })),
    elections: summary.elections,
    commits: summary.commits,
    maxTerm: summary.maxTerm,
    linearizable: summary.linearizable,
    historyOps: summary.historyOps,
    linearizabilityUnknown: summary.linearizabilityUnknown,
  });
}

/** The readable summary printed without `--json`. */
export function formatTextSummary(summary: SimulationSummary, args: SimArguments, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const lines = [
    `greenraft sim: ${summary.runs} runs × ${args.steps} steps, ${args.nodes} nodes, nemesis ${args.nemesis}${args.injectBug ? `, injected bug ${args.injectBug}` : ''}${args.policy === 'weighted' ? `, weighted (${args.scoring} scoring, epoch ${args.epoch})` : ''}`,
    `  seeds ${args.seedStart}–${args.seedStart + args.seeds - 1}, ${summary.steps} steps in ${seconds.toFixed(1)} s (${Math.round(summary.steps / Math.max(seconds, 1e-3))} steps/s)`,
    `  ${summary.elections} elections, ${summary.commits} entries committed, highest term ${summary.maxTerm}`,
    `  client histories: ${summary.historyOps} operations, ${summary.linearizable ? 'linearizable' : 'NOT linearizable'}${
      summary.linearizabilityUnknown > 0 ? ` (${summary.linearizabilityUnknown} check${summary.linearizabilityUnknown === 1 ? '' : 's'} timed out)` : ''
    }`,
  ];
  if (summary.violations.length === 0) lines.push('  no violations');
  else {
    lines.push(`  ${summary.violations.length} violation${summary.violations.length === 1 ? '' : 's'}:`);
    for (const violation of summary.violations) {
      lines.push(`  - seed ${violation.seed}, step ${violation.step}: ${violation.property}: ${violation.detail}`);
      lines.push(`    replay: ${violation.replay}`);
    }
  }
  return lines.join('\n');
}

/** Progress of a batch of runs on a stream. */
export interface Progress {
  update(result: SimulationResult): void;
  done(): void;
}

const BAR_WIDTH = 30;
const PLAIN_INTERVAL_MS = 5000;

/**
 * A progress bar redrawn in place when `stream` is a terminal; otherwise a plain line at most
 * every 5 seconds (logs of CI runs stay short).
 */
export function createProgress(stream: NodeJS.WriteStream, total: number, now: () => number = () => performance.now()): Progress {
  let completed = 0;
  let violations = 0;
  let lastPlain = now();
  const line = () => `${completed}/${total} seeds, ${violations} violation${violations === 1 ? '' : 's'}`;
  return {
    update(result) {
      completed++;
      if (result.violation) violations++;
      if (stream.isTTY) {
        const filled = Math.round((completed / total) * BAR_WIDTH);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${line()}`);
      } else if (now() - lastPlain >= PLAIN_INTERVAL_MS) {
        lastPlain = now();
        stream.write(`greenraft sim: ${line()}\n`);
      }
    },
    done() {
      if (stream.isTTY && completed > 0) stream.write('\n');
    },
  };
}
