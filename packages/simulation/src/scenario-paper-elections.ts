import { InvalidArgumentError, type NodeId, configuration } from '@greenraft/consensus';
import { type CoreNetwork, InvariantViolationError, type RaftCoreOptions, coreNetwork } from '@greenraft/raft';
import { paperScoring } from '@greenraft/weight-scoring';
import { planWeightEpoch, rankElectionTimeout } from '@greenraft/weighted-raft';
import { type Rng, deriveSeed, rng } from './random.js';
import { type ContractTemplate, type MarketParticipantInit, simulatedPowerMarket } from './weighted-market.js';

/**
 * The trading round of the paper's Tables 1 and 2 (§5.1): 30 nodes, 1–15 generate and 16–30
 * consume, with their credit weights before the round, and 15 contracts (generator, consumer,
 * unit price in yuan/kWh, contracted, generated and consumed kWh). Nodes 17 and 29 default.
 */
export const PAPER_TABLE_1_ROUND: {
  readonly nodes: readonly { readonly id: NodeId; readonly kind: 'generation' | 'consumption'; readonly creditWeight: number }[];
  readonly contracts: readonly {
    readonly generator: NodeId;
    readonly consumer: NodeId;
    readonly unitPrice: number;
    readonly contractedKWh: number;
    readonly generatedKWh: number;
    readonly consumedKWh: number;
  }[];
} = Object.freeze({
  nodes: (
    [
      97.67, 86.47, 84.71, 70.52, 96.24, 85.58, 76.82, 77.83, 78.88, 83.74, 59.55, 47.47, 81.57, 58.51, 47.09, 95.57, 95.6, 79.3, 79.82,
      91.87, 84.99, 79.95, 79.83, 79.84, 80.55, 65.05, 70.37, 73.27, 64.93, 61.38,
    ] as const
  ).map((creditWeight, position) => ({ id: String(position + 1), kind: position < 15 ? ('generation' as const) : ('consumption' as const), creditWeight })),
  contracts: (
    [
      [1, 16, 0.61, 310, 310, 310],
      [2, 17, 0.63, 200, 200, 180],
      [3, 18, 0.64, 110, 110, 110],
      [4, 19, 0.63, 190, 190, 190],
      [5, 20, 0.61, 290, 290, 290],
      [6, 21, 0.62, 160, 160, 160],
      [7, 22, 0.63, 140, 140, 140],
      [8, 23, 0.61, 110, 110, 110],
      [9, 24, 0.63, 140, 140, 140],
      [10, 25, 0.62, 190, 190, 190],
      [11, 26, 0.67, 60, 60, 80],
      [12, 27, 0.65, 120, 120, 120],
      [13, 28, 0.64, 130, 130, 130],
      [14, 29, 0.66, 60, 60, 50],
      [15, 30, 0.64, 100, 100, 100],
    ] as const
  ).map(([generator, consumer, unitPrice, contractedKWh, generatedKWh, consumedKWh]) => ({
    generator: String(generator),
    consumer: String(consumer),
    unitPrice,
    contractedKWh,
    generatedKWh,
    consumedKWh,
  })),
});

/**
 * The renewable generators of the scenario. The paper gives nodes 1, 2 and 5 "relatively higher
 * weights of green certificates and carbon emission rights" (§5.2.1) and has nodes 1 and 3 sell
 * certificates (§5.3.2); the other generators burn fuel.
 */
export const PAPER_RENEWABLE_NODES: readonly NodeId[] = Object.freeze(['1', '2', '3', '5']);

/** Options of {@link paperElections}. */
export interface PaperElectionsInit {
  /**
   * Elections per policy.
   * @default 200
   */
  elections?: number;
  /**
   * Seeds the market's rounds and every node's randomness.
   * @default 1
   */
  seed?: number;
}

/** Leader elections won per node id ('1' … '30'), every node listed. */
export type ElectionCounts = Record<NodeId, number>;

