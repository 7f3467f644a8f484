// Hostile entries through apply(). A registered participant signs whatever it likes, so most
// entries are transactions built against the live state (right signer, right nonce, real
// contract ids: they reach settlement, certificates and carbon cycles) and then, often, mutated:
// fields replaced by prototype keys, extreme numbers, deep nesting, wrong types, raw JSON tokens.
// The rest are raw hostile bytes and arbitrary JSON. After every entry the invariants hold.
//
// CI size: GREENRAFT_FUZZ_RUNS entries (default 3000). The full run: GREENRAFT_FUZZ_RUNS=100000.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { expectReplayable, keysOf, prototypeFingerprint, scene, signAnything, soundnessProblems, utf8 } from './hostile.test-utils.js';
import { MARKET_LIMITS } from './limits.js';
import { type ApplyResult, type PowerMarket, powerMarket } from './market.js';

const ENTRIES = Number(process.env['GREENRAFT_FUZZ_RUNS'] ?? 3000);
const ENTRIES_PER_RUN = 25;
const SEED = process.env['GREENRAFT_FUZZ_SEED'] === undefined ? undefined : Number(process.env['GREENRAFT_FUZZ_SEED']);

const GENERATORS = ['g1', 'g2', 'g3'];
const CONSUMERS = ['c1', 'c2', 'c3'];
const HOSTILE_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype'];
const ALL_IDS = [...GENERATORS, ...CONSUMERS, ...HOSTILE_IDS];

/** A raw JSON token the entry's text carries in place of a marker string (no JS value encodes to it). */
const RAW_TOKENS = ['1e400', '-1e400', '-0', '1.0', '1E2', '01', '"\\u0041"', '0x10', 'NaN', '{"a":1,"a":2}', '[1,]'];
const rawMarker = (token: number) => `@@raw${token}@@`;

const extremeNumbers = fc.constantFrom(
  0,
  1,
  -1,
  0.5,
  5e-324,
  1e-300,
  Number.MAX_VALUE,
  1e308,
  1e306,
  3e13,
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  MARKET_LIMITS.maxContractKWh,
  MARKET_LIMITS.maxContractKWh * (1 + 2 ** -52),
  MARKET_LIMITS.maxPrice,
  MARKET_LIMITS.maxHandlingFee,
  MARKET_LIMITS.maxCarbonTonnes,
  MARKET_LIMITS.maxCertificateCount,
  MARKET_LIMITS.maxCertificatePrice,
  MARKET_LIMITS.maxTime,
  MARKET_LIMITS.maxTime + 1,
);

function nested(depth: number, leaf: unknown, asObject: boolean): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asObject ? { a: value } : [value];
  return value;
}

/** Values a hostile field holds. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    { toString: 0 },
    { valueOf: 0, toString: 0 },
    { ['__proto__']: { polluted: true } },
    { constructor: { prototype: { polluted: true } } },
    [],
    {},
    null,
    true,
    '',
    'x'.repeat(300),
    '\u0000',
    '\ud800',
    'a b',
    ...HOSTILE_IDS,
  ),
  fc.tuple(extremeNumbers, fc.boolean()).map(([n, negative]) => (negative ? -n : n)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.tuple(fc.integer({ min: 2, max: 40 }), fc.boolean()).map(([depth, asObject]) => nested(depth, 1, asObject)),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Like {@link hostileValue}, and sometimes a raw JSON token that makes the whole entry undecodable. */
const hostileOrRaw: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 9, arbitrary: hostileValue },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: RAW_TOKENS.length - 1 }).map(rawMarker) },
);

/** A quantity: mostly ordinary, sometimes at or past a limit, sometimes anything. */
const quantity = (ordinaryMax: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: 0, max: ordinaryMax, noNaN: true }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: ordinaryMax }) },
    { weight: 2, arbitrary: extremeNumbers },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );

const price = fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0.4, max: 0.71, noNaN: true }) }, { weight: 2, arbitrary: quantity(1) });

/** A transaction as an intention: which type, who signs, and picks resolved against the live state. */
interface Intent {
  type: string;
  signer: number;
  nonce: 'next' | 'replay' | 'gap' | 'first';
  pick: number[];
  quantities: unknown[];
  renewable: boolean;
}

