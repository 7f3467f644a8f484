import * as z from 'zod';
import { blockHeaderSchema, hex64 } from './block-schema.js';
import { plainData } from './canonical.js';
import { InvalidLedgerError, MarketError } from './errors.js';
import type { Block } from './ledger.js';
import { MARKET_LIMITS } from './limits.js';
import { encodeSignedTransaction, parseSignedTransaction } from './transactions.js';

/** One block as a server serves it: the header and hash as they are, each transaction as parsed JSON. */
const servedBlockSchema = z.strictObject({
  header: blockHeaderSchema,
  hash: hex64,
  // One block holds the accepted transactions of one log entry, so no more than an entry holds.
  // blockFromJson refuses a longer list before copying it; this bounds the copy, which a getter may serve differently.
  transactions: z.array(z.unknown()).max(MARKET_LIMITS.maxEntryTransactions),
});

function clip(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

function hasOwnBlocks(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'blocks');
}

/** Rebuilds the block at `position` of a served list, or throws {@link InvalidLedgerError} naming it. */
function blockFromJson(item: unknown, position: number): Block {
  const height = position + 1;
  const where = `block at position ${position}`;
  let data: unknown;
  try {
    // A list far too long for one block is refused before anything of it is copied.
    const transactions: unknown = typeof item === 'object' && item !== null && Object.hasOwn(item, 'transactions') ? (item as { transactions: unknown }).transactions : undefined;
    if (Array.isArray(transactions) && transactions.length > MARKET_LIMITS.maxEntryTransactions) {
      throw new InvalidLedgerError(height, `${where}: transactions: a block holds at most ${MARKET_LIMITS.maxEntryTransactions} transactions, got ${transactions.length}`);
    }
    data = plainData(item);
  } catch (cause) {
    if (cause instanceof InvalidLedgerError) throw cause;
    throw new InvalidLedgerError(height, `${where} could not be read as plain data`, { cause });
  }
  const parsed = servedBlockSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `;
    throw new InvalidLedgerError(height, clip(`${where}: ${path}${issue.message}`), { cause: parsed.error });
  }
  const { header, hash, transactions } = parsed.data;
  const bytes: Uint8Array[] = [];
  // The entry that produced the block held these transactions as `[tx,tx,…]` within maxEntryBytes.
  let entryBytes = 1;
  for (let i = 0; i < transactions.length; i++) {
    let encoded: Uint8Array;
    try {
      encoded = encodeSignedTransaction(parseSignedTransaction(transactions[i]));
    } catch (cause) {
      const reason = cause instanceof MarketError ? cause.message : 'it could not be read';
      throw new InvalidLedgerError(height, clip(`${where}, transaction ${i}: ${reason}`), { cause });
    }
    entryBytes += encoded.length + 1;
    if (entryBytes > MARKET_LIMITS.maxEntryBytes) {
      throw new InvalidLedgerError(height, `${where}: its transactions exceed the ${MARKET_LIMITS.maxEntryBytes} bytes of one log entry`);
    }
    bytes.push(encoded);
  }
  return { header, hash, transactions: bytes };
}

/**
 * Rebuilds ledger {@link Block}s from the JSON a server serves, so that a downloaded copy can be
 * checked with {@link verifyLedger} or rebuilt with {@link replayLedger}.
 *
 * `value` is a list of blocks as `GET /v1/market/ledger` (or the `ledger` market query) serves
 * them, `{ header, hash, transactions }` with each transaction as parsed JSON: the `blocks` of
 * every page, concatenated in order, not the `{ height, blocks }` answer itself. Each block must
 * have exactly those fields (own properties only, nothing inherited), of their types, and at most
 * {@link MARKET_LIMITS}.maxEntryTransactions transactions within `maxEntryBytes`; each transaction
 * must be a well-formed signed transaction ({@link parseSignedTransaction}). Each is turned back
 * into its canonical bytes, so a served transaction that differs from the accepted one in any
 * field no longer matches its block's Merkle root. Nothing here checks the chain or signatures:
 * that is {@link verifyLedger}'s and {@link replayLedger}'s work, against a head from a quorum.
 *
 * @throws {@link InvalidLedgerError} naming the position of the first malformed block (its
 *   `height` is that position + 1), with the schema's or the transaction's error as the `cause`.
 *
 * @example
 * ```ts
 * import { blocksFromJson, type LedgerHead, verifyLedger } from '@greenraft/power-market';
 *
 * const servers = ['http://10.0.0.1:7001', 'http://10.0.0.2:7001', 'http://10.0.0.3:7001'];
 * const getJson = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
 *
 * // Every replica's own head (`stale`: answered from its own state, never forwarded), and the one a majority reports.
 * const heads = await Promise.all(servers.map((url) => getJson<LedgerHead>(`${url}/v1/market/head?consistency=stale`)));
 * const key = (h: LedgerHead) => `${h.height}/${h.hash}/${h.index}/${h.term}`;
 * const head = heads.find((h) => heads.filter((other) => key(other) === key(h)).length > servers.length / 2);
 * if (head === undefined) throw new Error('no majority reports the same head yet: ask again');
 *
 * // One server's copy, every page, up to the head (the server may already hold more blocks).
 * const served: unknown[] = [];
 * while (served.length < head.height) {
 *   const page = await getJson<{ blocks: unknown[] }>(`${servers[0]}/v1/market/ledger?from=${served.length + 1}&limit=1000`);
 *   if (page.blocks.length === 0) break; // behind the head: verifyLedger reports it
 *   served.push(...page.blocks);
 * }
 *
 * const check = verifyLedger(blocksFromJson(served.slice(0, head.height)), { head }); // { valid: true, height: … }
 * if (!check.valid) console.error(`block ${check.height} (${check.reason}): ${check.message}`);
 * ```
 */
export function blocksFromJson(value: unknown): Block[] {
  const blocks: Block[] = [];
  try {
    if (!Array.isArray(value)) {
      const hint = hasOwnBlocks(value) ? ': pass the `blocks` of every page of the ledger, concatenated, not the answer itself' : '';
      throw new InvalidLedgerError(1, `the ledger must be a list of blocks${hint}`);
    }
    const items: readonly unknown[] = value;
    for (let position = 0; position < items.length; position++) {
      // Own elements only: a hole must not read a block from Array.prototype.
      if (!Object.hasOwn(items, position)) throw new InvalidLedgerError(position + 1, `block at position ${position} is missing (a hole in the list)`);
      blocks.push(blockFromJson(items[position], position));
    }
  } catch (cause) {
    if (cause instanceof InvalidLedgerError) throw cause;
    // A proxy or getter of the caller's that throws, say: still a typed error, never a TypeError.
    throw new InvalidLedgerError(blocks.length + 1, `block at position ${blocks.length} could not be read`, { cause });
  }
  return blocks;
}
