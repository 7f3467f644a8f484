import * as z from 'zod';
import { blockHeaderSchema, hex64 } from './block-schema.js';
import { canonicalDecode, canonicalEncode, fromBase64Url, toBase64Url } from './canonical.js';
import { InvalidSnapshotError, MarketError } from './errors.js';
import { MARKET_LIMITS } from './limits.js';
import { type Block, verifyLedger } from './ledger.js';
import { CommittedState, type ContractRecord, type NodeRecord, type OfferRecord } from './state.js';
import { decodeSignedTransaction, ID_CHARACTERS } from './transactions.js';

/**
 * A snapshot is canonical JSON lines: a header, then one line per node, contract, offer and block,
 * each in the state's (the log's) order. No line grows with the size of the state, so neither
 * taking nor restoring a snapshot meets a limit on the length of one string.
 */
const FORMAT = 'greenraft-market-snapshot';
const VERSION = 2;
const NEWLINE = 0x0a;

/** The whole state as snapshot bytes. Cannot fail on a state the market built: every value in it is bounded. */
export function encodeSnapshot(state: CommittedState): Uint8Array {
  const lines: Uint8Array[] = [
    canonicalEncode({
      format: FORMAT,
      version: VERSION,
      marketId: state.marketId,
      round: state.round,
      lastAppliedIndex: state.lastAppliedIndex,
      gridBalance: state.gridBalance,
      nodes: state.nodes.size,
      contracts: state.contracts.size,
      offers: state.offers.size,
      blocks: state.blocks.length,
    }),
  ];
  for (const node of state.nodes.values()) lines.push(canonicalEncode(node));
  for (const contract of state.contracts.values()) lines.push(canonicalEncode(contract));
  for (const offer of state.offers.values()) lines.push(canonicalEncode(offer));
  for (const block of state.blocks) {
    lines.push(canonicalEncode({ header: block.header, hash: block.hash, transactions: block.transactions.map(toBase64Url) }));
  }
  const size = lines.reduce((sum, line) => sum + line.length + 1, -1);
  const bytes = new Uint8Array(Math.max(0, size));
  let offset = 0;
  for (const line of lines) {
    if (offset > 0) bytes[offset++] = NEWLINE;
    bytes.set(line, offset);
    offset += line.length;
  }
  return bytes;
}

/** The genesis options a snapshot must agree with. */
export interface SnapshotContext {
  readonly marketId: string;
  readonly maxCreditWeight: number;
  readonly priceRange: { readonly min: number; readonly max: number };
}

const count = z.int().min(0);
const milliYuan = z.int().min(-MARKET_LIMITS.maxBalance).max(MARKET_LIMITS.maxBalance);
const id = z.string().min(1).max(MARKET_LIMITS.maxIdLength).regex(ID_CHARACTERS);
const subjectId = z.string().min(3).max(MARKET_LIMITS.maxIdLength + 17).regex(ID_CHARACTERS);
const carbon = z.number().min(0).max(MARKET_LIMITS.maxCarbonAccountTonnes);

const headerSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  marketId: z.string(),
  round: count,
  lastAppliedIndex: count,
  gridBalance: milliYuan,
  nodes: count.max(MARKET_LIMITS.maxNodes),
  contracts: count,
  offers: count,
  blocks: count,
});

const nodeSchema = z.strictObject({
  id,
  kind: z.enum(['generation', 'consumption']),
  renewable: z.boolean(),
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  status: z.literal('active'),
  balance: milliYuan,
  creditWeight: z.number().min(0).max(MARKET_LIMITS.maxCreditWeight),
  participation: z.number().min(0).max(100),
  lastNonce: z.int().min(1),
  renewableKWh: z.number().min(0).max(MARKET_LIMITS.maxLifetimeKWh),
  certificatesIssued: count,
  certificatesSold: count,
  certificatesBought: count,
  carbonCycle: z.strictObject({ quota: carbon, purchased: carbon, emitted: carbon }),
  carbonSettlement: z.number().min(-MARKET_LIMITS.maxCarbonAccountTonnes).max(2 * MARKET_LIMITS.maxCarbonAccountTonnes),
  transmissions: count,
  transmissionFaults: count,
  lastRoundContractedKWh: z.number().min(0).max(MARKET_LIMITS.maxRoundKWh),
  lastRoundActualKWh: z.number().min(0).max(MARKET_LIMITS.maxRoundKWh),
});

