import { InvalidArgumentError, type NodeId, StateMachineError, integerOption } from '@greenraft/consensus';
import type { PowerMarket } from '@greenraft/power-market';
import { PAPER_CONSENSUS_TIME_PARAMETERS, paperScoreBreakdown } from '@greenraft/weight-scoring';
import { deriveSeed } from '../random.js';
import { PAPER_CARBON_CYCLE, electionsOnScript, paperMarketScript } from '../scenario-paper-elections.js';
import { type ScenarioResult, runConsensusScenario } from './consensus-time.js';
import { type PaperFigure, seriesPoints } from './figures.js';
import { type LatencyModel, type LatencyModelInit, linkLatencies, resolveLatencyModel } from './latency.js';
import {
  EPOCH_STUDY_INTERVALS,
  PAPER_STUDIES,
  type PaperStudies,
  type PaperStudy,
  SWEEP_SCORINGS,
  SWEEP_SIZES,
  SWEEP_SPREADS,
  availabilityFigure,
  availabilityStudy,
  epochStudyFigure,
  epochStudyRows,
  sweepFigures,
  sweepStudy,
} from './studies.js';
import {
  type ConsensusTotalRow,
  type ElectionTableRow,
  type SettlementTableRow,
  consensusTotals,
  creditTrajectories,
  electionTables,
  rounded,
  settlementTables,
} from './tables.js';

/** Options of {@link paperReproduction}. */
export interface PaperReproductionInit {
  /**
   * Seeds everything: the market's days, the network's link latencies, every engine's timers.
   * @default 1
   */
  seed?: number;
  /**
   * Trading rounds, one consensus each, of the consensus-time and weight studies (§5.2.2–5.3).
   * @default 200 (the paper's)
   */
  rounds?: number;
  /**
   * Leader elections per policy for Tables 3–4 (§5.2.1).
   * @default 200 (the paper's)
   */
  elections?: number;
  /**
   * The network: one fixed lognormal one-way latency per link.
   * @default { medianMs: 1.25, spread: 0.5 }: a classic consensus of 30 nodes takes about the paper's 2.5 ms
   */
  latency?: LatencyModelInit;
  /**
   * Studies beyond the paper to run too: `'epochs'` (what agreeing on the weights costs, with
   * changes every 1, 10 and 30 rounds), `'sweep'` (cluster size × latency spread, classic vs paper
   * vs latency scoring), `'availability'` (crashed heavy nodes, fault-tolerance guard on and off).
   * @default [] (the paper's §5 only)
   */
  studies?: readonly PaperStudy[];
  /**
   * Trading rounds of each run of the sweep (it runs 60: five sizes × four spreads × three scorings).
   * @default 50
   */
  sweepRounds?: number;
  /** Called as the work advances: `done` of `total` units (one unit is one round or one election). */
  onProgress?: (progress: PaperProgress) => void;
}

/** How far a reproduction has got. */
export interface PaperProgress {
  /** What runs now (`'Tables 3–4: elections'`, `'Figures 1–6: leader 2, weighted'`, …). */
  readonly step: string;
  readonly done: number;
  readonly total: number;
}

/**
 * The paper's tables, keyed by number, as {@link paperReproduction} regenerates them: 1–2 the
 * first trading round (generators, consumers), 3–4 the elections (nodes 1–15, 16–30), 5–7 the total
 * consensus time of scenarios 1–3 (leaders 1, 2, 5).
 */
export interface PaperTables {
  readonly '1': readonly SettlementTableRow[];
  readonly '2': readonly SettlementTableRow[];
  readonly '3': readonly ElectionTableRow[];
  readonly '4': readonly ElectionTableRow[];
  readonly '5': readonly ConsensusTotalRow[];
  readonly '6': readonly ConsensusTotalRow[];
  readonly '7': readonly ConsensusTotalRow[];
}

/** One of the consensus-time scenarios as measured: per round, classic and weighted. */
export interface ConsensusScenarioSeries {
  /** 1, 2 or 3. */
  readonly scenario: number;
  readonly leader: NodeId;
  /** Classic Raft's time of each single consensus, ms (index 0 is round 1). */
  readonly classicMs: readonly number[];
  /** Weighted Raft's. */
  readonly weightedMs: readonly number[];
  /** The weighted run's intermediate node (the acknowledgement that completed each quorum). */
  readonly weightedIntermediate: readonly NodeId[];
  /** Acknowledgements in each weighted commit quorum, the leader's included. */
  readonly weightedQuorumSize: readonly number[];
  /** Acknowledgements in classic Raft's (always a majority of the nodes). */
  readonly classicQuorumSize: number;
}

