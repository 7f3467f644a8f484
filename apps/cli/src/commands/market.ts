/**
 * `greenraft market settle FILE [--json]`: settles one trading round (the paper's Tables 1 and 2);
 * `greenraft market submit|balances|ledger|query`: the market of a running cluster.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type JsonValue, MARKET_QUERIES, type MarketQuery, RejectedError } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { MarketError, parseRoundDocument, parseSignedTransaction, type RoundSettlement, settleRound, toYuan } from '@greenraft/power-market';
import { booleanOption, commandSpec, defineCommand, integerOption, type ParsedCommandLine } from '../args.js';
import { print, printError } from '../io.js';
import { clusterOptions, EXIT_NO, keyOption, withClient, writeOptions } from './kv.js';

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

// ---- Commands against a running market cluster (`stateMachine: "market"`), through @greenraft/client.

/** The table of `greenraft market submit`. */
export const marketSubmitSpec = commandSpec({
  name: 'market submit',
  summary: 'submit a signed market transaction to a running cluster',
  description: [
    'Submits the signed transaction in FILE (JSON: {"transaction":{…},"signature":"…"}, as',
    "@greenraft/power-market's marketClient makes it; '-' reads stdin) through the log and prints its",
    'log index and receipt (--json: {"index","receipt"}). A transaction the market refuses (a bad',
    'signature, an unknown node, a replayed nonce, …) changes nothing and exits 1 with the reason.',
  ].join('\n'),
  options: { ...clusterOptions, ...writeOptions },
  positionals: [{ name: 'FILE', help: "the signed transaction ('-': stdin)" }],
  examples: ['greenraft market submit register-g1.json --endpoints http://127.0.0.1:7001'],
  exitStatus: '0 applied, 1 refused by the market (nothing changed), 2 bad arguments or input, no node reachable, or an outcome unknown.',
});

/** `greenraft market submit`. */
export const marketSubmitCommand = defineCommand(marketSubmitSpec, async ({ options, positionals }) => {
  const file = positionals[0]!;
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : await readFile(file, 'utf8');
  } catch (error) {
    printError(`greenraft market submit: cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  let transaction: object;
  try {
    // Checked here as the node checks it, so a malformed file is a clear local error.
    transaction = parseSignedTransaction(JSON.parse(text));
  } catch (error) {
    printError(`greenraft market submit: ${file} is not a signed transaction: ${(error as Error).message}`);
    return 2;
  }
  return withClient(options, async (client) => {
    try {
      const result = await client.market.submit(transaction, keyOption(options));
      print(options.json ? JSON.stringify(result) : `applied at index ${result.index}: ${JSON.stringify(result.receipt)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof RejectedError)) throw error;
      if (options.json) print(JSON.stringify({ rejected: true, reason: error.reason ?? null, message: error.message }));
      printError(`greenraft market submit: refused${error.reason === undefined ? '' : ` (${error.reason})`}: ${error.message}`);
      return EXIT_NO;
    }
  });
});

/** `{ unit: 'milli-yuan', nodes: { id: balance }, grid }` as `id  balance` lines in yuan, the grid last. */
function formatBalances(answer: JsonValue): string | undefined {
  const { unit, nodes, grid } = (answer ?? {}) as { unit?: unknown; nodes?: unknown; grid?: unknown };
  if (unit !== 'milli-yuan' || nodes === null || typeof nodes !== 'object' || typeof grid !== 'number') return undefined;
  const rows: [string, number][] = [...Object.entries(nodes as Record<string, number>), ['(grid)', grid]];
  const width = Math.max(...rows.map(([id]) => id.length), 'participant'.length);
  return [`${'participant'.padEnd(width)}  balance (yuan)`, ...rows.map(([id, balance]) => `${id.padEnd(width)}  ${toYuan(balance).toFixed(3)}`)].join('\n');
}

