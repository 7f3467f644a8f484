import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidLedgerError, InvalidQuantityError, InvalidTransactionError } from './errors.js';
import { scene } from './hostile.test-utils.js';
import { type Block, type LedgerHead, verifyLedger } from './ledger.js';
import { blocksFromJson } from './ledger-json.js';
import type { PowerMarket, PowerMarketInit } from './market.js';
import { replayLedger } from './replay.js';
import { encodeTransactions } from './transactions.js';

interface ServedTransaction {
  transaction: Record<string, unknown>;
  signature: string;
}
interface ServedBlock {
  header: Record<string, unknown>;
  hash: string;
  transactions: ServedTransaction[];
}

/** The blocks as `GET /v1/market/ledger` serves them (each transaction as parsed JSON), after a trip through JSON text. */
function served(blocks: readonly Block[]): ServedBlock[] {
  const decoder = new TextDecoder();
  const answer = blocks.map((block) => ({
    header: block.header,
    hash: block.hash,
    transactions: block.transactions.map((bytes) => JSON.parse(decoder.decode(bytes)) as unknown),
  }));
  return JSON.parse(JSON.stringify(answer)) as ServedBlock[];
}

/** A market with every kind of block: single transactions, settlements, and one entry of three. */
function sample(): { market: PowerMarket; init: PowerMarketInit; multi: number } {
  const s = scene();
  const { g1, g2, c1, c2 } = s.clients;
  const result = s.market.apply({
    index: s.next++,
    term: 2,
    data: encodeTransactions([g1.recordCarbon({ quota: 5, emitted: 1.5 }), c2.acceptCertificates(s.offer), g2.recordCarbon({ purchased: 2 })]),
  });
  expect(result.outcomes.every((outcome) => outcome.accepted)).toBe(true);
  s.market.apply({ index: s.next++, term: 3, data: encodeTransactions(c1.recordCarbon({ emitted: 3 })) });
  return { market: s.market, init: s.init, multi: result.block!.height - 1 };
}

/** The error `blocksFromJson(value)` throws (the test fails when it throws none, or another kind). */
function refusal(value: unknown): InvalidLedgerError {
  try {
    blocksFromJson(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLedgerError);
    expect((error as InvalidLedgerError).code).toBe('INVALID_LEDGER');
    return error as InvalidLedgerError;
  }
  throw new Error('blocksFromJson accepted the value');
}