/** What {@link paperElections} prints: the paper's Tables 3–4 for classic and weighted Raft. */
export interface PaperElectionsResult {
  readonly classic: ElectionCounts;
  readonly weighted: ElectionCounts;
}

/** One election of the weighted run, for whoever wants to see the weights that decided it. */
export interface PaperElectionEvent {
  readonly policy: 'classic' | 'weighted';
  /** 1-based. */
  readonly election: number;
  readonly winner: NodeId;
  /** The vote weights in effect when the election started (all 1 for classic). */
  readonly weights: ReadonlyMap<NodeId, number>;
}

// Milliseconds per tick: eq. 7's 5 ms rank step is five ticks, so ranks never tie.
const TICK_MS = 1;
// Classic Raft's randomized timeout in [150, 300) ms, the range the Raft paper recommends.
const CLASSIC_ELECTION_TICKS = 150;
// Weighted: eq. 7 gives 105–250 ms; voters accept a pre-vote once 100 ms passed without a leader.
const WEIGHTED_ELECTION_TICKS = 100;
const HEARTBEAT_TICKS = 50;
const MAX_TICKS_PER_ELECTION = 100_000;

/**
 * Reproduces the shape of the paper's Tables 3–4 (§5.2.1): 200 leader elections in the 30-node
 * market of Tables 1–2, under classic Raft and under greenraft's weighted Raft.
 *
 * Each weighted election first settles one day of trading (Table 1's contracts as the template,
 * with seeded variations; nodes 17 and 29 keep defaulting) with `settleRound`, scores every node
 * with `paperScoring()` at the election-study parameters (γ1 = γ2 = 0), turns the scores into
 * vote weights with `planWeightEpoch`, and commits them by joint consensus. Then the leader
 * crashes right after a heartbeat round and restarts at once, so every node's election timer
 * starts at the same moment; the cluster elects a leader (rank timeouts, eq. 7, for weighted;
 * randomized timeouts for classic), and the winner is counted.
 *
 * Deterministic: the same options always give the same tables.
 *
 * @param onElection - called after every election with the winner and the weights it ran under.
 * @throws InvalidArgumentError for a bad option.
 *
 * @example
 * ```ts
 * import { paperElections } from '@greenraft/simulation';
 *
 * const { classic, weighted } = paperElections({ elections: 200 });
 * console.log(classic['1'], weighted['1']); // node 1 leads about 1/30 of the time classically, far more weighted
 * ```
 */