/** Per-round node weights of scenario 1's weighted run (Figures 7, 9 and 10), by node id. */
export interface WeightSeries {
  /** W_a after each round (eq. 14–17, decay eq. 24), Figure 7. */
  readonly credit: Readonly<Record<NodeId, readonly number[]>>;
  /** W_gc (eq. 20), Figure 9. */
  readonly greenCertificates: Readonly<Record<NodeId, readonly number[]>>;
  /** The total W_f or W_y (eq. 8–13, γ = 0.3), Figure 10. */
  readonly total: Readonly<Record<NodeId, readonly number[]>>;
}

/** Everything {@link paperReproduction} regenerates. */
export interface PaperReproduction {
  readonly seed: number;
  readonly rounds: number;
  readonly elections: number;
  readonly latency: LatencyModel;
  readonly tables: PaperTables;
  /** Figures 1–10, then the studies' figures. */
  readonly figures: readonly PaperFigure[];
  readonly scenarios: readonly ConsensusScenarioSeries[];
  readonly weights: WeightSeries;
  readonly studies: PaperStudies;
}

/** The paper's three consensus-time scenarios: the node that leads (§5.2.2). */
export const PAPER_SCENARIO_LEADERS: readonly NodeId[] = Object.freeze(['1', '2', '5']);
/** The nodes of Figures 7 and 10 (credit and total weights, §5.3.1 and §5.3.3). */
export const FIGURE_7_NODES: readonly NodeId[] = Object.freeze(['1', '11', '17', '27']);
/** The nodes of Figure 9 (green-certificate weights, §5.3.2): sellers 1 and 3, buyers 16 and 25. */
export const FIGURE_9_NODES: readonly NodeId[] = Object.freeze(['1', '3', '16', '25']);
// f = 1 in the paper runs: the paper has no guard, and the default ⌊(30 − 1) / 2⌋ = 14 would
// flatten the weights it studies; 1 still keeps any single node from being a quorum by itself.
const PAPER_TOLERATE_FAILURES = 1;

/**
 * Regenerates the paper's §5 (Tables 1–7, Figures 1–10) from greenraft's own packages, and
 * optionally the studies beyond it.
 *
 * - Tables 1–2: Table 1's round settled by `settleRound` (`@greenraft/power-market`).
 * - Tables 3–4: {@link paperElections} (200 elections per policy, γ = 0).
 * - Figures 1–6, Tables 5–7: for leaders 1, 2 and 5, 200 trading rounds on a simulated 30-node
 *   cluster (real `RaftCore` engines on `@greenraft/transport-memory`'s network and virtual clock,
 *   one fixed lognormal latency per link). Every round one log entry carries the day's signed
 *   transactions of the paper's market (Table 1's contracts, nodes 17 and 29 defaulting, green
 *   certificates issued by eq. 6 and sold by nodes 1 and 3 to 16 and 25, carbon settled by
 *   eq. 21–22 every ten rounds) and the leader's record of the previous commit quorum (eq. 19);
 *   the leader times it from proposal to commit on the virtual clock. Classic Raft keeps every
 *   weight 1; weighted Raft then scores every node on its replica of `powerMarket()` with
 *   `paperScoring()` at γ = 0.3 and applies the new vote weights by joint consensus.
 * - Figures 7, 9, 10: scenario 1's weighted market, round by round. Figure 8: nodes A and B
 *   settled by `settleRound` over Table 1's round.
 *
 * Deterministic: the same options give the same result, byte for byte once serialised.
 *
 * @throws InvalidArgumentError for a bad option.
 *
 * @example
 * ```ts
 * import { paperReproduction } from '@greenraft/simulation';
 *
 * const paper = await paperReproduction({ seed: 1, rounds: 200 });
 * console.log(paper.tables['5'].at(-1)); // { consensus: 200, beforeMs: …, afterMs: …, gainPct: … }
 * for (const figure of paper.figures) console.log(figure.id, figure.title, figure.points.length);
 * ```
 */
