/**
 * Weighted Raft for power-trading blockchains (Xiong, Liu, Qu and Cai, 2023), on the same engine
 * as classic Raft: election timeouts by weight rank (eq. 7), vote and commit quorums weighted by
 * the configuration, weight epochs that the leader computes from a swappable scoring strategy and
 * applies through the log by joint consensus, participation tracking from commit quorums (eq. 19),
 * a fault-tolerance guard on the weights, and an optional preferred leader.
 *
 * @example
 * ```ts
 * import type { ApplyInput, StateMachine } from '@greenraft/consensus';
 * import { memoryStorage } from '@greenraft/raft';
 * import { memoryNetwork } from '@greenraft/transport-memory';
 * import { customScoring, latencyScoring, paperScoring, type NodeScoreInput } from '@greenraft/weight-scoring';
 * import { createWeightedRaftNode, measuredScoreInputs, type ScoreInputsContext } from '@greenraft/weighted-raft';
 *
 * // The replicated state machine: a ledger of trades (a real one would be @greenraft/power-market).
 * class TradeLedger implements StateMachine<number> {
 *   trades: string[] = [];
 *   apply({ data }: ApplyInput) { return this.trades.push(new TextDecoder().decode(data)); }
 *   snapshot() { return new TextEncoder().encode(JSON.stringify(this.trades)); }
 *   restore(data: Uint8Array) { this.trades = JSON.parse(new TextDecoder().decode(data)); }
 * }
 *
 * // What the market knows about each node (read it from replicated state in a real deployment).
 * const market: Record<string, Omit<NodeScoreInput, 'id' | 'participation'>> = {
 *   g1: { kind: 'generation', creditWeight: 98, contracted: 310, actual: 310, greenCertificates: 40, carbonSettlement: 15 },
 *   g2: { kind: 'generation', creditWeight: 88, contracted: 200, actual: 200, greenCertificates: 25, carbonSettlement: -5 },
 *   c1: { kind: 'consumption', creditWeight: 96, contracted: 310, actual: 310, greenCertificates: 10, carbonSettlement: 30 },
 *   c2: { kind: 'consumption', creditWeight: 86, contracted: 200, actual: 180, greenCertificates: 0, carbonSettlement: -20 },
 *   c3: { kind: 'consumption', creditWeight: 70, contracted: 60, actual: 50, greenCertificates: 0, carbonSettlement: -30 },
 * };
 * const marketInputs = ({ voters, participation }: ScoreInputsContext): NodeScoreInput[] =>
 *   [...voters.keys()].map((id) => ({ ...market[id]!, id, participation: participation.get(id)?.score ?? 0 }));
 *
 * const network = memoryNetwork();
 * const nodes = Object.keys(market).map((id) =>
 *   createWeightedRaftNode({
 *     id,
 *     transport: network.transport(id),
 *     storage: memoryStorage(),
 *     stateMachine: new TradeLedger(),
 *     weights: { g1: 3, g2: 2, c1: 3, c2: 1, c3: 1 }, // founding weights: g1 or c1 lead first
 *     scoring: paperScoring(),                        // the paper's scores (eq. 8–25)
 *     scoreInputs: marketInputs,
 *     epoch: 0,                                       // apply new weights on demand only
 *   }),
 * );
 * await Promise.all(nodes.map((node) => node.start()));
 * const leader = await new Promise<(typeof nodes)[number]>((resolve) => {
 *   for (const node of nodes) node.on('stateChange', ({ to }) => to === 'leader' && resolve(node));
 * });
 * await leader.propose(new TextEncoder().encode('g1 → c1: 310 kWh at 0.63'));
 *
 * leader.on('weightsChange', ({ weights }) => console.log('new weights', weights));
 * await leader.applyWeights();                       // scores → integer weights → C(old,new) → C(new)
 * console.log(leader.voteWeights());
 *
 * // Swap the strategy: weigh nodes by how fast they acknowledge, or by your own rule.
 * const fastest = createWeightedRaftNode({
 *   id: 'x', transport: network.transport('x'), storage: memoryStorage(), stateMachine: new TradeLedger(),
 *   weights: { x: 1 }, tolerateFailures: 0,
 *   scoring: latencyScoring(), scoreInputs: measuredScoreInputs,
 * });
 * const greenest = customScoring('green-first', (node, all) =>
 *   (100 * node.greenCertificates) / Math.max(1, ...all.map((n) => n.greenCertificates)));
 * console.log(fastest.id, greenest.score(marketInputs({ voters: leader.voteWeights(), participation: new Map(), round: 0, epoch: 0 })));
 *
 * await Promise.all(nodes.map((node) => node.stop()));
 * network.close();
 * ```
 *
 * @packageDocumentation
 */
export { rankElectionTimeout, weightRank } from './rank-timeout.js';
export type { RankElectionTimeoutInit } from './rank-timeout.js';
export { planWeightEpoch, satisfiesFaultToleranceGuard } from './weight-plan.js';
export type { WeightPlanInit } from './weight-plan.js';
export { participationTracker } from './participation.js';
export type { NodeParticipation, ParticipationTracker, ParticipationTrackerInit, QuorumReport } from './participation.js';
export { measuredScoreInputs } from './score-inputs.js';
export type { ScoreInputsContext } from './score-inputs.js';
export { createWeightedRaftNode } from './weighted-node.js';
export type {
  InitialWeights,
  LeaderHandoverEvent,
  WeightEpochEvent,
  WeightEpochFailedEvent,
  WeightEpochFailure,
  WeightEpochOutcome,
  WeightEpochTrigger,
  WeightedElectionTimeout,
  WeightedRaftEvents,
  WeightedRaftNode,
  WeightedRaftNodeInit,
  WeightsChangeEvent,
} from './weighted-node.js';
