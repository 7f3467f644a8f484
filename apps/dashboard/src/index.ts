/**
 * The Node side of the greenraft dashboard, for `greenraft dashboard` and `greenraft cluster`:
 * `serveDashboard` serves the built page (and, for a supervisor of node processes, the control
 * API beside it), and `marketRounds` runs trading rounds on a live market cluster whose nodes
 * sign their own transactions.
 *
 * @example
 * ```ts
 * import { serveDashboard } from '@greenraft/dashboard';
 *
 * const server = await serveDashboard({ port: 0, config: { mode: 'live', endpoints: ['http://127.0.0.1:7101'] } });
 * console.log(`dashboard at ${server.url}`);
 * await server.close();
 * ```
 *
 * @packageDocumentation
 */
export { BUILT_PAGE, type DashboardPageConfig, type DashboardServer, type ServeDashboardInit, serveDashboard } from './serve.js';
export type { AutoRounds, DashboardControl } from './control/api.js';
export { CONTROL_PATH, type ControlDescription } from './control/protocol.js';
export {
  type ControlBackend,
  ControlFailedError,
  type ControlName,
  type RoundResult,
  SCORING_CHOICES,
  type ScoringChoice,
  type TradeInit,
  type TradeResult,
  UnsupportedControlError,
} from './sources/source.js';
export { type MarketRounds, type MarketRoundsInit, type RoundOutcome, marketRoster, marketRounds, roundViewOfReceipt } from './sources/live/market-rounds.js';
export type { Participant, RoundView } from './model/events.js';