export function paperElections(init: PaperElectionsInit = {}, onElection?: (event: PaperElectionEvent) => void): PaperElectionsResult {
  const elections = init.elections ?? 200;
  const seed = init.seed ?? 1;
  if (!Number.isSafeInteger(elections) || elections < 1 || elections > 100_000) {
    throw new InvalidArgumentError(`elections must be an integer from 1 to 100000, got ${String(elections)}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidArgumentError(`seed must be an integer from 0 to ${0xffffffff}, got ${String(seed)}`);
  }
  return {
    classic: runElections('classic', elections, seed, onElection),
    weighted: runElections('weighted', elections, seed, onElection),
  };
}

function runElections(
  policy: 'classic' | 'weighted',
  elections: number,
  seed: number,
  onElection: ((event: PaperElectionEvent) => void) | undefined,
): ElectionCounts {
  const ids = PAPER_TABLE_1_ROUND.nodes.map((node) => node.id);
  const counts: ElectionCounts = Object.fromEntries(ids.map((id) => [id, 0]));
  const random = rng(deriveSeed(seed, policy === 'classic' ? 11 : 12));
  const incarnation = new Map<NodeId, number>();
  const coreOptions = (id: NodeId): Partial<RaftCoreOptions> => ({
    seed: deriveSeed(seed, 1000 * (policy === 'classic' ? 1 : 2) + Number(id) * 64 + (incarnation.get(id) ?? 0)),
    heartbeatTicks: HEARTBEAT_TICKS,
    ...(policy === 'classic'
      ? { electionTicks: CLASSIC_ELECTION_TICKS }
      : { electionTicks: WEIGHTED_ELECTION_TICKS, policy: rankElectionTimeout({ tickMs: TICK_MS }) }),
  });
  const net = coreNetwork({ bootstrap: configuration(ids), options: coreOptions });
  const market =
    policy === 'weighted'
      ? simulatedPowerMarket({
          seed: deriveSeed(seed, 13),
          participants: PAPER_TABLE_1_ROUND.nodes.map(
            (node): MarketParticipantInit => ({ ...node, renewable: PAPER_RENEWABLE_NODES.includes(node.id) }),
          ),
          contracts: PAPER_TABLE_1_ROUND.contracts.map(
            (contract): ContractTemplate => ({
              generator: contract.generator,
              consumer: contract.consumer,
              unitPrice: contract.unitPrice,
              contractedKWh: contract.contractedKWh,
              generatedShare: contract.generatedKWh / contract.contractedKWh,
              consumedShare: contract.consumedKWh / contract.contractedKWh,
            }),
          ),
        })
      : undefined;
  const scoring = paperScoring();

  let leader = awaitLeader(net, ids, 0, random);
  for (let election = 1; election <= elections; election++) {
    const core = net.core(leader);
    if (market !== undefined) {
      // eq. 8–13 at γ = 0 over the day's settlement, then C(old,new) → C(new) through the log.
      const target = planWeightEpoch(core.config, scoring.score(market.settleNextRound()));
      if (target !== undefined) {
        core.proposeConfigChange(target);
        net.stabilize();
      }
    }
    const weights = new Map(core.config.incoming.voters);
    const term = core.term;
    // The leader restarts right after a heartbeat round: every node's election timer, its own
    // included, starts at the same moment, as when a cluster starts (the setting eq. 7 is made for).
    awaitHeartbeat(net, ids, leader, random);
    net.crash(leader);
    incarnation.set(leader, (incarnation.get(leader) ?? 0) + 1);
    net.restart(leader, coreOptions(leader));
    const winner = awaitLeader(net, ids, term, random);
    counts[winner] = (counts[winner] ?? 0) + 1;
    onElection?.({ policy, election, winner, weights });
    leader = winner;
  }
  return counts;
}

/** Ticks every running node once in a seeded order, then delivers messages. */
function tickAll(net: CoreNetwork, ids: readonly NodeId[], random: Rng): void {
  // Nodes that time out in the same tick campaign in random order: no bias towards low ids.
  for (const id of random.shuffle(ids)) if (net.isUp(id)) net.tick(id);
  net.stabilize();
}

/** Ticks the cluster until `leader` has sent a round of heartbeats and every node has received it. */
function awaitHeartbeat(net: CoreNetwork, ids: readonly NodeId[], leader: NodeId, random: Rng): void {
  for (let tick = 0; tick <= HEARTBEAT_TICKS; tick++) {
    const before = net.delivered.length;
    tickAll(net, ids, random);
    for (let i = before; i < net.delivered.length; i++) {
      const message = net.delivered[i]!;
      if (message.type === 'heartbeat' && message.from === leader) return;
    }
  }
  throw new InvariantViolationError(`leader ${leader} sent no heartbeat within ${HEARTBEAT_TICKS} ticks`);
}

/** Ticks the cluster until a running node leads a term after `afterTerm`; returns its id. */
function awaitLeader(net: CoreNetwork, ids: readonly NodeId[], afterTerm: number, random: Rng): NodeId {
  for (let tick = 0; tick < MAX_TICKS_PER_ELECTION; tick++) {
    tickAll(net, ids, random);
    for (const id of ids) {
      if (!net.isUp(id)) continue;
      const core = net.core(id);
      if (core.role === 'leader' && core.term > afterTerm) {
        net.stabilize();
        return id;
      }
    }
  }
  throw new InvariantViolationError(`no leader was elected within ${MAX_TICKS_PER_ELECTION} ticks`);
}