const metered = z.number().min(0).max(MARKET_LIMITS.maxMeteredKWh).nullable();
const contractSchema = z.strictObject({
  id: subjectId,
  generator: id,
  consumer: id,
  proposer: id,
  unitPrice: z.number().min(0).max(MARKET_LIMITS.maxPrice),
  contractedKWh: z.number().gt(0).max(MARKET_LIMITS.maxContractKWh),
  deliveryStart: z.int().min(0).max(MARKET_LIMITS.maxTime),
  deliveryEnd: z.int().min(0).max(MARKET_LIMITS.maxTime),
  handlingFee: z.int().min(0).max(MARKET_LIMITS.maxHandlingFee * 1000),
  status: z.enum(['proposed', 'accepted', 'settled']),
  generatedKWh: metered,
  consumedKWh: metered,
  settledInRound: z.int().min(1).nullable(),
  lineFault: z.boolean(),
});

const offerSchema = z.strictObject({
  id: subjectId,
  seller: id,
  buyer: id,
  count: z.int().min(1).max(MARKET_LIMITS.maxCertificateCount),
  unitPrice: z.int().min(0).max(MARKET_LIMITS.maxCertificatePrice * 1000),
});

const blockSchema = z.strictObject({
  header: blockHeaderSchema,
  hash: hex64,
  transactions: z.array(z.string().regex(/^[A-Za-z0-9_-]*$/)).max(MARKET_LIMITS.maxEntryTransactions),
});

/** Splits the bytes at newlines, without copying. */
function* lines(bytes: Uint8Array): Generator<Uint8Array> {
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(NEWLINE, start);
    if (end === -1) {
      yield bytes.subarray(start);
      return;
    }
    yield bytes.subarray(start, end);
    start = end + 1;
  }
}

function fail(message: string, cause?: unknown): never {
  throw new InvalidSnapshotError(message, cause === undefined ? {} : { cause });
}

function parseLine<T>(schema: z.ZodType<T>, line: Uint8Array | undefined, what: string): T {
  if (line === undefined) fail(`the snapshot ends before ${what}`);
  let value: unknown;
  try {
    value = canonicalDecode(line);
  } catch (cause) {
    fail(`${what} is not canonical JSON`, cause);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length === 0 ? '' : ` (${issue.path.map(String).join('.')})`;
    fail(`${what} is malformed${where}: ${issue.message}`.slice(0, 400), result.error);
  }
  return result.data;
}

/** Whether `subject` is `"<owner>/<nonce>"` with a nonce the owner has used. */
function ownedBy(subject: string, owner: NodeRecord | undefined): boolean {
  if (owner === undefined || !subject.startsWith(`${owner.id}/`)) return false;
  const nonce = subject.slice(owner.id.length + 1);
  return /^[1-9][0-9]{0,15}$/.test(nonce) && Number(nonce) <= owner.lastNonce;
}

/**
 * Reads and checks snapshot bytes: the format, every record's shape and bounds, every reference
 * between records, the invariants of the accounts (money sums to zero), and the ledger (it
 * verifies, its transactions are well-formed, and the state has applied at least its last entry).
 *
 * @throws {@link InvalidSnapshotError} naming the first problem.
 */
