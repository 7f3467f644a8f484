import { describe, expect, it } from 'vitest';
import { marketClient } from './client.js';
import { InvalidLedgerError } from './errors.js';
import { type Block, GENESIS_HASH, blockHash, createBlock, merkleRoot, verifyLedger } from './ledger.js';
import { powerMarket } from './market.js';
import { replayLedger } from './replay.js';
import { encodeTransactions, generateParticipantKeys } from './transactions.js';

/** A ledger of four blocks, the second with three transactions. */
function sampleLedger(): Block[] {
  const market = powerMarket();
  const g = marketClient({ id: 'g', keys: generateParticipantKeys() });
  const c = marketClient({ id: 'c', keys: generateParticipantKeys() });
  market.apply({ index: 1, term: 1, data: encodeTransactions(g.register({ kind: 'generation' })) });
  market.apply({
    index: 2,
    term: 1,
    data: encodeTransactions([c.register({ kind: 'consumption' }), g.recordCarbon({ quota: 1 }), c.recordCarbon({ emitted: 2 })]),
  });
  market.apply({ index: 4, term: 2, data: encodeTransactions(g.recordCarbon({ purchased: 3 })) });
  market.apply({ index: 5, term: 3, data: encodeTransactions(c.recordCarbon({ quota: 4 })) });
  const ledger = market.ledger();
  expect(ledger).toHaveLength(4);
  return ledger;
}

function rehash(block: Block): Block {
  return { ...block, hash: blockHash(block.header) };
}

describe('verifyLedger', () => {
  it('accepts an untouched chain', () => {
    const ledger = sampleLedger();
    expect(verifyLedger(ledger)).toEqual({ valid: true, height: 4 });
    expect(ledger[0]!.header.previousHash).toBe(GENESIS_HASH);
    expect(ledger[1]!.header.previousHash).toBe(ledger[0]!.hash);
    expect(verifyLedger([])).toEqual({ valid: true, height: 0 });
  });

  it('detects a flipped byte in a transaction, at its block', () => {
    const ledger = sampleLedger();
    const tx = Uint8Array.from(ledger[1]!.transactions[1]!);
    tx[20] = tx[20]! ^ 0x01;
    ledger[1] = { ...ledger[1]!, transactions: [ledger[1]!.transactions[0]!, tx, ledger[1]!.transactions[2]!] };
    expect(verifyLedger(ledger)).toMatchObject({ valid: false, height: 2, position: 1, reason: 'merkle-root' });
  });

  it('detects reordered transactions', () => {
    const ledger = sampleLedger();
    const [a, b, c] = ledger[1]!.transactions;
    ledger[1] = { ...ledger[1]!, transactions: [b!, a!, c!] };
    expect(verifyLedger(ledger)).toMatchObject({ valid: false, height: 2, reason: 'merkle-root' });
  });

  it('detects a dropped transaction', () => {
    const ledger = sampleLedger();
    ledger[1] = { ...ledger[1]!, transactions: ledger[1]!.transactions.slice(0, 2) };
    expect(verifyLedger(ledger)).toMatchObject({ valid: false, height: 2, reason: 'merkle-root' });
  });

  it('detects a changed height, even with the block re-hashed', () => {
    const ledger = sampleLedger();
    const edited = { ...ledger[2]!, header: { ...ledger[2]!.header, height: 7 } };
    expect(verifyLedger([ledger[0]!, ledger[1]!, edited, ledger[3]!])).toMatchObject({ valid: false, height: 3, reason: 'height' });
    // Re-hashing hides nothing: the height is still wrong, and the next block no longer links.
    expect(verifyLedger([ledger[0]!, ledger[1]!, rehash(edited), ledger[3]!])).toMatchObject({ valid: false, height: 3, reason: 'height' });
  });

  it('detects an edited header that keeps its old hash', () => {
    const ledger = sampleLedger();
    ledger[3] = { ...ledger[3]!, header: { ...ledger[3]!.header, term: 9 } };
    expect(verifyLedger(ledger)).toMatchObject({ valid: false, height: 4, reason: 'hash' });
  });

  it('detects a dropped block, at the block after the gap', () => {
    const ledger = sampleLedger();
    const dropped = [ledger[0]!, ledger[2]!, ledger[3]!];
    expect(verifyLedger(dropped)).toMatchObject({ valid: false, position: 1, height: 2, reason: 'height' });
  });

  it('detects a rewritten block even when every later block is rebuilt on it, through its transactions', () => {
    const ledger = sampleLedger();
    // A forger drops c's registration from block 2 and rebuilds the chain on it: the hashes are
    // consistent, but replaying shows block 2's remaining transactions no longer apply (c is unknown).
    const forged: Block[] = [ledger[0]!];
    let previous = ledger[0]!;
    for (const block of ledger.slice(1)) {
      const txs = block === ledger[1] ? block.transactions.slice(1) : block.transactions;
      previous = createBlock(previous, block.header, txs);
      forged.push(previous);
    }
    expect(verifyLedger(forged).valid).toBe(true);
    expect(() => replayLedger(forged)).toThrow(InvalidLedgerError);
    try {
      replayLedger(forged);
    } catch (error) {
      expect((error as InvalidLedgerError).height).toBe(2);
      expect((error as InvalidLedgerError).message).toMatch(/node c is not registered/);
    }
  });

  it('refuses to replay a tampered ledger and names the block', () => {
    const ledger = sampleLedger();
    ledger.splice(1, 1);
    expect(() => replayLedger(ledger)).toThrow(InvalidLedgerError);
    expect(() => replayLedger(ledger)).toThrow(/height 3, expected 2/);
  });
});

describe('merkleRoot', () => {
  const leaf = (n: number) => Uint8Array.of(n);
  it('depends on every transaction and on their order', () => {
    const roots = new Set([
      merkleRoot([leaf(1), leaf(2), leaf(3)]),
      merkleRoot([leaf(2), leaf(1), leaf(3)]),
      merkleRoot([leaf(1), leaf(2)]),
      merkleRoot([leaf(1), leaf(2), leaf(3), leaf(3)]),
      merkleRoot([leaf(1)]),
      merkleRoot([]),
    ]);
    expect(roots.size).toBe(6);
    expect(merkleRoot([leaf(1), leaf(2), leaf(3)])).toBe(merkleRoot([leaf(1), leaf(2), leaf(3)]));
  });
});
