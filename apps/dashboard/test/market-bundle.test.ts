/**
 * The power market as the page bundles it (node:crypto and Buffer replaced by the browser
 * subsets) behaves byte for byte as the package does in Node: the same participants' keys sign
 * the same transactions with the same signatures, every replica applies them to the same
 * outcomes, and both end with the same ledger head and the same snapshot. And the browser build
 * refuses a Node built-in it does not provide, naming the importer.
 */
import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as nodeMarket from '@greenraft/power-market';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greenraftBrowser, greenraftSourceAliases } from '../browser-build.ts';

type Market = typeof nodeMarket;
type BrowserBundle = Market & { createPrivateKey: (input: { key: object; format: 'jwk' }) => nodeCrypto.KeyObject };

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function bundle(source: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-dashboard-bundle-'));
  dirs.push(dir);
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, source);
  await build({
    configFile: false,
    logLevel: 'silent',
    plugins: [greenraftBrowser()],
    resolve: { alias: greenraftSourceAliases() },
    build: { outDir: join(dir, 'out'), minify: false, lib: { entry, formats: ['es'], fileName: 'bundle' }, rolldownOptions: { external: [] } },
  });
  return join(dir, 'out', 'bundle.js');
}

/** The same seeds give the same participants in both builds. */
const SEEDS = { solar: 1, wind: 2, mill: 3 } as const;
const seedOf = (n: number) => Buffer.alloc(32, n).toString('base64url');

function run(market: Market, createPrivateKey: (input: { key: object; format: 'jwk' }) => nodeCrypto.KeyObject, x: Record<string, string>) {
  const clients = Object.fromEntries(
    Object.entries(SEEDS).map(([id, n]) => {
      const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seedOf(n), x: x[id] }, format: 'jwk' });
      return [id, market.marketClient({ id, keys: { publicKey: market.publicKeyToBase64Url(privateKey), privateKey } })];
    }),
  ) as Record<keyof typeof SEEDS, nodeMarket.MarketClient>;
  const replica = market.powerMarket({ initialCreditWeight: 80, carbonCycleRounds: 2 });
  const day = { deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3) };
  const entries: nodeMarket.SignedTransaction[][] = [];
  entries.push([clients.solar.register({ kind: 'generation', renewable: true }), clients.wind.register({ kind: 'generation', renewable: true }), clients.mill.register({ kind: 'consumption' })]);
  const solar = clients.solar.proposeContract({ counterparty: 'mill', unitPrice: 0.6, contractedKWh: 1200, ...day });
  const wind = clients.wind.proposeContract({ counterparty: 'mill', unitPrice: 0.55, contractedKWh: 800, ...day });
  const ids = [market.transactionSubjectId(solar), market.transactionSubjectId(wind)];
  entries.push([solar, wind, clients.mill.acceptContract(ids[0]!), clients.mill.acceptContract(ids[1]!)]);
  const forged = { ...clients.wind.reportDelivery(ids[1]!, 800), signature: clients.solar.reportDelivery(ids[0]!, 1).signature };
  entries.push([clients.solar.reportDelivery(ids[0]!, 1200), clients.mill.reportDelivery(ids[0]!, 1200), forged, clients.wind.reportDelivery(ids[1]!, 600), clients.mill.reportDelivery(ids[1]!, 600)]);
  entries.push([clients.solar.recordCarbon({ quota: 5, emitted: 1 }), clients.mill.recordCarbon({ quota: 10, emitted: 14 }), clients.mill.settleRound(ids)]);
  const outcomes = entries.map((transactions, i) => replica.apply({ index: i + 2, term: 1, data: market.encodeTransactions(transactions) }).outcomes.map((o) => (o.accepted ? o.receipt.hash : o.error.code)));
  return { outcomes, signatures: entries.flat().map((signed) => signed.signature), head: replica.ledgerHead(), snapshot: Buffer.from(replica.snapshot()).toString('base64'), weights: [...replica.voteWeights()] };
}

describe('the power market in the browser build', () => {
  let browserMarket: BrowserBundle;
  beforeAll(async () => {
    const file = await bundle("export * from '@greenraft/power-market';\nexport { createPrivateKey } from 'node:crypto';\n");
    browserMarket = (await import(pathToFileURL(file).href)) as BrowserBundle;
  }, 120_000);

  it('replaces node:crypto in the bundle (its keys are not Node KeyObjects)', () => {
    const keys = browserMarket.generateParticipantKeys();
    expect(keys.privateKey).not.toBeInstanceOf(nodeCrypto.KeyObject);
    expect(browserMarket.verifyTransactionSignature(browserMarket.signTransaction({ type: 'recordCarbon', signer: 'g1', nonce: 1, quota: 1, purchased: 0, emitted: 0 }, keys.privateKey), keys.publicKey)).toBe(true);
  });

  it('signs, applies and settles exactly as the package does in Node', () => {
    const x = Object.fromEntries(Object.entries(SEEDS).map(([id, n]) => [id, (browserMarket.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seedOf(n), x: '' }, format: 'jwk' }).export({ format: 'jwk' }) as { x: string }).x]));
    const inNode = run(nodeMarket, nodeCrypto.createPrivateKey as never, x);
    const inBrowser = run(browserMarket, browserMarket.createPrivateKey, x);
    expect(inNode.outcomes[2]![2]).toBe('INVALID_SIGNATURE');
    expect(inNode.outcomes.flat().filter((o) => o.length === 64)).toHaveLength(14);
    expect(inBrowser.signatures).toEqual(inNode.signatures);
    expect(inBrowser.outcomes).toEqual(inNode.outcomes);
    expect(inBrowser.head).toEqual(inNode.head);
    expect(inBrowser.weights).toEqual(inNode.weights);
    expect(inBrowser.snapshot).toBe(inNode.snapshot);
  });

  it('refuses any other Node built-in, naming the module that imports it', async () => {
    await expect(bundle("import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n")).rejects.toThrow(/imports node:fs, which the dashboard's browser build does not provide/);
  });
});