export function decodeSnapshot(bytes: Uint8Array, context: SnapshotContext): CommittedState {
  if (!(bytes instanceof Uint8Array)) fail('a snapshot is bytes (a Uint8Array)');
  const reader = lines(bytes);
  const next = (): Uint8Array | undefined => {
    const line = reader.next();
    return line.done ? undefined : line.value;
  };
  const header = parseLine(headerSchema, next(), 'the header');
  if (header.marketId !== context.marketId) fail(`the snapshot is of market ${JSON.stringify(header.marketId.slice(0, 64))}, not ${context.marketId}`);
  const state = new CommittedState(context.marketId);
  state.round = header.round;
  state.lastAppliedIndex = header.lastAppliedIndex;
  state.gridBalance = header.gridBalance;

  let total = BigInt(header.gridBalance);
  for (let i = 0; i < header.nodes; i++) {
    const node: NodeRecord = parseLine(nodeSchema, next(), `node ${i + 1}`);
    const label = `node ${node.id}`;
    if (state.nodes.has(node.id)) fail(`${label} appears twice`);
    if (fromBase64Url(node.publicKey)?.length !== 32) fail(`${label}: publicKey is not 32 bytes of base64url`);
    if (node.creditWeight > context.maxCreditWeight) fail(`${label}: creditWeight is above W_a^max ${context.maxCreditWeight}`);
    if (!(node.kind === 'generation' && node.renewable) && node.renewableKWh !== 0) fail(`${label}: only a renewable generator meters renewable generation`);
    if (node.certificatesIssued !== Math.floor(node.renewableKWh / 1000)) fail(`${label}: certificatesIssued does not match renewableKWh (eq. 6)`);
    if (node.certificatesIssued - node.certificatesSold + node.certificatesBought < 0) fail(`${label}: sold more green certificates than it held`);
    if (node.kind === 'consumption' && node.transmissions !== 0) fail(`${label}: a consumption node has no transmissions`);
    if (node.transmissionFaults > node.transmissions) fail(`${label}: more transmission faults than transmissions (eq. 23)`);
    total += BigInt(node.balance);
    state.nodes.set(node.id, node);
  }
  if (total !== 0n) fail(`the balances and the grid's account sum to ${total} milli-yuan, not 0`);

  for (let i = 0; i < header.contracts; i++) {
    const contract: ContractRecord = parseLine(contractSchema, next(), `contract ${i + 1}`);
    const label = `contract ${contract.id}`;
    if (state.contracts.has(contract.id)) fail(`${label} appears twice`);
    if (state.nodes.get(contract.generator)?.kind !== 'generation') fail(`${label}: its generator is not a registered generation node`);
    if (state.nodes.get(contract.consumer)?.kind !== 'consumption') fail(`${label}: its consumer is not a registered consumption node`);
    if (contract.proposer !== contract.generator && contract.proposer !== contract.consumer) fail(`${label}: its proposer is not a party`);
    if (!ownedBy(contract.id, state.nodes.get(contract.proposer))) fail(`${label}: the id is not "<proposer>/<nonce>"`);
    if (contract.unitPrice < context.priceRange.min || contract.unitPrice > context.priceRange.max) fail(`${label}: the unit price is outside this market's range`);
    if (!(contract.deliveryEnd > contract.deliveryStart)) fail(`${label}: the delivery window is empty`);
    const settled = contract.status === 'settled';
    if (settled !== (contract.settledInRound !== null) || (contract.settledInRound ?? 0) > state.round) fail(`${label}: settledInRound does not match its status`);
    if (contract.status === 'proposed' && (contract.generatedKWh !== null || contract.consumedKWh !== null)) fail(`${label}: metered before it was accepted`);
    if (contract.lineFault && !(settled && (contract.generatedKWh ?? 0) > 0)) fail(`${label}: a line fault without a settled transmission`);
    state.contracts.set(contract.id, contract);
  }

  for (let i = 0; i < header.offers; i++) {
    const offer: OfferRecord = parseLine(offerSchema, next(), `offer ${i + 1}`);
    const label = `offer ${offer.id}`;
    if (state.offers.has(offer.id)) fail(`${label} appears twice`);
    if (!state.nodes.has(offer.seller) || !state.nodes.has(offer.buyer) || offer.seller === offer.buyer) fail(`${label}: seller and buyer must be two registered nodes`);
    if (!ownedBy(offer.id, state.nodes.get(offer.seller))) fail(`${label}: the id is not "<seller>/<nonce>"`);
    state.offers.set(offer.id, offer);
  }

  for (let i = 0; i < header.blocks; i++) {
    const line = parseLine(blockSchema, next(), `block ${i + 1}`);
    const transactions = line.transactions.map((text, position) => {
      const tx = fromBase64Url(text);
      if (tx === undefined) fail(`block ${i + 1}: transaction ${position} is not base64url`);
      try {
        decodeSignedTransaction(tx);
      } catch (cause) {
        if (!(cause instanceof MarketError)) throw cause;
        fail(`block ${i + 1}: transaction ${position} is not a well-formed signed transaction`, cause);
      }
      return tx;
    });
    state.blocks.push({ header: line.header, hash: line.hash, transactions } satisfies Block);
  }
  if (next() !== undefined) fail('the snapshot holds more lines than its header counts');

  const check = verifyLedger(state.blocks);
  if (!check.valid) fail(`the ledger does not verify: ${check.message}`);
  const last = state.blocks.at(-1);
  if ((last?.header.index ?? 0) > state.lastAppliedIndex) fail('the ledger holds a block after the last applied index');
  return state;
}
