/** The progress display of `greenraft paper`: a bar redrawn in place on a terminal, a line per step elsewhere. */
import type { PaperProgress } from '@greenraft/simulation';
import cliProgress from 'cli-progress';

/** Shows a reproduction's progress. */
export interface ProgressDisplay {
  update(progress: PaperProgress): void;
  /** Ends the display (the bar stays on its line, complete or not). */
  stop(): void;
}

/**
 * A `cli-progress` bar on `stream` when it is a terminal; otherwise one plain line per step, so a
 * log shows what ran without a line per round.
 */
export function progressDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  if (stream.isTTY !== true) {
    let step = '';
    return {
      update(progress) {
        if (progress.step === step) return;
        step = progress.step;
        stream.write(`greenraft paper: ${step}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: 'greenraft paper {bar} {percentage}% | {step}', barsize: 30, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      if (!started) {
        bar.start(progress.total, progress.done, { step: progress.step });
        started = true;
      } else bar.update(progress.done, { step: progress.step });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
