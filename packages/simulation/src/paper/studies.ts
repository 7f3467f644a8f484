import { type NodeId, TimeoutError, configuration } from '@greenraft/consensus';
import { type PaperParameters, toVoteWeights, voteTimeoutRank } from '@greenraft/weight-scoring';
import { deriveSeed } from '../random.js';
import { SimulatedCluster } from './cluster.js';
import { type ScenarioResult, type ScenarioScoring, runConsensusScenario } from './consensus-time.js';
import type { FigurePoint, PaperFigure } from './figures.js';
import { type LatencyModel, type LinkLatencies, linkLatencies } from './latency.js';
import { MarketScript } from './market-script.js';
import { paperRoster } from './roster.js';
import { rounded } from './tables.js';

/** The studies beyond the paper that a reproduction can run as well. */
export type PaperStudy = 'epochs' | 'sweep' | 'availability';

/** Every {@link PaperStudy}, in the order a reproduction runs them. */
export const PAPER_STUDIES: readonly PaperStudy[] = Object.freeze(['epochs', 'sweep', 'availability']);

/** Weight-change intervals the epoch study compares, in rounds. */
export const EPOCH_STUDY_INTERVALS: readonly number[] = Object.freeze([1, 10, 30]);
/** Cluster sizes of the sweep. */
export const SWEEP_SIZES: readonly number[] = Object.freeze([5, 9, 15, 30, 60]);
/** Latency spreads (σ of the lognormal) of the sweep: uniform links to strongly heterogeneous ones. */
export const SWEEP_SPREADS: readonly number[] = Object.freeze([0, 0.25, 0.5, 1]);
/** Scorings of the sweep. */
export const SWEEP_SCORINGS: readonly ScenarioScoring[] = Object.freeze(['classic', 'paper', 'latency']);

/** One row of the epoch study: what a weight-change interval costs and gains against classic Raft. */
export interface EpochStudyRow {
  /** Rounds between weight changes; `null` for classic Raft (no weights). */
  readonly epoch: number | null;
  /** Joint-consensus changes actually made (an unchanged weight vector needs none). */
  readonly weightChanges: number;
  /** Σ consensus time of the trade entries. */
  readonly tradeMs: number;
  /** Σ time of the weight changes, C(old,new) proposed to C(new) committed. */
  readonly weightChangeMs: number;
  readonly totalMs: number;
  /** Messages (heartbeats aside) of the trade entries. */
  readonly tradeMessages: number;
  /** Messages of the weight changes. */
  readonly weightChangeMessages: number;
  /** Trade consensus time saved against classic Raft, as the paper counts it. */
  readonly tradeGainPct: number;
  /** Time saved against classic Raft once the weight changes are counted too (negative: a loss). */
  readonly netGainPct: number;
  /** Messages saved against classic Raft, weight changes counted (negative: more messages). */
  readonly netMessageGainPct: number;
}

/** One cell of the size × spread sweep. */
export interface SweepRow {
  readonly nodes: number;
  /** σ of the link latencies. */
  readonly spread: number;
  readonly scoring: ScenarioScoring;
  /** Mean trade consensus time over all rounds. */
  readonly meanConsensusMs: number;
  /** Mean over the second half of the rounds, once the weights have settled. */
  readonly steadyConsensusMs: number;
  /** Mean time of the weight change that follows each round (0 for classic). */
  readonly meanWeightChangeMs: number;
  /** Trade consensus time saved against classic Raft, over all rounds. */
  readonly gainPct: number;
  /** The same over the second half of the rounds. */
  readonly steadyGainPct: number;
  /** Saved against classic Raft with the weight changes counted (negative: a loss). */
  readonly netGainPct: number;
}

/** How the availability study turns scores into weights. */
export type AvailabilityGuard = 'classic' | 'off' | 'paper' | 'default';

