/**
 * Types and interfaces of greenraft, the weighted Raft consensus SDK for power-trading
 * blockchains: log entries, Raft messages, weighted configurations, the state machine,
 * transport and storage interfaces, the `ConsensusNode` API users program against, and
 * the typed errors every package throws.
 *
 * @example
 * ```ts
 * import { configuration, isGreenraftError, totalWeight } from '@greenraft/consensus';
 *
 * const config = configuration({ a: 3, b: 2, c: 2 });
 * console.log(totalWeight(config)); // 7: any voters weighing 4 or more form a quorum
 *
 * try {
 *   configuration({ a: 0, b: 0 });
 * } catch (err) {
 *   if (isGreenraftError(err, 'CONFIGURATION')) console.log(err.code, err.message);
 *   else throw err;
 * }
 * ```
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './types.js';
export * from './config.js';
export * from './random.js';
export * from './messages.js';
export * from './options.js';