const intent: fc.Arbitrary<Intent> = fc.record({
  type: fc.constantFrom(
    'registerNode',
    'proposeContract',
    'proposeContract',
    'acceptContract',
    'acceptContract',
    'reportDelivery',
    'reportDelivery',
    'reportDelivery',
    'settleRound',
    'settleRound',
    'offerCertificates',
    'acceptCertificates',
    'recordCarbon',
    'reportLineFault',
    'recordParticipation',
  ),
  signer: fc.nat(),
  nonce: fc.constantFrom<Intent['nonce']>('next', 'next', 'next', 'next', 'next', 'next', 'gap', 'replay', 'first'),
  pick: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  quantities: fc.tuple(quantity(3000), quantity(3000), quantity(3000), price, quantity(5)),
  renewable: fc.boolean(),
});

type Mutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'envelope'; key: string; value: unknown }
  | { kind: 'replace'; value: unknown }
  | { kind: 'tamper'; key: string; value: unknown }
  | { kind: 'forge'; by: string };

const fieldName = fc.constantFrom(
  'type',
  'signer',
  'nonce',
  'counterparty',
  'contractId',
  'contractIds',
  'meteredKWh',
  'contractedKWh',
  'unitPrice',
  'handlingFee',
  'quota',
  'count',
  'acknowledgements',
  'publicKey',
  '__proto__',
  'constructor',
  'toString',
  'bonus',
);

const mutation: fc.Arbitrary<Mutation | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fieldName, value: hostileOrRaw }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fieldName }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('envelope' as const), key: fc.constantFrom('signature', 'transaction', '__proto__', 'extra'), value: hostileOrRaw }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), value: hostileOrRaw }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tamper' as const), key: fieldName, value: hostileOrRaw }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forge' as const), by: fc.constantFrom(...GENERATORS, ...CONSUMERS) }) },
);

type Entry =
  | { kind: 'transactions'; items: { intent: Intent; mutation: Mutation | undefined }[] }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'json'; value: unknown }
  | { kind: 'noop' };

