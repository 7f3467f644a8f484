/**
 * The tables of `greenraft paper` as Markdown, CSV and JSON: one column table per table, so every
 * format prints the same columns with the same titles and the same number of decimals.
 */
import type { AvailabilityRow, ConsensusTotalRow, ElectionTableRow, EpochStudyRow, PaperReproduction, SettlementTableRow, SweepRow } from '@greenraft/simulation';

/** One column: the row field it shows, its title, and the decimals of a number (none: as is). */
export interface TableColumn<Row> {
  readonly key: keyof Row & string;
  readonly title: string;
  readonly digits?: number;
}

/** A table of the output: a file name, a caption, its columns and its rows. */
export interface OutputTable {
  /** The file name without extension: `table-1`, `study-epochs`. */
  readonly id: string;
  readonly title: string;
  readonly columns: readonly TableColumn<Record<string, unknown>>[];
  readonly rows: readonly Record<string, unknown>[];
  /**
   * Markdown only: print the table the paper's way, one row per column and one column per row
   * (Tables 3–4 list nodes across the page).
   */
  readonly transposed?: boolean;
}

const settlementColumns = (kind: 'generation' | 'consumption'): TableColumn<SettlementTableRow>[] => [
  { key: 'node', title: kind === 'generation' ? 'Power generation node' : 'Power consumption node' },
  { key: 'counterparty', title: 'Transaction node' },
  { key: 'unitPrice', title: 'Contract unit price (yuan/kWh)', digits: 2 },
  { key: 'contractedKWh', title: 'Contracted electricity (kWh)' },
  { key: 'actualKWh', title: kind === 'generation' ? 'Actual power generation (kWh)' : 'Actual power consumption (kWh)' },
  { key: 'revenueOrExpense', title: kind === 'generation' ? 'Income (yuan)' : 'Expense (yuan)', digits: 2 },
  { key: 'gridRevenue', title: 'Grid revenue (yuan)', digits: 2 },
  { key: 'creditWeightBefore', title: 'Credit weight before', digits: 2 },
  { key: 'creditWeightAfter', title: 'Credit weight after', digits: 2 },
  { key: 'penalty', title: kind === 'generation' ? 'M_f (yuan)' : 'M_y (yuan)', digits: 2 },
  { key: 'allocation', title: 'A_i (yuan)', digits: 2 },
];

const electionColumns: TableColumn<ElectionTableRow>[] = [
  { key: 'node', title: 'Node number' },
  { key: 'classic', title: 'Classic Raft' },
  { key: 'weighted', title: 'Weighted Raft' },
];

const totalColumns: TableColumn<ConsensusTotalRow>[] = [
  { key: 'consensus', title: 'Number of consensus' },
  { key: 'beforeMs', title: 'Consensus time before improvement (ms)', digits: 2 },
  { key: 'afterMs', title: 'Consensus time after improvement (ms)', digits: 2 },
  { key: 'gainPct', title: 'Efficiency gains (%)', digits: 2 },
];

const epochColumns: TableColumn<EpochStudyRow & { label: string }>[] = [
  { key: 'label', title: 'Weights changed' },
  { key: 'weightChanges', title: 'Weight changes' },
  { key: 'tradeMs', title: 'Trade consensus (ms)', digits: 2 },
  { key: 'weightChangeMs', title: 'Weight changes (ms)', digits: 2 },
  { key: 'totalMs', title: 'Total (ms)', digits: 2 },
  { key: 'tradeMessages', title: 'Trade messages' },
  { key: 'weightChangeMessages', title: 'Weight-change messages' },
  { key: 'tradeGainPct', title: 'Gain, trades only (%)', digits: 2 },
  { key: 'netGainPct', title: 'Net gain, time (%)', digits: 2 },
  { key: 'netMessageGainPct', title: 'Net gain, messages (%)', digits: 2 },
];

const sweepColumns: TableColumn<SweepRow>[] = [
  { key: 'nodes', title: 'Nodes' },
  { key: 'spread', title: 'Latency spread σ' },
  { key: 'scoring', title: 'Scoring' },
  { key: 'meanConsensusMs', title: 'Mean consensus (ms)', digits: 3 },
  { key: 'steadyConsensusMs', title: 'Mean, second half (ms)', digits: 3 },
  { key: 'meanWeightChangeMs', title: 'Mean weight change (ms)', digits: 3 },
  { key: 'gainPct', title: 'Gain (%)', digits: 2 },
  { key: 'steadyGainPct', title: 'Gain, second half (%)', digits: 2 },
  { key: 'netGainPct', title: 'Net gain with weight changes (%)', digits: 2 },
];

