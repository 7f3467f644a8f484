import { InvalidArgumentError } from '@greenraft/consensus';
import { decodeTransactions } from '@greenraft/power-market';
import { PAPER_ELECTION_PARAMETERS } from '@greenraft/weight-scoring';
import { describe, expect, it } from 'vitest';
import { PAPER_RENEWABLE_NODES, PAPER_TABLE_1_ROUND } from '../scenario-paper-elections.js';
import { MarketReplica } from './market-replica.js';
import { MarketScript } from './market-script.js';
import { participantKeys, paperRoster } from './roster.js';

const ROUNDS = 40;
const CYCLE = 10;

/** The script's first `ROUNDS` rounds applied to a real `powerMarket()`, node 1 recording quorums of nodes 1, 2, 3. */
function played(seed: number) {
  const script = new MarketScript({ roster: paperRoster(30, seed), seed, carbonCycle: CYCLE });
  const replica = new MarketReplica({ parameters: PAPER_ELECTION_PARAMETERS, carbonCycle: CYCLE });
  replica.committed({ type: 'normal', index: 1, term: 1, data: script.registrationEntry() });
  for (let round = 1; round <= ROUNDS; round++) {
    replica.committed({ type: 'normal', index: round + 1, term: 1, data: script.entry(round, '1', round === 1 ? [] : ['1', '2', '3']) });
  }
  return { script, replica, market: replica.market() };
}

describe('the paper’s market as a script of signed transactions', () => {
  const { script, replica, market } = played(1);

  it('has the paper’s 30 nodes and Table 1’s contracts', () => {
    const roster = script.roster;
    expect(roster.nodes.map((node) => node.id)).toEqual(PAPER_TABLE_1_ROUND.nodes.map((node) => node.id));
    expect(roster.contracts.map((c) => [c.generator, c.consumer, c.unitPrice, c.contractedKWh])).toEqual(
      PAPER_TABLE_1_ROUND.contracts.map((c) => [c.generator, c.consumer, c.unitPrice, c.contractedKWh]),
    );
    expect(roster.nodes.filter((node) => node.renewable).map((node) => node.id)).toEqual(PAPER_RENEWABLE_NODES);
    expect(roster.nodes.filter((node) => node.defaultShare !== undefined).map((node) => node.id)).toEqual(['17', '29']);
    expect(roster.certificateSales).toEqual([
      { seller: '1', buyer: '16' },
      { seller: '3', buyer: '25' },
    ]);
  });

  it('is accepted by the real market, every transaction of every round', () => {
    expect(replica.refused).toEqual([]);
    expect(market.round()).toBe(ROUNDS);
    expect(market.nodes()).toHaveLength(30);
  });

  it('defaults as §5.1 says: nodes 17 and 29 in about half the rounds, the others rarely', () => {
    const shortfalls = (consumer: string) =>
      Array.from({ length: ROUNDS }, (_, i) => script.round(i + 1).contracts.find((c) => c.consumer === consumer)!).filter((c) => c.consumedKWh < c.contractedKWh).length;
    for (const node of ['17', '29']) {
      expect(shortfalls(node)).toBeGreaterThan(ROUNDS * 0.25);
      expect(shortfalls(node)).toBeLessThan(ROUNDS * 0.75);
    }
    expect(shortfalls('16')).toBeLessThan(ROUNDS * 0.15);
    // Credit follows: the habitual defaulter ends well below its reliable neighbour.
    expect(market.node('17')!.creditWeight).toBeLessThan(market.node('16')!.creditWeight);
  });

  it('issues green certificates by eq. 6 and sells them from 1 to 16 and from 3 to 25', () => {
    const generated = (id: string) => Array.from({ length: ROUNDS }, (_, i) => script.round(i + 1).contracts.find((c) => c.generator === id)!.generatedKWh).reduce((a, b) => a + b, 0);
    for (const id of PAPER_RENEWABLE_NODES) expect(market.node(id)!.certificatesIssued).toBe(Math.floor(generated(id) / 1000));
    expect(market.node('4')!.certificatesIssued).toBe(0);
    const sold = market.node('1')!.certificatesSold + market.node('3')!.certificatesSold;
    expect(sold).toBeGreaterThan(0);
    expect(market.node('16')!.certificatesBought).toBe(market.node('1')!.certificatesSold);
    expect(market.node('25')!.certificatesBought).toBe(market.node('3')!.certificatesSold);
  });

  it('settles carbon every cycle (eq. 22) and records line faults (eq. 23) and participation (eq. 19)', () => {
    const settlements = market.nodes().map((node) => node.carbonSettlement);
    expect(new Set(settlements).size).toBeGreaterThan(10);
    // Renewable generators emit nothing: they end a cycle with their whole quota.
    expect(market.node('1')!.carbonSettlement).toBeGreaterThan(0);
    const faults = market.nodes().reduce((sum, node) => sum + node.transmissionFaults, 0);
    expect(faults).toBeGreaterThan(0);
    expect(market.node('1')!.transmissions).toBe(ROUNDS);
    // Nodes 2 and 3 acknowledged every recorded quorum; node 4 none.
    expect(market.node('2')!.participation).toBeGreaterThan(0);
    expect(market.node('4')!.participation).toBe(0);
  });

  it('signs the same bytes for the same seed, other bytes for another', () => {
    const fresh = (seed: number) => new MarketScript({ roster: paperRoster(30, seed), seed, carbonCycle: CYCLE });
    expect(fresh(1).entry(7, '2', ['2', '5'])).toEqual(script.entry(7, '2', ['2', '5']));
    expect(fresh(2).entry(7, '2', ['2', '5'])).not.toEqual(script.entry(7, '2', ['2', '5']));
    expect(participantKeys(1, '9').publicKey).toBe(participantKeys(1, '9').publicKey);
    expect(participantKeys(1, '9').publicKey).not.toBe(participantKeys(2, '9').publicKey);
    // The leader's participation record goes first, with a nonce below the round's other transactions.
    const [record, first] = decodeTransactions(script.entry(7, '2', ['2', '5']));
    expect(record!.transaction).toMatchObject({ type: 'recordParticipation', signer: '2', acknowledgements: ['2', '5'] });
    expect(first!.transaction.type).toBe('proposeContract');
  });

  it('builds markets of other sizes on the same pattern', () => {
    for (const size of [5, 9, 15, 60]) {
      const roster = paperRoster(size, 1);
      expect(roster.nodes).toHaveLength(size);
      expect(roster.contracts).toHaveLength(Math.ceil(size / 2));
      expect(new Set(roster.contracts.map((c) => c.generator)).size).toBe(Math.ceil(size / 2));
      for (const contract of roster.contracts) expect(Number(contract.consumer)).toBeGreaterThan(Math.ceil(size / 2));
    }
    expect(() => paperRoster(2, 1)).toThrow(InvalidArgumentError);
  });
});
