import { canonicalEncode, sha256Hex } from './canonical.js';

/** The `previousHash` of the first block: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a block's hash covers. */
export interface BlockHeader {
  /** 1 for the first block, then +1 per block. */
  readonly height: number;
  /** The Raft term of the log entry the block came from. */
  readonly term: number;
  /** The Raft log index of that entry. */
  readonly index: number;
  /** The hash of the block before, or {@link GENESIS_HASH}. */
  readonly previousHash: string;
  /** The Merkle root of the block's transactions ({@link merkleRoot}). */
  readonly merkleRoot: string;
}

/**
 * A block of the market's ledger: the transactions the market accepted from one committed log
 * entry, in order, as their canonical bytes, chained to the block before by hash.
 */
export interface Block {
  readonly header: BlockHeader;
  /** sha256 of the canonical encoding of the header, hex. */
  readonly hash: string;
  /** The accepted signed transactions, each as its canonical bytes. */
  readonly transactions: readonly Uint8Array[];
}

const LEAF = Uint8Array.of(0);
const INNER = Uint8Array.of(1);

/**
 * The Merkle root of a list of transactions (hex). Leaves are sha256(0x00 ‖ tx), inner nodes
 * sha256(0x01 ‖ left ‖ right), an odd node is promoted unpaired; the prefixes keep a leaf from
 * passing for an inner node, and no padding means two lists never share a root. The empty list
 * has the root sha256("").
 *
 * @example
 * ```ts
 * import { merkleRoot } from '@greenraft/power-market';
 *
 * const transactions = ['{"a":1}', '{"b":2}', '{"c":3}'].map((text) => new TextEncoder().encode(text));
 * merkleRoot(transactions); // 64 hex digits
 * merkleRoot(transactions) === merkleRoot([...transactions].reverse()); // false: order counts
 * merkleRoot([]); // 'e3b0c442…7852b855', sha256 of nothing
 * ```
 */
export function merkleRoot(transactions: readonly Uint8Array[]): string {
  if (transactions.length === 0) return sha256Hex();
  let level: Uint8Array[] = transactions.map((tx) => Buffer.from(sha256Hex(LEAF, tx), 'hex'));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      next.push(right === undefined ? left : Buffer.from(sha256Hex(INNER, left, right), 'hex'));
    }
    level = next;
  }
  return Buffer.from(level[0]!).toString('hex');
}

/**
 * The hash of a block header: sha256 over its canonical encoding, hex.
 *
 * @example
 * ```ts
 * import { blockHash, createBlock } from '@greenraft/power-market';
 *
 * const block = createBlock(undefined, { term: 1, index: 1 }, []);
 * blockHash(block.header) === block.hash; // true
 * blockHash({ ...block.header, term: 2 }) === block.hash; // false: an edited header no longer matches
 * ```
 */
export function blockHash(header: BlockHeader): string {
  return sha256Hex(canonicalEncode(header));
}

/**
 * Builds the next block after `previous` (or the first block when `previous` is undefined).
 *
 * @example
 * ```ts
 * import { createBlock, encodeSignedTransaction, GENESIS_HASH, generateParticipantKeys, marketClient, verifyLedger } from '@greenraft/power-market';
 *
 * const g1 = marketClient({ id: 'g1', keys: generateParticipantKeys() });
 * const first = createBlock(undefined, { term: 1, index: 2 }, [encodeSignedTransaction(g1.register({ kind: 'generation' }))]);
 * const second = createBlock(first, { term: 1, index: 3 }, [encodeSignedTransaction(g1.recordCarbon({ quota: 100, emitted: 80 }))]);
 * first.header.previousHash === GENESIS_HASH; // true
 * second.header.previousHash === first.hash; // true
 * verifyLedger([first, second]); // { valid: true, height: 2 }
 * ```
 */
export function createBlock(
  previous: Block | undefined,
  position: { readonly term: number; readonly index: number },
  transactions: readonly Uint8Array[],
): Block {
  const header: BlockHeader = {
    height: previous === undefined ? 1 : previous.header.height + 1,
    term: position.term,
    index: position.index,
    previousHash: previous === undefined ? GENESIS_HASH : previous.hash,
    merkleRoot: merkleRoot(transactions),
  };
  return { header, hash: blockHash(header), transactions: transactions.map((tx) => Uint8Array.from(tx)) };
}

/** What {@link verifyLedger} found. */
export type LedgerVerification =
  | { readonly valid: true; readonly height: number }
  | {
      readonly valid: false;
      /** The position in the given list of the first block that fails. */
      readonly position: number;
      /** The height that block should have had. */
      readonly height: number;
      /** What is wrong with it. */
      readonly reason: 'height' | 'previous-hash' | 'merkle-root' | 'hash' | 'order';
      readonly message: string;
    };

/**
 * Checks a chain of blocks from the first: heights 1, 2, 3, ...; each `previousHash` is the hash
 * of the block before; each Merkle root matches the block's transactions; each hash matches its
 * header; terms never decrease and log indexes increase. Any flipped byte, reordered or dropped
 * transaction, edited header or dropped block shows up at the first block it breaks.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket, verifyLedger } from '@greenraft/power-market';
 *
 * const market = powerMarket();
 * market.execute(marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' }));
 * const check = verifyLedger(market.ledger()); // { valid: true, height: 1 }
 * if (!check.valid) console.error(`block ${check.height} (${check.reason}): ${check.message}`);
 * ```
 */
export function verifyLedger(blocks: readonly Block[]): LedgerVerification {
  let previous: Block | undefined;
  for (const [position, block] of blocks.entries()) {
    const height = position + 1;
    const fail = (reason: Exclude<LedgerVerification, { valid: true }>['reason'], message: string): LedgerVerification => ({
      valid: false,
      position,
      height,
      reason,
      message,
    });
    const { header } = block;
    if (header.height !== height) return fail('height', `block at position ${position} has height ${header.height}, expected ${height}`);
    const expectedPrevious = previous === undefined ? GENESIS_HASH : previous.hash;
    if (header.previousHash !== expectedPrevious) return fail('previous-hash', `block ${height} does not link to the hash of block ${height - 1}`);
    if (previous !== undefined && (header.term < previous.header.term || header.index <= previous.header.index)) {
      return fail('order', `block ${height} (term ${header.term}, index ${header.index}) does not follow block ${height - 1}`);
    }
    if (merkleRoot(block.transactions) !== header.merkleRoot) return fail('merkle-root', `the transactions of block ${height} do not match its Merkle root`);
    if (blockHash(header) !== block.hash) return fail('hash', `block ${height}'s header does not match its hash`);
    previous = block;
  }
  return { valid: true, height: blocks.length };
}