export async function paperReproduction(init: PaperReproductionInit = {}): Promise<PaperReproduction> {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('paperReproduction: the options must be an object');
  if (init.onProgress !== undefined && typeof init.onProgress !== 'function') throw new InvalidArgumentError('onProgress must be a function');
  const seed = integerOption('seed', init.seed ?? 1, { min: 0, max: 0xffffffff });
  const rounds = integerOption('rounds', init.rounds ?? 200, { min: 1, max: 10_000 });
  const elections = integerOption('elections', init.elections ?? 200, { min: 1, max: 100_000 });
  const sweepRounds = integerOption('sweepRounds', init.sweepRounds ?? 50, { min: 2, max: 10_000 });
  const latency = resolveLatencyModel(init.latency);
  if (init.studies !== undefined && !Array.isArray(init.studies)) throw new InvalidArgumentError(`studies must be an array of ${PAPER_STUDIES.join(', ')}`);
  const studies = new Set(init.studies ?? []);
  for (const study of studies) {
    if (!PAPER_STUDIES.includes(study)) throw new InvalidArgumentError(`unknown study '${String(study)}'; known: ${PAPER_STUDIES.join(', ')}`);
  }
  const parameters = PAPER_CONSENSUS_TIME_PARAMETERS;

  let done = 0;
  const extraEpochRuns = studies.has('epochs') ? EPOCH_STUDY_INTERVALS.filter((epoch) => epoch !== 1).length : 0;
  const sweepRuns = studies.has('sweep') ? SWEEP_SIZES.length * SWEEP_SPREADS.length * SWEEP_SCORINGS.length : 0;
  const total = 2 * elections + rounds * (2 * PAPER_SCENARIO_LEADERS.length + extraEpochRuns) + sweepRounds * sweepRuns + (studies.has('availability') ? 1 : 0);
  let step = '';
  const advance = () => {
    done++;
    init.onProgress?.({ step, done, total });
  };
  const begin = (name: string) => {
    step = name;
    init.onProgress?.({ step, done, total });
  };

  const generation = settlementTables();
  const script = paperMarketScript(seed);
  begin(`Tables 3–4: ${elections} elections per policy`);
  const electionCounts = electionsOnScript(elections, seed, script, undefined, advance);
  const elected = electionTables(electionCounts.classic, electionCounts.weighted);

  const ids = script.roster.nodes.map((node) => node.id);
  const latencies = linkLatencies(ids, deriveSeed(seed, 21), latency);
  const credit: Record<NodeId, number[]> = Object.fromEntries(FIGURE_7_NODES.map((id) => [id, []]));
  const greenCertificates: Record<NodeId, number[]> = Object.fromEntries(FIGURE_9_NODES.map((id) => [id, []]));
  const totalWeight: Record<NodeId, number[]> = Object.fromEntries(FIGURE_7_NODES.map((id) => [id, []]));
  let finalScores: Map<NodeId, number> | undefined;
  const observe = (round: number, market: PowerMarket) => {
    const breakdown = paperScoreBreakdown(market.scoreInputs(), parameters);
    for (const id of FIGURE_7_NODES) {
      credit[id]!.push(rounded(market.node(id)!.creditWeight));
      totalWeight[id]!.push(rounded(breakdown.get(id)!.total));
    }
    for (const id of FIGURE_9_NODES) greenCertificates[id]!.push(rounded(breakdown.get(id)!.greenCertificates));
    if (round === rounds) finalScores = new Map([...breakdown].map(([id, scores]) => [id, scores.total]));
  };
  const scenario = (leader: NodeId, scoring: 'classic' | 'paper', epoch: number, watch?: typeof observe): Promise<ScenarioResult> =>
    runConsensusScenario({
      script,
      seed,
      latencies,
      leader,
      scoring,
      parameters,
      carbonCycle: PAPER_CARBON_CYCLE,
      rounds,
      epoch,
      tolerateFailures: PAPER_TOLERATE_FAILURES,
      onRound: advance,
      ...(watch === undefined ? {} : { observe: watch }),
    });

  const scenarios: ConsensusScenarioSeries[] = [];
  const runs = new Map<NodeId, { classic: ScenarioResult; weighted: ScenarioResult }>();
  for (const [position, leader] of PAPER_SCENARIO_LEADERS.entries()) {
    begin(`Figures 1–6: scenario ${position + 1} (leader ${leader}), classic Raft`);
    const classic = await scenario(leader, 'classic', 1);
    begin(`Figures 1–6: scenario ${position + 1} (leader ${leader}), weighted Raft`);
    const weighted = await scenario(leader, 'paper', 1, position === 0 ? observe : undefined);
    if (weighted.refused.length > 0) throw new StateMachineError('apply', `the market refused a scripted transaction: ${weighted.refused[0]}`);
    runs.set(leader, { classic, weighted });
    scenarios.push({
      scenario: position + 1,
      leader,
      classicMs: classic.rounds.map((r) => rounded(r.consensusMs)),
      weightedMs: weighted.rounds.map((r) => rounded(r.consensusMs)),
      weightedIntermediate: weighted.rounds.map((r) => r.intermediate),
      weightedQuorumSize: weighted.rounds.map((r) => r.quorumSize),
      classicQuorumSize: classic.rounds[0]!.quorumSize,
    });
  }
  const totals = scenarios.map((s) => consensusTotals(s.classicMs, s.weightedMs));
  const tables: PaperTables = {
    '1': generation.generation,
    '2': generation.consumption,
    '3': elected.generation,
    '4': elected.consumption,
    '5': totals[0]!,
    '6': totals[1]!,
    '7': totals[2]!,
  };
  const weights: WeightSeries = { credit, greenCertificates, total: totalWeight };
  const figures = paperFigures(scenarios, totals, weights, creditTrajectories(rounds));

  const found: { -readonly [K in keyof PaperStudies]: PaperStudies[K] } = {};
  const context = { seed, latency, parameters, carbonCycle: PAPER_CARBON_CYCLE, onRound: advance };
  if (studies.has('epochs')) {
    const scenario1 = runs.get(PAPER_SCENARIO_LEADERS[0]!)!;
    const weighted = new Map<number, ScenarioResult>();
    for (const epoch of EPOCH_STUDY_INTERVALS) {
      begin(`Study: weight changes every ${epoch === 1 ? 'round' : `${epoch} rounds`}`);
      weighted.set(epoch, epoch === 1 ? scenario1.weighted : await scenario(PAPER_SCENARIO_LEADERS[0]!, 'paper', epoch));
    }
    found.epochs = epochStudyRows(scenario1.classic, weighted);
    figures.push(epochStudyFigure(found.epochs));
  }
  if (studies.has('sweep')) {
    begin('Study: cluster size × latency spread');
    found.sweep = await sweepStudy(context, sweepRounds);
    figures.push(...sweepFigures(found.sweep));
  }
  if (studies.has('availability')) {
    begin('Study: availability with the guard on and off');
    found.availability = await availabilityStudy(seed, finalScores!, latencies);
    figures.push(availabilityFigure(found.availability));
    advance();
  }
  return { seed, rounds, elections, latency, tables, figures, scenarios, weights, studies: found };
}

