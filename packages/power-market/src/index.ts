/**
 * The power-trading market of the weighted Raft paper (Xiong, Liu, Qu and Cai, 2023, §2–§4.3)
 * as a deterministic replicated state machine: node registration, day-ahead contracts signed
 * with ed25519, metered delivery, settlement (eq. 26–31), credit weights (eq. 14–17), penalties
 * and their allocation (eq. 32–34), green certificates (eq. 6, 20), carbon settlement
 * (eq. 21–22), line faults (eq. 23), a hash-chained ledger of blocks, and, after every round,
 * the score inputs and vote weights that `@greenraft/weight-scoring` computes from them.
 * {@link settleRound} is the pure settlement of one round; {@link powerMarket} is the state
 * machine to hand to any `ConsensusNode`.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket, toYuan } from '@greenraft/power-market';
 *
 * const market = powerMarket({ initialCreditWeight: 80 });
 * const solar = marketClient({ id: 'solar-farm', keys: generateParticipantKeys() });
 * const mill = marketClient({ id: 'paper-mill', keys: generateParticipantKeys() });
 * market.execute(solar.register({ kind: 'generation', renewable: true }));
 * market.execute(mill.register({ kind: 'consumption' }));
 *
 * // A day-ahead contract: 1200 kWh at 0.60 yuan/kWh, proposed by the farm, accepted by the mill.
 * const { contractId } = market.execute(
 *   solar.proposeContract({ counterparty: 'paper-mill', unitPrice: 0.6, contractedKWh: 1200, deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3) }),
 * );
 * market.execute(mill.acceptContract(contractId!));
 *
 * // Metered delivery: the mill used only 1100 kWh, so it defaults on 100 kWh.
 * market.execute(solar.reportDelivery(contractId!, 1200));
 * market.execute(mill.reportDelivery(contractId!, 1100));
 * const { round } = market.execute(mill.settleRound([contractId!]));
 *
 * console.log(toYuan(market.balance('solar-farm')), toYuan(market.balance('paper-mill')), toYuan(market.gridBalance()));
 * // 720 -857.333 137.333
 * console.log(market.node('paper-mill')?.creditWeight, market.greenCertificates('solar-farm'));
 * // 73.33… 1
 * console.log(round?.scores, market.voteWeights({ tolerateFailures: 0 }));
 * ```
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './money.js';
export * from './canonical.js';
export * from './settlement.js';
export * from './round-document.js';
export * from './transactions.js';
export * from './client.js';
export * from './ledger.js';
export * from './market.js';
export * from './replay.js';