const entry: fc.Arbitrary<Entry> = fc.oneof(
  { weight: 14, arbitrary: fc.record({ kind: fc.constant('transactions' as const), items: fc.array(fc.record({ intent, mutation }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostileValue) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'noop' as const }) },
);

/** What a run remembers to build transactions that reach deep into the market. */
interface Memory {
  contracts: string[];
  offers: string[];
}

function pickFrom<T>(list: readonly T[], n: number | undefined): T {
  return list[(n ?? 0) % list.length]!;
}

/** Nonces handed out in the entry being built: several transactions of one signer share an entry. */
const pending = new Map<string, number>();

function nonceFor(market: PowerMarket, signer: string, plan: Intent['nonce'], n: number): number {
  const last = Math.max(market.node(signer)?.lastNonce ?? 0, pending.get(signer) ?? 0);
  if (plan === 'replay') return Math.max(1, last);
  if (plan === 'first') return 1;
  const nonce = last + 1 + (plan === 'gap' ? 1 + (n % 1000) : 0);
  pending.set(signer, nonce);
  return nonce;
}

/** The signer who may take this step on `subject`, most of the time; anyone otherwise. */
function signerFor(market: PowerMarket, type: string, contractId: string, offerId: string, random: string, smart: boolean): string {
  if (!smart) return random;
  const contract = market.contract(contractId);
  if (type === 'acceptContract' && contract) return contract.proposer === contract.generator ? contract.consumer : contract.generator;
  if ((type === 'reportDelivery' || type === 'reportLineFault') && contract) return random.startsWith('g') ? contract.generator : contract.consumer;
  if (type === 'acceptCertificates') return market.offers().find((offer) => offer.id === offerId)?.buyer ?? random;
  if (type === 'offerCertificates') return 'g1'; // the renewable generator holds certificates
  return random;
}

function build(market: PowerMarket, memory: Memory, { type, signer: s, nonce: plan, pick, quantities, renewable }: Intent): Record<string, unknown> {
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0] = pick;
  const [q0, q1, q2, unitPrice, q4] = quantities;
  const smart = p3 % 5 !== 0;
  // Which contracts a step can use: settle accepted ones, report on accepted ones, fault settled ones.
  const wanted = type === 'settleRound' || type === 'reportDelivery' ? 'accepted' : type === 'reportLineFault' ? 'settled' : type === 'acceptContract' ? 'proposed' : undefined;
  const candidates = smart && wanted !== undefined ? memory.contracts.filter((id) => market.contract(id)?.status === wanted) : memory.contracts;
  const pool = candidates.length > 0 ? candidates : memory.contracts;
  const contract = pool.length > 0 ? pickFrom(pool, p0) : 'g1/1';
  const offers = market.offers().map((offer) => offer.id);
  const offerId = smart && offers.length > 0 ? pickFrom(offers, p0) : memory.offers.length > 0 ? pickFrom(memory.offers, p0) : 'g1/1';
  const signer = signerFor(market, type, contract, offerId, pickFrom(ALL_IDS.slice(0, p3 % 7 === 0 ? ALL_IDS.length : 6), s), smart);
  const isGenerator = GENERATORS.includes(signer);
  const base = { type, signer, nonce: nonceFor(market, signer, plan, p2) };
  switch (type) {
    case 'registerNode':
      return { ...base, kind: isGenerator ? 'generation' : 'consumption', renewable, publicKey: 'replaced by the signer key' };
    case 'proposeContract':
      return {
        ...base,
        counterparty: pickFrom(isGenerator ? CONSUMERS : GENERATORS, p1),
        unitPrice,
        contractedKWh: q0,
        deliveryStart: 0,
        deliveryEnd: 86_400_000,
        handlingFee: typeof q4 === 'number' ? q4 / 10 : q4,
      };
    case 'acceptContract':
    case 'reportLineFault':
      return { ...base, contractId: contract };
    case 'reportDelivery':
      return { ...base, contractId: contract, meteredKWh: q1 };
    case 'settleRound': {
      const count = 1 + (p1 % 3);
      const ids = [...new Set(Array.from({ length: count }, (_, i) => (pool.length > 0 ? pickFrom(pool, p0 + i * 7) : contract)))];
      return { ...base, contractIds: ids };
    }
    case 'offerCertificates':
      return { ...base, buyer: pickFrom(CONSUMERS, p1), count: 1 + (p0 % 3), unitPrice: q2 };
    case 'acceptCertificates':
      return { ...base, offerId };
    case 'recordCarbon':
      return { ...base, quota: q0, purchased: q1, emitted: q2 };
    default:
      return { ...base, acknowledgements: [...new Set([pickFrom(ALL_IDS.slice(0, 6), p0), pickFrom(ALL_IDS.slice(0, 6), p1), pickFrom(ALL_IDS, p2)])] };
  }
}

function mutate(transaction: Record<string, unknown>, signed: { transaction: unknown; signature: string }, change: Mutation | undefined): unknown {
  if (change === undefined) return signed;
  switch (change.kind) {
    case 'set': {
      const copy: Record<string, unknown> = { ...transaction };
      Object.defineProperty(copy, change.key, { value: change.value, enumerable: true, writable: true, configurable: true });
      return signAnything(String(transaction['signer']), copy);
    }
    case 'delete': {
      const copy: Record<string, unknown> = { ...transaction };
      delete copy[change.key];
      return signAnything(String(transaction['signer']), copy);
    }
    case 'envelope': {
      const copy: Record<string, unknown> = { ...signed };
      Object.defineProperty(copy, change.key, { value: change.value, enumerable: true, writable: true, configurable: true });
      return copy;
    }
    case 'replace':
      return change.value;
    case 'forge': {
      // Another participant's key signs it: well-formed, but not the signer's signature.
      const forged = signAnything(change.by, transaction);
      return change.by === transaction['signer'] ? signed : forged;
    }
    case 'tamper': {
      // Changed after signing: the signature no longer covers it.
      const copy: Record<string, unknown> = { ...transaction };
      Object.defineProperty(copy, change.key, { value: change.value, enumerable: true, writable: true, configurable: true });
      return { transaction: copy, signature: signed.signature };
    }
  }
}

/** The entry's bytes: canonical JSON of what was built, with raw markers swapped for their tokens. */
function bytesOf(items: readonly unknown[]): Uint8Array {
  let text: string;
  try {
    text = canonicalJson(items, 10_000);
  } catch {
    return utf8('[]');
  }
  return utf8(text.replace(/"@@raw(\d+)@@"/g, (_, token: string) => RAW_TOKENS[Number(token)]!));
}

