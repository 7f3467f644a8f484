import { canonicalDecode, canonicalEncode } from './canonical.js';
import { InvalidLedgerError } from './errors.js';
import { type Block, verifyLedger } from './ledger.js';
import { type PowerMarket, type PowerMarketInit, powerMarket } from './market.js';

/**
 * Rebuilds a market from its ledger alone: verifies the chain, then re-applies every block's
 * transactions at the block's term and index. Every transaction must be accepted again and every
 * rebuilt block must hash as the original did, or the ledger is refused.
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
 * // An auditor rebuilds the market from the blocks alone (with the replicas' genesis options).
 * const rebuilt = replayLedger(market.ledger());
 * rebuilt.balance('g1') === market.balance('g1'); // true
 * ```
 */
export function replayLedger(blocks: readonly Block[], init: PowerMarketInit = {}): PowerMarket {
  const check = verifyLedger(blocks);
  if (!check.valid) throw new InvalidLedgerError(check.height, check.message);
  const market = powerMarket(init);
  for (const block of blocks) {
    const { height, term, index } = block.header;
    let transactions: unknown[];
    try {
      transactions = block.transactions.map((bytes) => canonicalDecode(bytes));
    } catch (cause) {
      throw new InvalidLedgerError(height, `block ${height} holds a transaction that is not canonical JSON`, { cause });
    }
    const result = market.apply({ index, term, data: canonicalEncode(transactions) });
    const refused = result.outcomes.find((outcome) => !outcome.accepted);
    if (refused !== undefined && !refused.accepted) {
      throw new InvalidLedgerError(height, `block ${height} holds a transaction the market refuses: ${refused.error.message}`, { cause: refused.error });
    }
    if (result.block?.hash !== block.hash) throw new InvalidLedgerError(height, `block ${height} does not replay to the same hash`);
  }
  return market;
}
