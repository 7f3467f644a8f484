/** `greenraft market settle FILE [--json]`: settles one trading round (the paper's Tables 1 and 2). */
import { readFile } from 'node:fs/promises';
import { MarketError, parseRoundDocument, type RoundSettlement, settleRound, toYuan } from '@greenraft/power-market';
import { booleanOption, commandSpec, defineCommand, type ParsedCommandLine } from '../args.js';
import { print, printError } from '../io.js';

/** The table of `greenraft market settle`. */
export const marketSettleSpec = commandSpec({
  name: 'market settle',
  summary: 'settle a power-trading round from a JSON file (the paper\u2019s Tables 1\u20132)',
  description: [
    'Settles one trading round read from FILE (JSON in the format of the paper\'s Tables 1 and 2:',
    'prices {feedInTariff_S, gridPurchasePrice_B, overGridFee_G}, nodes [{id, kind,',
    'creditWeightBefore}], contracts [{generator, consumer, unitPrice_U, contractedKWh,',
    'actualGeneratedKWh, actualConsumedKWh}]) and prints, per node, its revenue or expense, the',
    "grid's revenue, its credit weight after the round, the penalty it paid and the penalties",
    'allocated to it (eq. 14-17, 26-34). Money in yuan.',
  ].join('\n'),
  options: {
    json: booleanOption({ help: 'print a JSON array ordered by node id instead of a table' }),
  },
  positionals: [{ name: 'FILE', help: 'the round to settle' }],
  examples: ['greenraft market settle fixtures/paper/paper-tables-1-2.json'],
  exitStatus: '0 settled, 2 invalid arguments or input.',
});

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

/** Runs `greenraft market settle`; resolves with the exit code. */
export async function runMarketSettle({ options, positionals }: ParsedCommandLine<typeof marketSettleSpec.options>): Promise<number> {
  const json = options.json;
  const file = positionals[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    printError(`greenraft market settle: cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    printError(`greenraft market settle: ${file} is not valid JSON: ${(error as Error).message}`);
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
    printError(`greenraft market settle: invalid round in ${file}: ${error.message}`);
    return 2;
  }
  print(json ? JSON.stringify(rows, null, 2) : formatTable(rows, kinds));
  return 0;
}

/** `greenraft market settle`. */
export const marketSettleCommand = defineCommand(marketSettleSpec, runMarketSettle);