/** `{ height, blocks: [{ header, hash, transactions }] }` as one line per block. */
function formatLedger(answer: JsonValue): string | undefined {
  const { height, blocks } = (answer ?? {}) as { height?: unknown; blocks?: unknown };
  if (typeof height !== 'number' || !Array.isArray(blocks)) return undefined;
  const lines = (blocks as { header?: { height?: number; index?: number; term?: number }; hash?: string; transactions?: { transaction?: { type?: string; signer?: string } }[] }[]).map(
    (block) =>
      `block ${block.header?.height}  index ${block.header?.index} term ${block.header?.term}  ${block.hash}  ${(block.transactions ?? [])
        .map((signed) => `${signed.transaction?.type ?? '?'} by ${signed.transaction?.signer ?? '?'}`)
        .join(', ')}`,
  );
  return [`ledger height ${height}`, ...lines].join('\n');
}

/** The table of `greenraft market balances`. */
export const marketBalancesSpec = commandSpec({
  name: 'market balances',
  summary: 'show the participants’ balances on a running market cluster',
  description: 'Prints every participant’s balance and the grid’s in yuan, as the replicated market holds them (--json: the node’s answer, in milli-yuan).',
  options: { ...clusterOptions },
  examples: ['greenraft market balances --endpoints http://127.0.0.1:7001'],
  exitStatus: '0 done, 2 bad arguments or no node reachable.',
});

/** `greenraft market balances`. */
export const marketBalancesCommand = defineCommand(marketBalancesSpec, ({ options }) =>
  withClient(options, async (client) => {
    const answer = await client.market.query('balances');
    print(options.json ? JSON.stringify(answer) : (formatBalances(answer) ?? JSON.stringify(answer, null, 2)));
    return 0;
  }),
);

/** The table of `greenraft market ledger`. */
export const marketLedgerSpec = commandSpec({
  name: 'market ledger',
  summary: 'show ledger blocks of a running market cluster',
  description: 'Prints the hash-chained ledger blocks from height --from, at most --limit of them, one line each (--json: the node’s answer, transactions included).',
  options: {
    ...clusterOptions,
    from: integerOption({ value: 'H', help: 'the first block height', min: 1, max: Number.MAX_SAFE_INTEGER, default: 1 }),
    limit: integerOption({ value: 'N', help: 'at most N blocks', min: 1, max: 1000, default: 100 }),
  },
  examples: ['greenraft market ledger --from 1 --limit 10 --json'],
  exitStatus: '0 done, 2 bad arguments or no node reachable.',
});

/** `greenraft market ledger`. */
export const marketLedgerCommand = defineCommand(marketLedgerSpec, ({ options }) =>
  withClient(options, async (client) => {
    const answer = await client.market.query('ledger', { from: options.from, limit: options.limit });
    print(options.json ? JSON.stringify(answer) : (formatLedger(answer) ?? JSON.stringify(answer, null, 2)));
    return 0;
  }),
);

/** The table of `greenraft market query`. */
export const marketQuerySpec = commandSpec({
  name: 'market query',
  summary: 'show replicated market state of a running cluster',
  description: `Prints one part of the replicated market: ${MARKET_QUERIES.filter((what) => what !== 'ledger').join(', ')} (--json: the node’s answer).`,
  options: { ...clusterOptions },
  positionals: [{ name: 'WHAT', help: MARKET_QUERIES.filter((what) => what !== 'ledger').join('|') }],
  examples: ['greenraft market query weights --json', 'greenraft market query head'],
  exitStatus: '0 done, 2 bad arguments or no node reachable.',
});

/** `greenraft market query`. */
export const marketQueryCommand = defineCommand(marketQuerySpec, ({ options, positionals }) => {
  const what = positionals[0]! as MarketQuery;
  if (what === 'ledger' || !MARKET_QUERIES.includes(what)) {
    throw new InvalidArgumentError(`WHAT takes one of ${MARKET_QUERIES.filter((name) => name !== 'ledger').join(', ')}, not '${what}' (the ledger has its own command)`);
  }
  return withClient(options, async (client) => {
    const answer = await client.market.query(what);
    print(JSON.stringify(answer, null, options.json ? undefined : 2));
    return 0;
  });
});

/** Every `greenraft market` command that talks to a cluster. */
export const marketClusterCommands = [marketSubmitCommand, marketBalancesCommand, marketLedgerCommand, marketQueryCommand];