/** One measurement of the availability study. */
export interface AvailabilityRow {
  readonly guard: AvailabilityGuard;
  /** f of the fault-tolerance guard (`null`: classic Raft, every weight 1). */
  readonly tolerateFailures: number | null;
  /** The k heaviest voters crashed (the leader among them). */
  readonly crashed: number;
  /** The vote weight still running, % of the total: the survivors commit iff it is above 50 %. */
  readonly survivingWeightPct: number;
  /** Whether the survivors elected a leader and committed a new entry within the budget. */
  readonly committed: boolean;
}

/** The availability study: for each guard, crashed heavy nodes until the cluster stalls. */
export interface AvailabilityStudy {
  /** Measured rows, k = 1, 2, … up to the first stall of each guard. */
  readonly rows: readonly AvailabilityRow[];
  /** The fewest crashed heaviest voters that stall the cluster, per guard. */
  readonly stallsAt: Readonly<Record<AvailabilityGuard, number | null>>;
}

/** What the studies found, each present when it ran. */
export interface PaperStudies {
  readonly epochs?: readonly EpochStudyRow[];
  readonly sweep?: readonly SweepRow[];
  readonly availability?: AvailabilityStudy;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : sum(values) / values.length);
const gain = (baseline: number, value: number): number => (baseline === 0 ? 0 : rounded(((baseline - value) / baseline) * 100, 2));

/** The epoch study's rows from the classic run and one weighted run per interval (same leader, same network). */
export function epochStudyRows(classic: ScenarioResult, weighted: ReadonlyMap<number, ScenarioResult>): EpochStudyRow[] {
  const classicTrade = sum(classic.rounds.map((r) => r.consensusMs));
  const classicMessages = sum(classic.rounds.map((r) => r.messages));
  const row = (epoch: number | null, result: ScenarioResult): EpochStudyRow => {
    const tradeMs = sum(result.rounds.map((r) => r.consensusMs));
    const weightChangeMs = sum(result.rounds.map((r) => r.epochMs));
    const tradeMessages = sum(result.rounds.map((r) => r.messages));
    const weightChangeMessages = sum(result.rounds.map((r) => r.epochMessages));
    return {
      epoch,
      weightChanges: result.rounds.filter((r) => r.epochMs > 0).length,
      tradeMs: rounded(tradeMs, 2),
      weightChangeMs: rounded(weightChangeMs, 2),
      totalMs: rounded(tradeMs + weightChangeMs, 2),
      tradeMessages,
      weightChangeMessages,
      tradeGainPct: gain(classicTrade, tradeMs),
      netGainPct: gain(classicTrade, tradeMs + weightChangeMs),
      netMessageGainPct: gain(classicMessages, tradeMessages + weightChangeMessages),
    };
  };
  return [row(null, classic), ...[...weighted].map(([epoch, result]) => row(epoch, result))];
}

/** The epoch study's figure: total time per interval, trades and weight changes stacked side by side. */
export function epochStudyFigure(rows: readonly EpochStudyRow[]): PaperFigure {
  const label = (row: EpochStudyRow) => (row.epoch === null ? 0 : row.epoch);
  return {
    id: 'study-epochs',
    title: 'Cost of agreeing on the weights: consensus time over the run, by weight-change interval',
    mark: 'bar',
    xTitle: 'rounds between weight changes (0: classic Raft)',
    yTitle: 'total virtual time (ms)',
    xCategorical: true,
    yFromZero: true,
    series: ['trade entries', 'weight changes'],
    points: rows.flatMap((row) => [
      { series: 'trade entries', x: label(row), y: row.tradeMs },
      { series: 'weight changes', x: label(row), y: row.weightChangeMs },
    ]),
  };
}

/** Options shared by the studies. */
export interface StudyContext {
  readonly seed: number;
  readonly latency: LatencyModel;
  readonly parameters: Readonly<PaperParameters>;
  readonly carbonCycle: number;
  readonly onRound: () => void;
}

/**
 * The size × spread sweep: for each cluster size and latency spread, classic, paper and latency
 * scoring on the same network (node 1 leads, weights changed after every round, f = 1).
 */
