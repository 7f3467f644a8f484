import { HEX64 } from './block-schema.js';
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
 * entry, in order, as their canonical bytes, chained to the block before by hash and anchored to
 * the consensus log by the entry's index and term.
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

/** The hash of a block header: sha256 over its canonical encoding, hex. */
export function blockHash(header: BlockHeader): string {
  return sha256Hex(canonicalEncode(header));
}

/** Builds the next block after `previous` (or the first block when `previous` is undefined) from the accepted transactions of the entry at `position`. */
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

/**
 * The head of a ledger: what a quorum of replicas agrees on, and what a server serves, so that a
 * copy of the ledger can be checked against it ({@link verifyLedger}, {@link replayLedger}). Every
 * replica that has applied the same log entries holds the same head: it is part of the
 * replicated state.
 */
export interface LedgerHead {
  /** The number of blocks (0 before the first). */
  readonly height: number;
  /** The hash of the last block, or {@link GENESIS_HASH} when there is none. */
  readonly hash: string;
  /** The log index of the entry that produced the last block (0 when there is none). */
  readonly index: number;
  /** The term of that entry (0 when there is none). */
  readonly term: number;
  /**
   * The last log index the market applied: at least `index`. The entries after the last block
   * (the leader's no-op entries, entries whose every transaction was refused) formed no block.
   */
  readonly appliedIndex: number;
}

/** The head of `blocks` once entries up to `appliedIndex` are applied. */
export function ledgerHeadOf(blocks: readonly Block[], appliedIndex: number): LedgerHead {
  const last = blocks.at(-1);
  if (last === undefined) return { height: 0, hash: GENESIS_HASH, index: 0, term: 0, appliedIndex };
  return { height: last.header.height, hash: last.hash, index: last.header.index, term: last.header.term, appliedIndex };
}

/** Options of {@link verifyLedger}. */
export interface VerifyLedgerOptions {
  /**
   * The head the chain must end at, from a source you trust: the head a quorum of replicas
   * reports. Without it the check is internal only: a chain rebuilt after a dropped transaction,
   * a truncated tail or a re-hashed last block is still consistent. `appliedIndex` is not checked
   * here; {@link replayLedger} uses it.
   * @default undefined (no anchor)
   */
  readonly head?: LedgerHead;
}

/** What {@link verifyLedger} found. */
export type LedgerVerification =
  | { readonly valid: true; readonly height: number }
  | {
      readonly valid: false;
      /** The position in the given list of the first block that fails (the list's length when a block is missing at the end). */
      readonly position: number;
      /** The height that block should have had. */
      readonly height: number;
      /** What is wrong with it. */
      readonly reason: 'malformed' | 'height' | 'previous-hash' | 'merkle-root' | 'hash' | 'order' | 'head';
      readonly message: string;
    };

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Whether `block` has the shape of a {@link Block}: exactly its fields, of their types. */
function wellFormed(block: unknown): block is Block {
  if (typeof block !== 'object' || block === null) return false;
  const { header, hash, transactions } = block as Record<string, unknown>;
  if (typeof header !== 'object' || header === null || typeof hash !== 'string' || !HEX64.test(hash) || !Array.isArray(transactions)) return false;
  if (Object.keys(block).length !== 3 || Object.keys(header).length !== 5) return false;
  const { height, term, index, previousHash, merkleRoot: root } = header as Record<string, unknown>;
  if (!isCount(height) || !isCount(term) || !isCount(index) || typeof previousHash !== 'string' || typeof root !== 'string') return false;
  return transactions.every((tx) => tx instanceof Uint8Array);
}

/**
 * Checks a chain of blocks from the first: heights 1, 2, 3, ...; each `previousHash` is the hash
 * of the block before; each Merkle root matches the block's transactions; each hash matches its
 * header; terms never decrease and log indexes increase. Any flipped byte, reordered or dropped
 * transaction, edited header or dropped block inside the chain shows up at the first block it
 * breaks. Given `head` (from a quorum of replicas), the chain must also end exactly there, which
 * catches a truncated tail, an appended block, and a chain rebuilt or re-hashed after an edit.
 * Never throws: malformed input is reported as `'malformed'`.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket, verifyLedger } from '@greenraft/power-market';
 *
 * const market = powerMarket();
 * market.execute(marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' }));
 * const head = market.ledgerHead(); // in a cluster: the head a quorum of replicas serves
 * const check = verifyLedger(market.ledger(), { head }); // { valid: true, height: 1 }
 * if (!check.valid) console.error(`block ${check.height} (${check.reason}): ${check.message}`);
 * ```
 */
export function verifyLedger(blocks: readonly Block[], options: VerifyLedgerOptions = {}): LedgerVerification {
  const fail = (position: number, reason: Exclude<LedgerVerification, { valid: true }>['reason'], message: string): LedgerVerification => ({
    valid: false,
    position,
    height: position + 1,
    reason,
    message,
  });
  if (!Array.isArray(blocks)) return fail(0, 'malformed', 'the ledger must be a list of blocks');
  let previous: Block | undefined;
  for (let position = 0; position < blocks.length; position++) {
    const block: unknown = blocks[position];
    const height = position + 1;
    if (!wellFormed(block)) return fail(position, 'malformed', `block at position ${position} is not a block (header, hash, transactions as bytes)`);
    const { header } = block;
    if (header.height !== height) return fail(position, 'height', `block at position ${position} has height ${header.height}, expected ${height}`);
    const expectedPrevious = previous === undefined ? GENESIS_HASH : previous.hash;
    if (header.previousHash !== expectedPrevious) return fail(position, 'previous-hash', `block ${height} does not link to the hash of block ${height - 1}`);
    if (previous !== undefined && (header.term < previous.header.term || header.index <= previous.header.index)) {
      return fail(position, 'order', `block ${height} (term ${header.term}, index ${header.index}) does not follow block ${height - 1}`);
    }
    if (merkleRoot(block.transactions) !== header.merkleRoot) return fail(position, 'merkle-root', `the transactions of block ${height} do not match its Merkle root`);
    if (blockHash(header) !== block.hash) return fail(position, 'hash', `block ${height}'s header does not match its hash`);
    previous = block;
  }
  const head = options.head;
  if (head !== undefined) {
    const last = previous;
    if (typeof head !== 'object' || head === null || !isCount(head.height)) return fail(blocks.length, 'malformed', 'the head must have a height');
    if (blocks.length !== head.height) {
      const position = Math.min(blocks.length, head.height);
      return fail(position, 'head', `the ledger has ${blocks.length} blocks, the head is at height ${head.height}`);
    }
    const ends = last === undefined ? { hash: GENESIS_HASH, index: 0, term: 0 } : { hash: last.hash, index: last.header.index, term: last.header.term };
    if (ends.hash !== head.hash || ends.index !== head.index || ends.term !== head.term) {
      return fail(Math.max(0, blocks.length - 1), 'head', `block ${blocks.length} is not the head (hash, index or term differ)`);
    }
  }
  return { valid: true, height: blocks.length };
}