describe('blocksFromJson', () => {
  const { market, init, multi } = sample();
  const ledger = market.ledger();
  const head = market.ledgerHead();

  it('rebuilds the served blocks byte for byte, and they verify against the head and replay to the same state', () => {
    expect(ledger.length).toBeGreaterThan(15);
    expect(ledger[multi]!.transactions).toHaveLength(3);
    const blocks = blocksFromJson(served(ledger));
    expect(blocks).toHaveLength(ledger.length);
    for (const [position, block] of blocks.entries()) {
      const original = ledger[position]!;
      expect(block.header).toEqual(original.header);
      expect(block.hash).toBe(original.hash);
      expect(block.transactions.map((tx) => Buffer.from(tx).toString('hex'))).toEqual(original.transactions.map((tx) => Buffer.from(tx).toString('hex')));
    }
    expect(verifyLedger(blocks, { head })).toEqual({ valid: true, height: ledger.length });
    const rebuilt = replayLedger(blocks, init, { head });
    expect(Buffer.from(rebuilt.snapshot()).equals(Buffer.from(market.snapshot()))).toBe(true);
    expect(blocksFromJson([])).toEqual([]);
  });

  it('re-encodes each transaction to its canonical bytes, whatever order a server writes its keys in', () => {
    const reverse = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reverse);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(Object.entries(value).reverse().map(([key, field]) => [key, reverse(field)]));
    };
    const json = served(ledger);
    for (const block of json) block.transactions = block.transactions.map((tx) => reverse(tx) as ServedTransaction);
    // Canonical JSON sorts keys; these are in reverse order now, nested objects too.
    const contract = ledger.findIndex((block) => served([block])[0]!.transactions[0]!.transaction.contractedKWh === 2500);
    const first = json[contract]!.transactions[0]!;
    expect(Object.keys(first)).toEqual(['transaction', 'signature']);
    expect(Object.keys(first.transaction)).toEqual(Object.keys(first.transaction).sort().reverse());
    expect(Object.keys(first.transaction).length).toBeGreaterThan(2);
    const blocks = blocksFromJson(json);
    for (const [position, block] of blocks.entries()) {
      expect(block.transactions.map((tx) => Buffer.from(tx).toString('hex'))).toEqual(ledger[position]!.transactions.map((tx) => Buffer.from(tx).toString('hex')));
    }
    expect(verifyLedger(blocks, { head })).toEqual({ valid: true, height: ledger.length });
  });

  it('reports a served transaction edited in any field at its block, against the head', () => {
    const contract = ledger.findIndex((block) => served([block])[0]!.transactions[0]!.transaction.contractedKWh === 2500);
    expect(contract).toBeGreaterThanOrEqual(0);
    const edits: [string, (tx: ServedTransaction) => void][] = [
      ['an amount', (tx) => Object.assign(tx.transaction, { contractedKWh: 2600 })],
      ['a price', (tx) => Object.assign(tx.transaction, { unitPrice: 0.61 })],
      ['the counterparty', (tx) => Object.assign(tx.transaction, { counterparty: 'c2' })],
      ['the nonce', (tx) => Object.assign(tx.transaction, { nonce: (tx.transaction.nonce as number) + 1 })],
      ['the signature', (tx) => Object.assign(tx, { signature: `${tx.signature[0] === 'A' ? 'B' : 'A'}${tx.signature.slice(1)}` })],
    ];
    for (const [what, edit] of edits) {
      const json = served(ledger);
      edit(json[contract]!.transactions[0]!);
      const blocks = blocksFromJson(json);
      expect(verifyLedger(blocks, { head }), what).toMatchObject({ valid: false, position: contract, height: contract + 1, reason: 'merkle-root' });
    }
  });

  it('reports a dropped transaction at its block', () => {
    const json = served(ledger);
    json[multi]!.transactions.splice(1, 1);
    expect(verifyLedger(blocksFromJson(json), { head })).toMatchObject({ valid: false, position: multi, reason: 'merkle-root' });
  });

  it('reports a truncated tail against the head only: the shorter chain is consistent in itself', () => {
    const json = served(ledger).slice(0, -2);
    const blocks = blocksFromJson(json);
    expect(verifyLedger(blocks)).toEqual({ valid: true, height: ledger.length - 2 });
    expect(verifyLedger(blocks, { head })).toMatchObject({ valid: false, position: ledger.length - 2, reason: 'head' });
    // A head from a single dishonest server that matches the truncated copy proves nothing: ask a quorum.
    expect(verifyLedger(blocks, { head: { ...head, height: ledger.length - 2, hash: ledger.at(-3)!.hash, index: ledger.at(-3)!.header.index, term: ledger.at(-3)!.header.term } }).valid).toBe(true);
  });

  it('refuses malformed shapes with InvalidLedgerError naming the position', () => {
    const good = () => served(ledger.slice(0, 4)) as unknown[];
    const at = (position: number, change: (block: Record<string, unknown>) => void): unknown[] => {
      const json = good();
      change(json[position] as Record<string, unknown>);
      return json;
    };
    const header = (block: Record<string, unknown>) => block.header as Record<string, unknown>;
    const firstTx = (block: Record<string, unknown>) => (block.transactions as ServedTransaction[])[0]!;
    const cases: [string, unknown, number, RegExp][] = [
      ['the whole answer', { height: 4, blocks: good() }, 1, /list of blocks: pass the `blocks` of every page/],
      ['a string', 'blocks', 1, /list of blocks$/],
      ['null', null, 1, /list of blocks$/],
      ['a missing header', at(2, (block) => delete block.header), 3, /position 2: header: /],
      ['a missing hash', at(1, (block) => delete block.hash), 2, /position 1: hash: /],
      ['missing transactions', at(3, (block) => delete block.transactions), 4, /position 3: transactions: /],
      ['an extra field', at(0, (block) => Object.assign(block, { signedBy: 'n1' })), 1, /position 0: .*signedBy/],
      ['a height as a string', at(2, (block) => Object.assign(header(block), { height: '3' })), 3, /position 2: header\.height: /],
      ['a fractional term', at(2, (block) => Object.assign(header(block), { term: 1.5 })), 3, /position 2: header\.term: /],
      ['a missing Merkle root', at(1, (block) => delete header(block).merkleRoot), 2, /position 1: header\.merkleRoot: /],
      ['an upper-case hash', at(1, (block) => Object.assign(block, { hash: (block.hash as string).toUpperCase() })), 2, /position 1: hash: expected 64 lowercase hex digits/],
      ['transactions as an object', at(2, (block) => Object.assign(block, { transactions: { 0: firstTx(block) } })), 3, /position 2: transactions: /],
      ['a block as a list', at(1, (_block) => undefined).map((block, i) => (i === 1 ? [block] : block)), 2, /position 1: /],
      ['a transaction without its signature', at(3, (block) => delete (firstTx(block) as Partial<ServedTransaction>).signature), 4, /position 3, transaction 0: registerNode: signature: /],
      ['a transaction as bytes', at(3, (block) => Object.assign(block, { transactions: [[1, 2, 3]] })), 4, /position 3, transaction 0: /],
      ['a negative nonce', at(3, (block) => Object.assign(firstTx(block).transaction, { nonce: -1 })), 4, /position 3, transaction 0: .*nonce/],
    ];
    for (const [what, value, height, message] of cases) {
      const error = refusal(value);
      expect(error.height, what).toBe(height);
      expect(error.message, what).toMatch(message);
    }
    // The transaction's own typed error is the cause.
    const contract = ledger.findIndex((block) => served([block])[0]!.transactions[0]!.transaction.contractedKWh === 2500);
    const negative = served(ledger);
    negative[contract]!.transactions[0]!.transaction.contractedKWh = -5;
    const error = refusal(negative);
    expect(error).toMatchObject({ height: contract + 1, message: expect.stringMatching(/contractedKWh must be a finite number in \(0, 1000000000\], got -5/) });
    expect(error.cause).toBeInstanceOf(InvalidQuantityError);
  });

  it('reads own properties only: `__proto__` keys are refused, inherited fields are missing, holes are not blocks', () => {
    const [block] = served(ledger.slice(0, 1));
    const text = JSON.stringify(block);
    // JSON.parse makes `__proto__` an own key: an extra field, in a block, a header, a transaction.
    const inBlock = JSON.parse(`{"__proto__":{"x":1},${text.slice(1)}`) as unknown;
    expect(refusal([inBlock]).message).toMatch(/position 0: .*__proto__/);
    const inHeader = JSON.parse(text.replace('"header":{', '"header":{"__proto__":{"height":1},')) as unknown;
    expect(refusal([inHeader]).message).toMatch(/position 0: header: .*__proto__/);
    const inTransaction = JSON.parse(text.replace('"transaction":{', '"transaction":{"__proto__":{"type":"registerNode"},')) as unknown;
    const transactionError = refusal([inTransaction]);
    expect(transactionError.message).toMatch(/position 0, transaction 0: .*__proto__/);
    expect(transactionError.cause).toBeInstanceOf(InvalidTransactionError);
    // Fields behind a prototype are not the block's.
    const inherited = Object.create(JSON.parse(text) as object) as unknown;
    expect(refusal([inherited]).message).toMatch(/position 0: header: /);
    // A hole never reads Array.prototype, whatever it holds.
    const holes: unknown[] = [JSON.parse(text)];
    holes.length = 2;
    Object.defineProperty(Array.prototype, '1', { value: JSON.parse(text), configurable: true });
    try {
      expect(refusal(holes)).toMatchObject({ height: 2, message: expect.stringMatching(/position 1 is missing/) });
    } finally {
      delete (Array.prototype as unknown as Record<string, unknown>)['1'];
    }
    expect(Object.hasOwn(Array.prototype, '1')).toBe(false);
  });

  it('refuses a block larger than one log entry, by count or by bytes, and input that throws as it is read', () => {
    const json = served(ledger.slice(0, 2));
    const tx = json[1]!.transactions[0]!;
    json[1]!.transactions = new Array<ServedTransaction>(1_000_000).fill(tx);
    expect(refusal(json)).toMatchObject({ height: 2, message: expect.stringMatching(/at most 1024 transactions, got 1000000/) });
    json[1]!.transactions = new Array<ServedTransaction>(1025).fill(tx);
    expect(refusal(json).message).toMatch(/at most 1024 transactions, got 1025/);
    // A getter that serves a short list to that early check and a long one to the copy: the schema bounds the copy.
    let reads = 0;
    const shifting = {
      header: json[1]!.header,
      hash: json[1]!.hash,
      get transactions(): ServedTransaction[] {
        reads++;
        return reads === 1 ? [tx] : new Array<ServedTransaction>(1025).fill(tx);
      },
    };
    expect(refusal([json[0], shifting])).toMatchObject({ height: 2, message: expect.stringMatching(/position 1: transactions: .*1024/) });
    expect(reads).toBe(2);
    // 32 transactions of about 135 kB each: within the count, beyond the 4 MiB of one entry.
    const s = scene();
    const ids = Array.from({ length: 1024 }, (_, i) => `${String(i).padStart(4, '0')}${'n'.repeat(124)}`);
    const large = JSON.parse(JSON.stringify(s.clients.g1.recordParticipation(ids))) as ServedTransaction;
    json[1]!.transactions = new Array<ServedTransaction>(32).fill(large);
    expect(refusal(json)).toMatchObject({ height: 2, message: expect.stringMatching(/exceed the 4194304 bytes of one log entry/) });
    json[1]!.transactions = new Array<ServedTransaction>(30).fill(large);
    expect(blocksFromJson(json)[1]!.transactions).toHaveLength(30);
    // A getter or proxy of the caller's that throws gives a typed error, never a TypeError.
    const getter = { ...json[0]!, get hash(): string { throw new TypeError('boom'); } };
    expect(refusal([getter])).toMatchObject({ height: 1, message: expect.stringMatching(/position 0 could not be read/) });
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    expect(refusal(proxy).cause).toBeInstanceOf(TypeError);
    const list = new Proxy([json[0]], {
      get(target, key, receiver) {
        if (key === '0') throw new RangeError('an element that cannot be read');
        return Reflect.get(target, key, receiver);
      },
    });
    expect(refusal(list)).toMatchObject({ height: 1, message: expect.stringMatching(/position 0 could not be read/) });
  });
});