export async function sweepStudy(
  context: StudyContext,
  rounds: number,
  sizes: readonly number[] = SWEEP_SIZES,
  spreads: readonly number[] = SWEEP_SPREADS,
): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  for (const nodes of sizes) {
    const roster = paperRoster(nodes, context.seed);
    const script = new MarketScript({ roster, seed: context.seed, carbonCycle: context.carbonCycle });
    const ids = roster.nodes.map((node) => node.id);
    for (const spread of spreads) {
      const latencies = linkLatencies(ids, deriveSeed(context.seed, 600 + nodes), { medianMs: context.latency.medianMs, spread });
      const results = new Map<ScenarioScoring, ScenarioResult>();
      for (const scoring of SWEEP_SCORINGS) {
        results.set(
          scoring,
          await runConsensusScenario({
            script,
            seed: context.seed,
            latencies,
            leader: ids[0]!,
            scoring,
            parameters: context.parameters,
            carbonCycle: context.carbonCycle,
            rounds,
            epoch: 1,
            tolerateFailures: 1,
            onRound: context.onRound,
          }),
        );
      }
      const classic = results.get('classic')!.rounds;
      const half = Math.floor(rounds / 2);
      for (const [scoring, result] of results) {
        const trade = result.rounds.map((r) => r.consensusMs);
        const steady = trade.slice(half);
        const weightChanges = result.rounds.map((r) => r.epochMs);
        rows.push({
          nodes,
          spread,
          scoring,
          meanConsensusMs: rounded(mean(trade)),
          steadyConsensusMs: rounded(mean(steady)),
          meanWeightChangeMs: rounded(mean(weightChanges)),
          gainPct: gain(sum(classic.map((r) => r.consensusMs)), sum(trade)),
          steadyGainPct: gain(sum(classic.slice(half).map((r) => r.consensusMs)), sum(steady)),
          netGainPct: gain(sum(classic.map((r) => r.consensusMs)), sum(trade) + sum(weightChanges)),
        });
      }
    }
  }
  return rows;
}

/** The sweep's figures: trade-time gain once settled, and net gain with the weight changes, against spread, per size. */
export function sweepFigures(rows: readonly SweepRow[]): PaperFigure[] {
  const weighted = rows.filter((row) => row.scoring !== 'classic');
  const points = (value: (row: SweepRow) => number): FigurePoint[] =>
    weighted.map((row) => ({ series: `${row.scoring} scoring`, x: row.spread, y: value(row), panel: `${row.nodes} nodes` }));
  const common = { mark: 'line' as const, xTitle: 'latency spread σ', dashed: true, series: ['paper scoring', 'latency scoring'] };
  return [
    {
      id: 'study-sweep-gain',
      title: 'Where weighting wins: trade consensus time saved against classic Raft (second half of the run)',
      yTitle: 'time saved (%)',
      points: points((row) => row.steadyGainPct),
      ...common,
    },
    {
      id: 'study-sweep-net',
      title: 'Where it loses: time saved once the weight changes after every round are counted',
      yTitle: 'time saved, weight changes counted (%)',
      points: points((row) => row.netGainPct),
      ...common,
    },
  ];
}

// The survivors get this long, in virtual ms, to elect a leader and commit a new entry.
const AVAILABILITY_BUDGET_MS = 3_000;

/**
 * The availability study: with the weights that `scores` give under each guard (classic Raft's
 * equal weights, no guard, the paper runs' f = 1, and the default f = ⌊(n − 1) / 2⌋), crash the k
 * heaviest voters, the leader first, for k = 1, 2, … and see whether the survivors still elect a
 * leader and commit, on the engine, until they do not.
 */
