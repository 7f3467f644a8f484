/**
 * Weighted Raft for power-trading blockchains (Xiong, Liu, Qu and Cai, 2023), on the same engine
 * as classic Raft: election timeouts by weight rank (eq. 7), vote and commit quorums weighted by
 * the configuration, weight epochs that the leader computes from a swappable scoring strategy and
 * applies through the log by joint consensus, participation tracking from commit quorums (eq. 19),
 * a fault-tolerance guard on the weights, and an optional preferred leader.
 *
 * It is the one package a weighted cluster needs besides a transport: it re-exports the memory
 * storage and the classic driver of `@greenraft/raft`, the scoring strategies of
 * `@greenraft/weight-scoring`, and the types and errors of `@greenraft/consensus` that a user
 * programs against (`npm install @greenraft/weighted-raft @greenraft/transport-memory`).
 *
 * @example
 * ```ts
 * import { memoryNetwork } from '@greenraft/transport-memory';
 * import {
 *   type ApplyInput,
 *   type NodeScoreInput,
 *   type ScoreInputsContext,
 *   type ScoringStrategy,
 *   type StateMachine,
 *   type WeightedRaftNode,
 *   createWeightedRaftNode,
 *   customScoring,
 *   latencyScoring,
 *   measuredScoreInputs,
 *   memoryStorage,
 *   paperScoring,
 * } from '@greenraft/weighted-raft';
 *
 * // The replicated state machine: a ledger of trades (@greenraft/power-market is the real one).
 * class TradeLedger implements StateMachine<number> {
 *   trades: string[] = [];
 *   apply({ data }: ApplyInput) { return this.trades.push(new TextDecoder().decode(data)); }
 *   snapshot() { return new TextEncoder().encode(JSON.stringify(this.trades)); }
 *   restore(data: Uint8Array) { this.trades = JSON.parse(new TextDecoder().decode(data)); }
 * }
 *
 * // What the market knows of each node; in production, read it from replicated market state.
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
 * async function leaderOf(nodes: WeightedRaftNode<number>[]): Promise<WeightedRaftNode<number>> {
 *   for (;;) {
 *     const leader = nodes.find((node) => node.status().role === 'leader');
 *     if (leader !== undefined) return leader;
 *     await new Promise((resolve) => setTimeout(resolve, 10));
 *   }
 * }
 *
 * async function runCluster(scoring: ScoringStrategy, scoreInputs: (context: ScoreInputsContext) => NodeScoreInput[]) {
 *   const network = memoryNetwork();
 *   const nodes = Object.keys(market).map((id) =>
 *     createWeightedRaftNode({
 *       id,
 *       transport: network.transport(id),
 *       storage: memoryStorage(),
 *       stateMachine: new TradeLedger(),
 *       // Founding weights: g1 and c1 weigh most. By default any 2 of 5 voters may crash, so the
 *       // 2 heaviest must weigh less than half the total: 4 + 4 < 17 / 2.
 *       weights: { g1: 4, g2: 3, c1: 4, c2: 3, c3: 3 },
 *       scoring,
 *       scoreInputs,
 *       epoch: 0, // new weights on demand; the default 1 applies them after every commit round
 *     }),
 *   );
 *   await Promise.all(nodes.map((node) => node.start()));
 *   const leader = await leaderOf(nodes);
 *   await leader.propose(new TextEncoder().encode('g1 → c1: 310 kWh at 0.63 yuan/kWh'));
 *   const { changed, config } = await leader.applyWeights(); // scores → integer weights → C(old,new) → C(new)
 *   console.log(scoring.name, 'led by', leader.id, changed ? 'new weights' : 'same weights', config.incoming.voters);
 *   await Promise.all(nodes.map((node) => node.stop()));
 *   network.close();
 * }
 *
 * await runCluster(paperScoring(), marketInputs); // the paper's scores (eq. 8–25)
 * await runCluster(latencyScoring(), measuredScoreInputs); // faster acknowledgers weigh more
 * await runCluster(
 *   // Your own strategy: half the score for everyone, the other half for green certificates.
 *   customScoring('green-first', (node, all) => 50 + (50 * node.greenCertificates) / Math.max(1, ...all.map((n) => n.greenCertificates))),
 *   marketInputs,
 * );
 * ```
 *
 * @packageDocumentation
 */
// Weighted Raft.
export { WeightedRaftNode, createWeightedRaftNode } from './weighted-node.js';
export type {
  InitialWeights,
  LeaderHandoverEvent,
  WeightEpochEvent,
  WeightEpochFailedEvent,
  WeightEpochFailure,
  WeightEpochOutcome,
  WeightEpochSkipReason,
  WeightEpochSkippedEvent,
  WeightEpochTrigger,
  WeightedElectionTimeout,
  WeightedRaftEvents,
  WeightedRaftNodeInit,
  WeightsChangeEvent,
} from './weighted-node.js';
export { weightEpochScheduler } from './epoch-scheduler.js';
export type { WeightEpochScheduler, WeightEpochSchedulerInit } from './epoch-scheduler.js';
export { rankElectionTimeout, weightRank } from './rank-timeout.js';
export type { RankElectionTimeoutInit } from './rank-timeout.js';
export { planWeightEpoch } from './weight-plan.js';
export type { WeightPlanInit } from './weight-plan.js';
export { participationTracker } from './participation.js';
export type { NodeParticipation, ParticipationTracker, ParticipationTrackerInit, QuorumReport } from './participation.js';
export { measuredScoreInputs } from './score-inputs.js';
export type { ScoreInputsContext } from './score-inputs.js';

// The rest of what a weighted cluster needs, so that the headline package and a transport suffice.
// From @greenraft/raft: storage for tests and in-process clusters, and the classic Raft driver.
export { createRaftNode, memoryStorage } from '@greenraft/raft';
export type { MemoryStorage, MemoryStorageInit, RaftNode, RaftNodeInit } from '@greenraft/raft';
// From @greenraft/weight-scoring: the strategies, the scores-to-weights mapping and its guard.
export {
  FaultToleranceError,
  InvalidScoreInputError,
  MissingScoreInputError,
  PAPER_CONSENSUS_TIME_PARAMETERS,
  PAPER_ELECTION_PARAMETERS,
  ScoringError,
  capForFaultTolerance,
  composeScoring,
  customScoring,
  defaultTolerateFailures,
  latencyScoring,
  paperScoring,
  satisfiesFaultToleranceGuard,
  toVoteWeights,
  uniformScoring,
} from '@greenraft/weight-scoring';
export type { LatencyScoringInit, NodeScoreInput, PaperParameters, ScoringStrategy, VoteWeightsInit, WeightedStrategy } from '@greenraft/weight-scoring';
// From @greenraft/consensus: configurations, the types a state machine and a caller use, and the errors to catch.
export {
  AbortError,
  ConfigurationError,
  GreenraftError,
  InvalidArgumentError,
  InvalidMessageError,
  NotLeaderError,
  ProposalDroppedError,
  StateMachineError,
  StoppedError,
  StorageError,
  TimeoutError,
  TransportError,
  configuration,
  configurationToJSON,
  isGreenraftError,
  totalWeight,
} from '@greenraft/consensus';
export type {
  ApplyInput,
  ClusterConfig,
  CommitQuorum,
  Configuration,
  ConsensusEvents,
  ConsensusNode,
  GreenraftErrorCode,
  Index,
  NodeId,
  NodeStatus,
  OperationOptions,
  ProposeResult,
  Role,
  StateMachine,
  Storage,
  Term,
  Transport,
} from '@greenraft/consensus';
