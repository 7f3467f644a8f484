import type { NodeId } from '@greenraft/consensus';
import { PAPER_PRICES, type RoundNode, settleRound, toYuan } from '@greenraft/power-market';
import { PAPER_ELECTION_PARAMETERS, weightBeforeNextRound } from '@greenraft/weight-scoring';
import type { ElectionCounts } from '../scenario-paper-elections.js';
import { PAPER_TABLE_1_ROUND } from './table-1-round.js';

/** One row of Tables 1–2: a node's settlement in the paper's first trading round (§5.1). Money in yuan. */
export interface SettlementTableRow {
  readonly node: number;
  /** The other party of the node's contract. */
  readonly counterparty: number;
  /** U, yuan/kWh. */
  readonly unitPrice: number;
  readonly contractedKWh: number;
  /** Generated (Table 1) or consumed (Table 2) kWh. */
  readonly actualKWh: number;
  /** A generator's income V_f or a consumer's expense V_y (eq. 26–31). */
  readonly revenueOrExpense: number;
  /** V_g of the node's contract. */
  readonly gridRevenue: number;
  readonly creditWeightBefore: number;
  /** W_a after the round (eq. 14–17). */
  readonly creditWeightAfter: number;
  /** M_f or M_y, the penalty the node paid (eq. 32–33). */
  readonly penalty: number;
  /** A_i, its share of the other contracts' penalties (eq. 34). */
  readonly allocation: number;
}

/** One column of Tables 3–4: leader elections one node won under each policy. */
export interface ElectionTableRow {
  readonly node: number;
  readonly classic: number;
  readonly weighted: number;
}

/** One row of Tables 5–7: total consensus time after `consensus` rounds, classic ("before") and weighted ("after"). */
export interface ConsensusTotalRow {
  readonly consensus: number;
  readonly beforeMs: number;
  readonly afterMs: number;
  /** (before − after) / before · 100. */
  readonly gainPct: number;
}

/** The round counts at which the paper's Tables 5–7 report totals. */
export const PAPER_CONSENSUS_CHECKPOINTS: readonly number[] = Object.freeze([10, 20, 50, 100, 150, 200]);

/** Rounds a figure to `digits` decimals, so printed tables and JSON carry no float noise. */
export function rounded(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Tables 1 and 2: the paper's first trading round settled by `settleRound` of
 * `@greenraft/power-market` (eq. 14–17, 26–34) at the paper's prices. Table 1 lists the
 * generators, Table 2 the consumers.
 */
export function settlementTables(): { readonly generation: SettlementTableRow[]; readonly consumption: SettlementTableRow[] } {
  const round = PAPER_TABLE_1_ROUND;
  const nodes: RoundNode[] = round.nodes.map((node) => ({ id: node.id, kind: node.kind, creditWeight: node.creditWeight }));
  const settlement = settleRound({ prices: PAPER_PRICES, nodes, contracts: round.contracts });
  const rows = settlement.nodes.map((node): SettlementTableRow => {
    const contract = round.contracts.find((c) => c.generator === node.id || c.consumer === node.id)!;
    const generation = node.kind === 'generation';
    return {
      node: Number(node.id),
      counterparty: Number(generation ? contract.consumer : contract.generator),
      unitPrice: contract.unitPrice,
      contractedKWh: contract.contractedKWh,
      actualKWh: generation ? contract.generatedKWh : contract.consumedKWh,
      revenueOrExpense: toYuan(node.revenueOrExpense),
      gridRevenue: toYuan(node.gridRevenue),
      creditWeightBefore: node.creditWeightBefore,
      creditWeightAfter: rounded(node.creditWeightAfter),
      penalty: toYuan(node.penalty),
      allocation: toYuan(node.allocation),
    };
  });
  return { generation: rows.filter((row) => row.node <= 15), consumption: rows.filter((row) => row.node > 15) };
}

/** Tables 3 and 4 from the two policies' election counts: nodes 1–15, then 16–30. */
export function electionTables(classic: ElectionCounts, weighted: ElectionCounts): { readonly generation: ElectionTableRow[]; readonly consumption: ElectionTableRow[] } {
  const rows = Object.keys(classic).map((id: NodeId) => ({ node: Number(id), classic: classic[id] ?? 0, weighted: weighted[id] ?? 0 }));
  const half = Math.ceil(rows.length / 2);
  return { generation: rows.slice(0, half), consumption: rows.slice(half) };
}

/** The round counts a run of `rounds` reports totals at: the paper's, and the run's last round. */
export function consensusCheckpoints(rounds: number): number[] {
  const points = PAPER_CONSENSUS_CHECKPOINTS.filter((point) => point <= rounds);
  if (points.at(-1) !== rounds) points.push(rounds);
  return points;
}

/** Tables 5–7: cumulative consensus time of the classic and weighted runs at each checkpoint. */
export function consensusTotals(classicMs: readonly number[], weightedMs: readonly number[]): ConsensusTotalRow[] {
  const rows: ConsensusTotalRow[] = [];
  let before = 0;
  let after = 0;
  const checkpoints = new Set(consensusCheckpoints(classicMs.length));
  for (let i = 0; i < classicMs.length; i++) {
    before += classicMs[i]!;
    after += weightedMs[i]!;
    if (checkpoints.has(i + 1)) rows.push({ consensus: i + 1, beforeMs: rounded(before, 2), afterMs: rounded(after, 2), gainPct: rounded(((before - after) / before) * 100, 2) });
  }
  return rows;
}

/** Figure 8's two nodes: A always performs from credit 0, B always defaults from credit 100. */
export interface CreditTrajectories {
  /** W_a of node A after each round (1-based rounds, index 0 is round 1). */
  readonly compliant: readonly number[];
  readonly defaulter: readonly number[];
}

// Node A takes the place of consumer 26 (60 kWh a day, 2.6 % of the round's volume) and takes
// exactly what it contracted; node B takes the place of consumer 17 and takes 90 % of its 200 kWh.
const NODE_A = '26';
const NODE_B = '17';

/**
 * Figure 8 (§5.3.1): the credit weights of a node that always complies (A, from 0) and one that
 * always defaults (B, from 100), each round settled by `settleRound` over Table 1's round (the
 * other 28 nodes as in Table 1), with the decay of eq. 24 every l = 30 rounds.
 */
export function creditTrajectories(rounds: number): CreditTrajectories {
  const credit = new Map<NodeId, number>(PAPER_TABLE_1_ROUND.nodes.map((node) => [node.id, node.creditWeight]));
  credit.set(NODE_A, 0);
  credit.set(NODE_B, 100);
  const contracts = PAPER_TABLE_1_ROUND.contracts.map((contract) =>
    contract.consumer === NODE_A
      ? { ...contract, consumedKWh: contract.contractedKWh }
      : contract.consumer === NODE_B
        ? { ...contract, consumedKWh: Math.round(contract.contractedKWh * 0.9) }
        : contract,
  );
  const compliant: number[] = [];
  const defaulter: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const nodes = PAPER_TABLE_1_ROUND.nodes.map((node) => ({ id: node.id, kind: node.kind, creditWeight: credit.get(node.id)! }));
    for (const node of settleRound({ prices: PAPER_PRICES, nodes, contracts }).nodes) {
      credit.set(node.id, weightBeforeNextRound(node.creditWeightAfter, round, PAPER_ELECTION_PARAMETERS));
    }
    compliant.push(rounded(credit.get(NODE_A)!));
    defaulter.push(rounded(credit.get(NODE_B)!));
  }
  return { compliant, defaulter };
}
