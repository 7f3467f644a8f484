/**
 * The page's controls apart from the DOM: each control as a run that says what it is doing and,
 * when done, what it did to which node; and the one runner that reports a run's outcome, success
 * or failure, on the status line and once in the activity log. The sources only carry controls
 * out; they do not log them, so an outcome is never logged twice.
 */
import { isGreenraftError } from '@greenraft/consensus';
import type { NodeId } from './model/events.js';
import { type ClusterControls, SCORING_CHOICES, type TradeInit } from './sources/source.js';

/** One use of a control. */
export interface ControlRun {
  /** What the status line says while it runs: `Crashing n1`. */
  readonly label: string;
  /** Carries the control out; resolves with what it did, as a sentence for people. */
  run(): Promise<string>;
}

/** How a run stands, for the status line. */
export type RunLevel = 'busy' | 'ok' | 'error';

/** Runs a control and reports its outcome; resolves with whether it succeeded. */
export type RunControl = (run: ControlRun) => Promise<boolean>;

const seconds = (ms: number) => `${ms / 1000} s`;

/** Each control of {@link ClusterControls} as a {@link ControlRun}. */
export const controlRuns = {
  crash: (controls: ClusterControls, node: NodeId): ControlRun => ({
    label: `Crashing ${node}`,
    run: async () => {
      await controls.crash(node);
      return `${node} crashed; its storage is kept.`;
    },
  }),
  restart: (controls: ClusterControls, node: NodeId): ControlRun => ({
    label: `Restarting ${node}`,
    run: async () => {
      await controls.restart(node);
      return `${node} restarted.`;
    },
  }),
  transferLeadership: (controls: ClusterControls, to: NodeId): ControlRun => ({
    label: `Handing leadership to ${to}`,
    run: async () => {
      await controls.transferLeadership(to);
      return `Leadership handed to ${to}.`;
    },
  }),
  partition: (controls: ClusterControls, a: NodeId, b: NodeId): ControlRun => ({
    label: `Cutting ${a} ↔ ${b}`,
    run: async () => {
      await controls.partition(a, b);
      return `The link ${a} ↔ ${b} is cut.`;
    },
  }),
  /** One link when both nodes are named, else every cut link. */
  heal: (controls: ClusterControls, a?: NodeId, b?: NodeId): ControlRun =>
    a === undefined || b === undefined
      ? {
          label: 'Healing every link',
          run: async () => {
            await controls.heal();
            return 'Every link is healed.';
          },
        }
      : {
          label: `Healing ${a} ↔ ${b}`,
          run: async () => {
            await controls.heal(a, b);
            return `The link ${a} ↔ ${b} is healed.`;
          },
        },
  proposeTrade: (controls: ClusterControls, trade: TradeInit): ControlRun => ({
    label: `Proposing ${trade.kWh} kWh from ${trade.seller} to ${trade.buyer}`,
    run: async () => {
      const result = await controls.proposeTrade(trade);
      return `Trade ${result.contractId} is in block ${result.blockHeight} (index ${result.index}): ${trade.seller} sells ${trade.buyer} ${trade.kWh} kWh at ${trade.unitPrice} ¥/kWh.`;
    },
  }),
  runRound: (controls: ClusterControls): ControlRun => ({
    label: 'Running a trading round',
    run: async () => {
      const { round, contracts, index, dropped = 0 } = await controls.runRound();
      return `Round ${round} settled: ${contracts} contracts (index ${index})${dropped > 0 ? `; ${dropped} planned could not be made` : ''}.`;
    },
  }),
  setScoring: (controls: ClusterControls, choice: string): ControlRun => ({
    label: 'Changing the scoring strategy',
    run: async () => {
      await controls.setScoring(choice);
      return `Strategy ${SCORING_CHOICES.find((c) => c.id === choice)?.label ?? choice} is in force; the next epoch scores with it.`;
    },
  }),
  /** `everyMs` 0 pauses the automatic rounds. */
  autoRounds: (setAutoRounds: (everyMs: number) => void | Promise<void>, everyMs: number): ControlRun => ({
    label: everyMs > 0 ? `Starting a trading round every ${seconds(everyMs)}` : 'Pausing the automatic trading rounds',
    run: async () => {
      await setAutoRounds(everyMs);
      return everyMs > 0 ? `A trading round runs every ${seconds(everyMs)}.` : 'The automatic trading rounds are paused.';
    },
  }),
} as const;

/**
 * The runner the page uses: `status` shows a run while it goes and its outcome after; `log` gets
 * the outcome once, the same sentence, `info` for a success and `warn` for a failure.
 */
export function controlRunner(status: (text: string, level: RunLevel) => void, log: (level: 'info' | 'warn', text: string) => void): RunControl {
  return async ({ label, run }) => {
    status(`${label}…`, 'busy');
    let done: string;
    try {
      done = await run();
    } catch (error) {
      const code = isGreenraftError(error) ? ` (${error.code})` : '';
      const text = `${label} failed${code}: ${error instanceof Error ? error.message : String(error)}`;
      status(text, 'error');
      log('warn', text);
      return false;
    }
    status(done, 'ok');
    log('info', done);
    return true;
  };
}
