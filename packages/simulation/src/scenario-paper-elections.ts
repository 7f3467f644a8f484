import { type NodeId, StateMachineError, TimeoutError, configuration, integerOption } from '@greenraft/consensus';
import type { RaftCoreOptions } from '@greenraft/raft';
import { type CoreNetwork, coreNetwork } from '@greenraft/raft/testing';
import { PAPER_ELECTION_PARAMETERS, paperScoring } from '@greenraft/weight-scoring';
import { planWeightEpoch, rankElectionTimeout } from '@greenraft/weighted-raft';
import { MarketReplica } from './paper/market-replica.js';
import { MarketScript } from './paper/market-script.js';
import { paperRoster } from './paper/roster.js';
import { PAPER_TABLE_1_ROUND } from './paper/table-1-round.js';
import { type Rng, deriveSeed, rng } from './random.js';

export { PAPER_TABLE_1_ROUND };

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
 * Each weighted election first trades one day on the real power market (`powerMarket()` of
 * `@greenraft/power-market`, fed the signed transactions of the paper's market: Table 1's
 * contracts as the template with seeded variations, nodes 17 and 29 defaulting in half the days,
 * green certificates and carbon accounts), scores every node with `paperScoring()` at the
 * election-study parameters (γ1 = γ2 = 0), turns the scores into vote weights with
 * `planWeightEpoch`, and commits them by joint consensus. Then the leader crashes right after a
 * heartbeat round and restarts at once, so every node's election timer starts at the same
 * moment; the cluster elects a leader (rank timeouts, eq. 7, for weighted; randomized timeouts for
 * classic), and the winner is counted. The elections run on engines that deliver every message at
 * once: who wins is decided by the timeouts, which are 5 ms apart, not by the network.
 *
 * Deterministic: the same options always give the same tables.
 *
 * @param onElection - called after every election with the winner and the weights it ran under.
 * @throws InvalidArgumentError for a bad option; TimeoutError when a leader does not heartbeat or no
 *   leader is elected within the scenario's tick budget (a liveness failure, never an invariant).
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
  integerOption('elections', elections, { min: 1, max: 100_000 });
  integerOption('seed', seed, { min: 0, max: 0xffffffff });
  return electionsOnScript(elections, seed, paperMarketScript(seed), onElection);
}

/** Rounds per carbon-trading cycle of the paper runs: eq. 21–22 score the previous cycle. */
export const PAPER_CARBON_CYCLE = 10;

/** The paper's 30-node market, scripted from `seed`. */
export function paperMarketScript(seed: number): MarketScript {
  return new MarketScript({ roster: paperRoster(PAPER_TABLE_1_ROUND.nodes.length, seed), seed, carbonCycle: PAPER_CARBON_CYCLE });
}

/**
 * {@link paperElections} over an existing script of the market (a reproduction shares one between
 * its studies, so every transaction is signed once).
 */
export function electionsOnScript(
  elections: number,
  seed: number,
  script: MarketScript,
  onElection?: (event: PaperElectionEvent) => void,
  onProgress?: () => void,
): PaperElectionsResult {
  return {
    classic: runElections('classic', elections, seed, undefined, onElection, onProgress),
    weighted: runElections('weighted', elections, seed, script, onElection, onProgress),
  };
}

function runElections(
  policy: 'classic' | 'weighted',
  elections: number,
  seed: number,
  script: MarketScript | undefined,
  onElection: ((event: PaperElectionEvent) => void) | undefined,
  onProgress: (() => void) | undefined,
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
  // One replica of the market stands for every node's: the same committed trades, the same state.
  const market = script === undefined ? undefined : new MarketReplica({ parameters: PAPER_ELECTION_PARAMETERS, carbonCycle: PAPER_CARBON_CYCLE });
  if (script !== undefined) market?.committed({ type: 'normal', index: 1, term: 1, data: script.registrationEntry() });
  const scoring = paperScoring(PAPER_ELECTION_PARAMETERS);

  let leader = awaitLeader(net, ids, 0, random);
  for (let election = 1; election <= elections; election++) {
    const core = net.core(leader);
    if (market !== undefined && script !== undefined) {
      // The day's trades (no participation record: γ = 0 here), eq. 8–13 over the market after them,
      // then C(old,new) → C(new) through the log. f = 1, not the default ⌊(30 − 1) / 2⌋: the paper
      // has no guard, and 14 would flatten the weights it studies; 1 still keeps any single node
      // from being a quorum by itself.
      market.committed({ type: 'normal', index: election + 1, term: 1, data: script.entry(election, leader, []) });
      const target = planWeightEpoch(core.config, scoring.score(market.market().scoreInputs()), { tolerateFailures: 1 });
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
    onProgress?.();
    leader = winner;
  }
  if (market !== undefined && market.refused.length > 0) throw new StateMachineError('apply', `the market refused a scripted transaction: ${market.refused[0]}`);
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
  throw new TimeoutError(`leader ${leader} sent no heartbeat within ${HEARTBEAT_TICKS} ticks`);
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
  throw new TimeoutError(`no leader was elected within ${MAX_TICKS_PER_ELECTION} ticks`);
}