interface Counters {
  entries: number;
  accepted: number;
  refused: Map<string, number>;
  rounds: number;
}

// Every run starts from the same market, restored from a snapshot (building it signs 19 transactions).
const INIT = { initialCreditWeight: 80, carbonCycleRounds: 2, parameters: { decayInterval: 3 } };
const START = scene(INIT);
const START_SNAPSHOT = START.market.snapshot();

function run(entries: readonly Entry[], counters: Counters): void {
  const market = powerMarket(INIT);
  market.restore(START_SNAPSHOT);
  const s = { ...START, market, next: START.next };
  const memory: Memory = { contracts: [s.open, s.settled], offers: [s.offer] };
  const fingerprint = prototypeFingerprint();
  for (const planned of entries) {
    let data: Uint8Array;
    if (planned.kind === 'noop') data = new Uint8Array();
    else if (planned.kind === 'bytes') data = planned.bytes;
    else if (planned.kind === 'json') data = bytesOf([planned.value]);
    else {
      pending.clear();
      const items = planned.items.map(({ intent: wanted, mutation: change }) => {
        const transaction = build(market, memory, wanted);
        if (transaction['type'] === 'registerNode') transaction['publicKey'] = keysOf(String(transaction['signer'])).publicKey;
        return mutate(transaction, signAnything(String(transaction['signer']), transaction), change);
      });
      data = bytesOf(items);
    }
    const index = s.next++;
    let result: ApplyResult;
    try {
      result = market.apply({ index, term: 3, data });
    } catch (error) {
      throw new Error(`apply() threw on the entry ${Buffer.from(data).toString('utf8').slice(0, 500)}`, { cause: error });
    }
    counters.entries += 1;
    expect(market.lastAppliedIndex()).toBe(index);
    const accepted = result.outcomes.filter((outcome) => outcome.accepted);
    expect(result.block === undefined ? 0 : market.ledger().at(-1)!.transactions.length).toBe(accepted.length);
    for (const outcome of result.outcomes) {
      if (outcome.accepted) {
        counters.accepted += 1;
        if (outcome.receipt.contractId) memory.contracts.push(outcome.receipt.contractId);
        if (outcome.receipt.offerId) memory.offers.push(outcome.receipt.offerId);
        if (outcome.receipt.round) counters.rounds += 1;
      } else counters.refused.set(outcome.error.code, (counters.refused.get(outcome.error.code) ?? 0) + 1);
    }
    if (prototypeFingerprint() !== fingerprint) expect(prototypeFingerprint()).toBe(fingerprint);
    const problems = soundnessProblems(market);
    if (problems.length > 0) expect(problems).toEqual([]);
    if (!(market.snapshot().length > 0)) expect.fail('an empty snapshot');
  }
  expectReplayable(market, s.init);
}

describe('hostile entries through apply()', () => {
  it(`keep every invariant over ${ENTRIES} generated entries`, () => {
    const counters: Counters = { entries: 0, accepted: 0, refused: new Map(), rounds: 0 };
    const started = performance.now();
    fc.assert(
      fc.property(fc.array(entry, { minLength: ENTRIES_PER_RUN, maxLength: ENTRIES_PER_RUN }), (entries) => run(entries, counters)),
      { numRuns: Math.ceil(ENTRIES / ENTRIES_PER_RUN), ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    const seconds = (performance.now() - started) / 1000;
    const refused = [...counters.refused].sort((a, b) => b[1] - a[1]);
    console.log(
      `fuzz: ${counters.entries} entries in ${seconds.toFixed(1)} s; ${counters.accepted} transactions accepted, ${counters.rounds} rounds settled; refused ${refused.map(([code, n]) => `${code} ${n}`).join(', ')}`,
    );
    expect(counters.entries).toBeGreaterThanOrEqual(ENTRIES);
    expect(counters.accepted).toBeGreaterThan(ENTRIES / 20);
    // The generator reaches deep into the market, not only its front door.
    expect(counters.rounds).toBeGreaterThan(0);
    for (const code of ['INVALID_TRANSACTION', 'INVALID_QUANTITY', 'INVALID_SIGNATURE', 'REPLAYED_NONCE', 'UNKNOWN_NODE']) expect(counters.refused.get(code) ?? 0).toBeGreaterThan(0);
  }, Math.max(60_000, ENTRIES * 20)); // the full run takes minutes on a busy machine
});
