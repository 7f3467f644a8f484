import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { InvalidSnapshotError } from './errors.js';
import { scene, utf8 } from './hostile.test-utils.js';
import { powerMarket } from './market.js';

type Json = Record<string, unknown>;

/** The snapshot's lines as values: header, nodes, contracts, offers, blocks. */
function linesOf(bytes: Uint8Array): Json[] {
  return new TextDecoder().decode(bytes).split('\n').map((line) => JSON.parse(line) as Json);
}

function bytesOf(lines: readonly Json[]): Uint8Array {
  return utf8(lines.map((line) => canonicalJson(line)).join('\n'));
}

describe('restore() checks a snapshot fully', () => {
  const s = scene();
  const snapshot = s.market.snapshot();
  const lines = linesOf(snapshot);
  const header = lines[0]!;
  const nodes = Number(header['nodes']);
  const contracts = Number(header['contracts']);
  const firstNode = 1;
  const firstContract = 1 + nodes;
  const firstOffer = firstContract + contracts;
  const firstBlock = firstOffer + Number(header['offers']);

  it('round-trips a valid snapshot to the same bytes', () => {
    const restored = powerMarket(s.init);
    restored.restore(snapshot);
    expect(Buffer.from(restored.snapshot()).equals(Buffer.from(snapshot))).toBe(true);
    expect(restored.ledgerHead()).toEqual(s.market.ledgerHead());
    expect(lines).toHaveLength(firstBlock + Number(header['blocks']));
  });

  const edit = (position: number, change: (line: Json) => void) => {
    const copy = lines.map((line) => structuredClone(line));
    change(copy[position]!);
    return bytesOf(copy);
  };
  const cases: [string, () => Uint8Array][] = [
    ['another format version', () => edit(0, (line) => void (line['version'] = 1))],
    ['another market', () => edit(0, (line) => void (line['marketId'] = 'elsewhere'))],
    ['a count that does not match the lines', () => edit(0, (line) => void (line['offers'] = 2))],
    ['a line too many', () => bytesOf([...lines, lines.at(-1)!])],
    ['a missing line', () => bytesOf(lines.slice(0, -1))],
    ['a balance that breaks conservation', () => edit(firstNode, (line) => void (line['balance'] = Number(line['balance']) + 1))],
    ['a non-integer balance', () => edit(firstNode, (line) => void (line['balance'] = 0.5))],
    ['a balance past 2^53', () => edit(firstNode, (line) => void (line['balance'] = 2 ** 60))],
    ['a credit weight above W_a^max', () => edit(firstNode, (line) => void (line['creditWeight'] = 101))],
    ['certificates that do not match the renewable kWh', () => edit(firstNode, (line) => void (line['certificatesIssued'] = 99))],
    ['an unknown field', () => edit(firstNode, (line) => void (line['bonus'] = 1))],
    ['a missing field', () => edit(firstNode, (line) => void delete line['carbonCycle'])],
    ['a "__proto__" field', () => edit(firstNode, (line) => Object.defineProperty(line, '__proto__', { value: {}, enumerable: true }))],
    ['a node listed twice', () => edit(firstNode + 1, (line) => void (line['id'] = lines[firstNode]!['id']))],
    ['a contract with an unregistered party', () => edit(firstContract, (line) => void (line['consumer'] = 'ghost'))],
    ['a contract between two generators', () => edit(firstContract, (line) => void (line['consumer'] = 'g2'))],
    ['a contract whose id is not its proposer’s', () => edit(firstContract, (line) => void (line['id'] = 'c2/1'))],
    ['a contract with a nonce its proposer never used', () => edit(firstContract, (line) => void (line['id'] = `${String(line['proposer'])}/999`))],
    ['a settled contract without its round', () => edit(firstContract, (line) => void (line['settledInRound'] = null))],
    ['a unit price outside the market’s range', () => edit(firstContract, (line) => void (line['unitPrice'] = 0.9))],
    ['an offer to an unregistered buyer', () => edit(firstOffer, (line) => void (line['buyer'] = 'ghost'))],
    ['a block transaction that is not base64url', () => edit(firstBlock, (line) => void (line['transactions'] = ['***']))],
    ['a block transaction that is not a signed transaction', () => edit(firstBlock, (line) => void (line['transactions'] = ['e30']))],
    ['a block whose hash does not match', () => edit(firstBlock, (line) => void (line['hash'] = '0'.repeat(64)))],
    ['a ledger ahead of the applied index', () => edit(0, (line) => void (line['lastAppliedIndex'] = 1))],
    ['a block that is not an object', () => bytesOf([...lines.slice(0, -1), [] as never])],
  ];

  it.each(cases)('refuses %s, and leaves the market as it was', (_what, make) => {
    const market = powerMarket(s.init);
    market.restore(snapshot);
    let caught: unknown;
    try {
      market.restore(make());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidSnapshotError);
    expect((caught as InvalidSnapshotError).code).toBe('INVALID_SNAPSHOT');
    expect(Buffer.from(market.snapshot()).equals(Buffer.from(snapshot))).toBe(true);
  });

  it('refuses a block at height or log index 0 by its shape, before the chain is checked', () => {
    for (const field of ['height', 'index']) {
      const market = powerMarket(s.init);
      const bytes = edit(firstBlock, (line) => void ((line['header'] as Json)[field] = 0));
      expect(() => market.restore(bytes), field).toThrow(new RegExp(`^block 1 is malformed \\(header\\.${field}\\)`));
    }
  });

  it('refuses the snapshots the old format allowed: no tables, an empty block', () => {
    for (const text of ['{"version":1,"marketId":"greenraft","blocks":[{}]}', '{"version":1,"marketId":"greenraft","blocks":[]}']) {
      expect(() => powerMarket().restore(utf8(text))).toThrow(InvalidSnapshotError);
    }
  });
});
