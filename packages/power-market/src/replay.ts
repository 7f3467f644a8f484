import { canonicalEncode } from './canonical.js';
import { InvalidLedgerError, MarketError } from './errors.js';
import { type Block, type LedgerHead, verifyLedger } from './ledger.js';
import { type PowerMarket, type PowerMarketInit, powerMarket } from './market.js';
import { decodeSignedTransaction } from './transactions.js';

/** Options of {@link replayLedger}. */
export interface ReplayLedgerOptions {
  /**
   * The head the ledger must end at, from a source you trust (a quorum of replicas). With it a
   * truncated tail, a re-hashed last block, or a chain rebuilt after a dropped transaction is
   * refused, and the rebuilt market also accounts for the entries after the last block: it ends
   * at the head's `appliedIndex`, so its snapshot equals the replicas' byte for byte.
   * @default undefined (the chain is only checked against itself)
   */
  readonly head?: LedgerHead;
}

/**
 * Rebuilds a market from its ledger alone: verifies the chain (against `head` when given), then
 * re-applies every block's transactions at the block's term and index. Every transaction must be
 * accepted again and every rebuilt block must hash as the original did, or the ledger is refused.
 *
 * @param init - the market's genesis options (the same as the replicas').
 * @throws {@link InvalidLedgerError} naming the first block that fails.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket, replayLedger } from '@greenraft/power-market';
 *
 * const market = powerMarket();
 * market.execute(marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' }));
 * // An auditor rebuilds the market from the blocks alone (with the replicas' genesis options),
 * // anchored to the head a quorum of replicas serves.
 * const rebuilt = replayLedger(market.ledger(), {}, { head: market.ledgerHead() });
 * rebuilt.balance('g1') === market.balance('g1'); // true
 * ```
 */
export function replayLedger(blocks: readonly Block[], init: PowerMarketInit = {}, options: ReplayLedgerOptions = {}): PowerMarket {
  const check = verifyLedger(blocks, options);
  if (!check.valid) throw new InvalidLedgerError(check.height, check.message);
  const market = powerMarket(init);
  for (const block of blocks) {
    const { height, term, index } = block.header;
    let transactions: unknown[];
    try {
      transactions = block.transactions.map((bytes) => decodeSignedTransaction(bytes));
    } catch (cause) {
      if (!(cause instanceof MarketError)) throw cause;
      throw new InvalidLedgerError(height, `block ${height} holds bytes that are not a well-formed signed transaction`, { cause });
    }
    const result = market.apply({ index, term, data: canonicalEncode(transactions) });
    const refused = result.outcomes.find((outcome) => !outcome.accepted);
    if (refused !== undefined && !refused.accepted) {
      throw new InvalidLedgerError(height, `block ${height} holds a transaction the market refuses: ${refused.error.message}`, { cause: refused.error });
    }
    if (result.block?.hash !== block.hash) throw new InvalidLedgerError(height, `block ${height} does not replay to the same hash`);
  }
  const head = options.head;
  if (head !== undefined && head.appliedIndex > market.lastAppliedIndex()) {
    // The entries after the last block changed nothing but the applied index.
    market.apply({ index: head.appliedIndex, term: head.term, data: new Uint8Array() });
  }
  return market;
}
