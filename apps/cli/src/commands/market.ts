/** `greenraft market settle FILE [--json]`: settles one trading round (the paper's Tables 1 and 2). */
import { readFile } from 'node:fs/promises';
import { MarketError, parseRoundDocument, type RoundSettlement, settleRound, toYuan } from '@greenraft/power-market';

const USAGE = `usage: greenraft market settle FILE [--json]

Settles one trading round read from FILE (JSON in the format of the paper's Tables 1 and 2:
prices {feedInTariff_S, gridPurchasePrice_B, overGridFee_G}, nodes [{id, kind,
creditWeightBefore}], contracts [{generator, consumer, unitPrice_U, contractedKWh,
actualGeneratedKWh, actualConsumedKWh}]) and prints, per node, its revenue or expense, the
grid's revenue, its credit weight after the round, the penalty it paid and the penalties
allocated to it (eq. 14-17, 26-34). Money in yuan.

options:
  --json      print a JSON array ordered by node id instead of a table
  -h, --help  show this help

exit codes: 0 settled, 2 invalid arguments or input`;

/** One row of the command's output: money in yuan, credit weight on the 0–100 scale. */
export interface SettlementRow {
  id: string | number;
  revenueOrExpense: number;
  gridRevenue: number;
  creditWeightAfter: number;
  penalty: number;
  allocation: number;
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The output rows of a settlement, ordered by the document's node ids. */
export function settlementRows(settlement: RoundSettlement, originalIds: ReadonlyMap<string, string | number>): SettlementRow[] {
  return settlement.nodes
    .map((node) => ({
      id: originalIds.get(node.id) ?? node.id,
      revenueOrExpense: toYuan(node.revenueOrExpense),
      gridRevenue: toYuan(node.gridRevenue),
      creditWeightAfter: Math.round(node.creditWeightAfter * 1e4) / 1e4,
      penalty: toYuan(node.penalty),
      allocation: toYuan(node.allocation),
    }))
    .sort((a, b) => compareIds(a.id, b.id));
}

function formatTable(rows: readonly SettlementRow[], kinds: ReadonlyMap<string, string>): string {
  const header = ['node', 'kind', 'revenue/expense', 'grid revenue', 'credit after', 'penalty', 'allocation'];
  const body = rows.map((row) => [
    String(row.id),
    kinds.get(String(row.id)) ?? '',
    row.revenueOrExpense.toFixed(2),
    row.gridRevenue.toFixed(2),
    row.creditWeightAfter.toFixed(2),
    row.penalty.toFixed(2),
    row.allocation.toFixed(2),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

async function settle(args: string[]): Promise<number> {
  let json = false;
  const files: string[] = [];
  for (const arg of args) {
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    } else if (arg.startsWith('-')) {
      console.error(`greenraft market settle: unknown option '${arg}'\n\n${USAGE}`);
      return 2;
    } else files.push(arg);
  }
  if (files.length !== 1) {
    console.error(`greenraft market settle: expected one FILE, got ${files.length}\n\n${USAGE}`);
    return 2;
  }
  const file = files[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    console.error(`greenraft market settle: cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    console.error(`greenraft market settle: ${file} is not valid JSON: ${(error as Error).message}`);
    return 2;
  }
  let rows: SettlementRow[];
  let kinds: Map<string, string>;
  try {
    const { round, originalIds } = parseRoundDocument(document);
    rows = settlementRows(settleRound(round), originalIds);
    kinds = new Map(round.nodes.map((node) => [node.id, node.kind]));
  } catch (error) {
    if (!(error instanceof MarketError)) throw error;
    console.error(`greenraft market settle: invalid round in ${file}: ${error.message}`);
    return 2;
  }
  console.log(json ? JSON.stringify(rows, null, 2) : formatTable(rows, kinds));
  return 0;
}

/** Runs `greenraft market <subcommand> ...`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    (subcommand === undefined ? console.error : console.log)(USAGE);
    return subcommand === undefined ? 2 : 0;
  }
  if (subcommand === 'settle') return settle(rest);
  console.error(`greenraft market: unknown subcommand '${subcommand}'\n\n${USAGE}`);
  return 2;
}