const availabilityColumns: TableColumn<AvailabilityRow & { label: string }>[] = [
  { key: 'label', title: 'Weights' },
  { key: 'crashed', title: 'Heaviest voters crashed' },
  { key: 'survivingWeightPct', title: 'Vote weight running (%)', digits: 2 },
  { key: 'committed', title: 'Elected and committed' },
];

/** The weights an availability row ran with, in words. */
export function guardLabel(row: Pick<AvailabilityRow, 'guard' | 'tolerateFailures'>): string {
  if (row.guard === 'classic') return 'classic Raft (every weight 1)';
  const role = row.guard === 'off' ? 'no guard' : row.guard === 'paper' ? 'as in the paper runs' : 'the default guard';
  return `paper scores, f = ${row.tolerateFailures} (${role})`;
}

/** A table whose columns are checked against its rows' type. */
function table<Row extends object>(init: { id: string; title: string; columns: readonly TableColumn<Row>[]; rows: readonly Row[]; transposed?: boolean }): OutputTable {
  return init as unknown as OutputTable;
}

/** Every table of a reproduction: the paper's seven, then the studies that ran. */
export function outputTables(result: PaperReproduction): OutputTable[] {
  const { tables, studies } = result;
  const list: OutputTable[] = [
    table({ id: 'table-1', title: 'Table 1. Results of generation node transactions', columns: settlementColumns('generation'), rows: tables['1'] }),
    table({ id: 'table-2', title: 'Table 2. Results of consumption node transactions', columns: settlementColumns('consumption'), rows: tables['2'] }),
    table({ id: 'table-3', title: `Table 3. Results of leader node election (A): elections won of ${result.elections}`, columns: electionColumns, rows: tables['3'], transposed: true }),
    table({ id: 'table-4', title: `Table 4. Results of leader node election (B): elections won of ${result.elections}`, columns: electionColumns, rows: tables['4'], transposed: true }),
    ...(['5', '6', '7'] as const).map((key, position) =>
      table({
        id: `table-${key}`,
        title: `Table ${key}. Comparison of total consensus time before and after improvement (scenario ${position + 1}: node ${result.scenarios[position]!.leader} leads)`,
        columns: totalColumns,
        rows: tables[key],
      }),
    ),
  ];
  if (studies.epochs !== undefined) {
    list.push(
      table({
        id: 'study-epochs',
        title: `Study: the cost of agreeing on the weights (scenario 1, ${result.rounds} rounds)`,
        columns: epochColumns,
        rows: studies.epochs.map((row) => ({ ...row, label: row.epoch === null ? 'never (classic Raft)' : row.epoch === 1 ? 'every round' : `every ${row.epoch} rounds` })),
      }),
    );
  }
  if (studies.sweep !== undefined) {
    list.push(table({ id: 'study-sweep', title: 'Study: cluster size × latency spread, classic vs paper vs latency scoring', columns: sweepColumns, rows: studies.sweep }));
  }
  if (studies.availability !== undefined) {
    list.push(
      table({
        id: 'study-availability',
        title: 'Study: availability as the heaviest voters crash, fault-tolerance guard on and off',
        columns: availabilityColumns,
        rows: studies.availability.rows.map((row) => ({ ...row, label: guardLabel(row) })),
      }),
    );
  }
  return list;
}

function cell(value: unknown, digits: number | undefined): string {
  if (typeof value === 'number') return digits === undefined ? String(value) : value.toFixed(digits);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value ?? '');
}

/** A Markdown table (GitHub flavour), with its title as a bold caption. */
export function markdownTable(table: OutputTable): string {
  const escapePipes = (text: string) => text.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]) => `| ${cells.map(escapePipes).join(' | ')} |`;
  const [head, ...rest] = table.columns;
  let header: string[];
  let body: string[][];
  if (table.transposed === true && head !== undefined) {
    header = [head.title, ...table.rows.map((row) => cell(row[head.key], head.digits))];
    body = rest.map((column) => [column.title, ...table.rows.map((row) => cell(row[column.key], column.digits))]);
  } else {
    header = table.columns.map((column) => column.title);
    body = table.rows.map((row) => table.columns.map((column) => cell(row[column.key], column.digits)));
  }
  return [`**${table.title}**`, '', line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

/** RFC 4180 CSV: a header of titles, then one line per row; fields quoted when they need it. */
export function csvTable(table: OutputTable): string {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = [table.columns.map((column) => quote(column.title)).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((column) => quote(cell(row[column.key], column.digits))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The rows as JSON, every field of every row (not only the printed columns). */
export function jsonTable(table: OutputTable): string {
  return `${JSON.stringify(table.rows, null, 2)}\n`;
}