describe('the documented check of a served ledger', () => {
  // Three loopback servers answer as greenraft's HTTP gateway does; the third lies about its head.
  const { market } = sample();
  const honestHead = { ...market.ledgerHead(), round: market.round(), serverAppliedIndex: market.lastAppliedIndex() };
  const servers: Server[] = [];
  const urls: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    const blocks = served(market.ledger());
    for (const lying of [false, false, true]) {
      const server = createServer((request, response) => {
        const url = new URL(request.url ?? '/', 'http://localhost');
        requests.push(`${url.pathname}${url.search}`);
        let body: unknown;
        if (url.pathname === '/v1/market/head') body = lying ? { ...honestHead, height: honestHead.height - 1 } : honestHead;
        else if (url.pathname === '/v1/market/ledger') {
          const from = Number(url.searchParams.get('from') ?? 1);
          const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), 1000);
          body = { height: blocks.length, blocks: blocks.slice(from - 1, from - 1 + limit) };
        }
        response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('runs as written in the TSDoc and finds the copy valid against the majority head', async () => {
    // The @example of blocksFromJson, with these servers.
    const servers = urls;
    const getJson = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;

    const heads = await Promise.all(servers.map((url) => getJson<LedgerHead>(`${url}/v1/market/head?consistency=stale`)));
    const key = (h: LedgerHead) => `${h.height}/${h.hash}/${h.index}/${h.term}`;
    const head = heads.find((h) => heads.filter((other) => key(other) === key(h)).length > servers.length / 2);
    if (head === undefined) throw new Error('no majority reports the same head yet: ask again');

    const served: unknown[] = [];
    while (served.length < head.height) {
      const page = await getJson<{ blocks: unknown[] }>(`${servers[0]}/v1/market/ledger?from=${served.length + 1}&limit=1000`);
      if (page.blocks.length === 0) break;
      served.push(...page.blocks);
    }

    const check = verifyLedger(blocksFromJson(served.slice(0, head.height)), { head });
    expect(check).toEqual({ valid: true, height: market.ledger().length });
    expect(head.height).toBe(honestHead.height);
    expect(requests.filter((path) => path.startsWith('/v1/market/ledger'))).toEqual(['/v1/market/ledger?from=1&limit=1000']);
  });
});