function paperFigures(
  scenarios: readonly ConsensusScenarioSeries[],
  totals: readonly (readonly ConsensusTotalRow[])[],
  weights: WeightSeries,
  trajectories: ReturnType<typeof creditTrajectories>,
): PaperFigure[] {
  const figures: PaperFigure[] = [];
  for (const s of scenarios) {
    figures.push({
      id: `figure-${s.scenario}`,
      number: s.scenario,
      title: `Time of each consensus before and after introducing node weights (scenario ${s.scenario}: node ${s.leader} leads)`,
      mark: 'line',
      xTitle: 'consensus (trading round)',
      yTitle: 'consensus time (ms)',
      series: ['classic Raft', 'weighted Raft'],
      points: [...seriesPoints('classic Raft', s.classicMs), ...seriesPoints('weighted Raft', s.weightedMs)],
    });
  }
  for (const [position, rows] of totals.entries()) {
    figures.push({
      id: `figure-${position + 4}`,
      number: position + 4,
      title: `Total consensus time before and after the improvement (scenario ${position + 1}: node ${scenarios[position]!.leader} leads)`,
      mark: 'bar',
      xTitle: 'consensus rounds',
      yTitle: 'total consensus time (ms)',
      xCategorical: true,
      yFromZero: true,
      series: ['classic Raft', 'weighted Raft'],
      points: rows.flatMap((row) => [
        { series: 'classic Raft', x: row.consensus, y: row.beforeMs },
        { series: 'weighted Raft', x: row.consensus, y: row.afterMs },
      ]),
    });
  }
  const byNode = (title: string, id: string, number: number, yTitle: string, values: Readonly<Record<NodeId, readonly number[]>>): PaperFigure => ({
    id,
    number,
    title,
    mark: 'line',
    xTitle: 'consensus (trading round)',
    yTitle,
    yFromZero: true,
    series: Object.keys(values).map((node) => `node ${node}`),
    points: Object.entries(values).flatMap(([node, series]) => seriesPoints(`node ${node}`, series)),
  });
  figures.push(byNode('Credit weights of nodes 1, 11, 17 and 27 (scenario 1)', 'figure-7', 7, 'credit weight W_a', weights.credit));
  figures.push({
    id: 'figure-8',
    number: 8,
    title: 'Credit weight of node A (always complies, starts at 0) and node B (always defaults, starts at 100)',
    mark: 'line',
    xTitle: 'consensus (trading round)',
    yTitle: 'credit weight W_a',
    yFromZero: true,
    series: ['node A', 'node B'],
    points: [...seriesPoints('node A', trajectories.compliant), ...seriesPoints('node B', trajectories.defaulter)],
  });
  figures.push(byNode('Green-certificate weights of nodes 1, 3, 16 and 25 (scenario 1)', 'figure-9', 9, 'green-certificate weight W_gc', weights.greenCertificates));
  figures.push(byNode('Total weights of nodes 1, 11, 17 and 27 (scenario 1)', 'figure-10', 10, 'total weight W', weights.total));
  return figures;
}