export async function availabilityStudy(seed: number, scores: ReadonlyMap<NodeId, number>, latencies: LinkLatencies): Promise<AvailabilityStudy> {
  const ids = [...scores.keys()];
  const guards: { guard: AvailabilityGuard; tolerateFailures: number | null; weights: Map<NodeId, number> }[] = [
    { guard: 'classic', tolerateFailures: null, weights: new Map(ids.map((id) => [id, 1])) },
    { guard: 'off', tolerateFailures: 0, weights: toVoteWeights(scores, { tolerateFailures: 0 }) },
    { guard: 'paper', tolerateFailures: 1, weights: toVoteWeights(scores, { tolerateFailures: 1 }) },
    { guard: 'default', tolerateFailures: Math.floor((ids.length - 1) / 2), weights: toVoteWeights(scores) },
  ];
  const rows: AvailabilityRow[] = [];
  const stallsAt: Record<AvailabilityGuard, number | null> = { classic: null, off: null, paper: null, default: null };
  for (const { guard, tolerateFailures, weights } of guards) {
    // eq. 7's order: heaviest first, ties by id; the heaviest leads, and crashes first.
    const ranks = voteTimeoutRank(weights);
    const order = [...ids].sort((a, b) => ranks.get(a)! - ranks.get(b)!);
    const total = sum([...weights.values()]);
    for (let crashed = 1; crashed < ids.length; crashed++) {
      const down = order.slice(0, crashed);
      const surviving = total - sum(down.map((id) => weights.get(id)!));
      const committed = await commitsAfterCrashes(seed, ids, latencies, guard === 'classic' ? 'classic' : 'weighted', weights, order[0]!, down);
      rows.push({ guard, tolerateFailures, crashed, survivingWeightPct: rounded((surviving / total) * 100, 2), committed });
      if (!committed) {
        stallsAt[guard] = crashed;
        break;
      }
    }
  }
  return { rows, stallsAt };
}

async function commitsAfterCrashes(
  seed: number,
  ids: readonly NodeId[],
  latencies: LinkLatencies,
  policy: 'classic' | 'weighted',
  weights: ReadonlyMap<NodeId, number>,
  leader: NodeId,
  down: readonly NodeId[],
): Promise<boolean> {
  const cluster = await SimulatedCluster.start({ ids, seed: deriveSeed(seed, 700 + down.length), latencies, policy, bootstrap: configuration(new Map(weights)) });
  try {
    cluster.elect(leader);
    for (const id of down) cluster.crash(id);
    const started = cluster.clock.now();
    const led = cluster.runUntil(() => {
      const id = cluster.leader();
      if (id === undefined) return false;
      const core = cluster.core(id);
      return core.termAt(core.commitIndex) === core.term && !down.includes(id);
    }, AVAILABILITY_BUDGET_MS);
    if (!led) return false;
    const left = AVAILABILITY_BUDGET_MS - (cluster.clock.now() - started);
    try {
      cluster.propose(new TextEncoder().encode('availability probe'), left);
      return true;
    } catch (error) {
      if (error instanceof TimeoutError) return false;
      throw error;
    }
  } finally {
    cluster.close();
  }
}

/** The availability figure: vote weight still running as the heaviest voters crash, per guard. */
export function availabilityFigure(study: AvailabilityStudy): PaperFigure {
  const label: Record<AvailabilityGuard, string> = {
    classic: 'classic Raft (equal weights)',
    off: 'no guard (f = 0)',
    paper: 'f = 1 (the paper runs)',
    default: 'default guard (f = ⌊(n − 1) / 2⌋)',
  };
  return {
    id: 'study-availability',
    title: 'Availability: running vote weight as the heaviest voters crash; the cluster stalls at 50 % or below',
    mark: 'line',
    xTitle: 'heaviest voters crashed',
    yTitle: 'vote weight still running (%)',
    yFromZero: true,
    // Without a guard and with f = 1 the weights are often the same: the lines coincide.
    dashed: true,
    series: Object.values(label),
    points: study.rows.map((row) => ({ series: label[row.guard], x: row.crashed, y: row.survivingWeightPct })),
  };
}
