import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { InvalidArgumentError, integerOption, type NodeId } from '@greenraft/consensus';
import type { ParticipantKeys } from '@greenraft/power-market';
import { deriveSeed, rng } from '../random.js';
import { PAPER_TABLE_1_ROUND } from './table-1-round.js';

/** One node of a paper market. */
export interface RosterNode {
  readonly id: NodeId;
  readonly kind: 'generation' | 'consumption';
  /** Earns green certificates (eq. 6) and emits no carbon. */
  readonly renewable: boolean;
  /** Its ed25519 keys, derived from the run's seed so that the same seed signs the same bytes. */
  readonly keys: ParticipantKeys;
  /** Chance that a settled transmission of this generator is reported faulted (eq. 23). */
  readonly lineFaultRate: number;
  /** Carbon quota issued per round, tonnes of CO₂ (eq. 22's A^q, paid out per cycle). */
  readonly carbonQuotaPerRound: number;
  /** A habitual defaulter: the share of its contract it delivers or takes when it defaults. */
  readonly defaultShare: number | undefined;
}

/** The daily contract of a paper market (Table 1's contracts for the 30-node market). */
export interface RosterContract {
  readonly generator: NodeId;
  readonly consumer: NodeId;
  /** U, yuan/kWh. */
  readonly unitPrice: number;
  /** C_e of the template; each round varies it by up to ±10 %. */
  readonly contractedKWh: number;
  /** Share of the contract the consumer usually takes (node 26 of Table 2 takes 80 of 60 kWh). */
  readonly consumedShare: number;
}

/** A renewable generator that sells green certificates to a consumer (§5.3.2). */
export interface CertificateSale {
  readonly seller: NodeId;
  readonly buyer: NodeId;
}

/** The nodes, contracts and certificate trades of a paper market. */
export interface Roster {
  readonly nodes: readonly RosterNode[];
  readonly contracts: readonly RosterContract[];
  readonly certificateSales: readonly CertificateSale[];
}

// Positions (0-based, within the 15 generators or the 15 consumers of Table 1) that a market of
// another size copies, so that the 30-node market is exactly the paper's.
const RENEWABLE_GENERATORS = new Set([0, 1, 2, 4]); // nodes 1, 2, 3, 5
const DEFAULTING_CONSUMERS = new Map([
  [1, 0.9], // node 17 takes 180 of 200 kWh in Table 2
  [13, 50 / 60], // node 29 takes 50 of 60 kWh
]);
// Nodes 1 and 3 sell certificates, nodes 16 and 25 buy them (§5.3.2).
const CERTIFICATE_SALES: readonly [seller: number, buyer: number][] = [
  [0, 0],
  [2, 9],
];
// Emission factors, t CO₂ per MWh: coal-fired generation, and grid power behind a consumer's use.
export const FOSSIL_EMISSIONS_PER_MWH = 0.8;
export const CONSUMER_EMISSIONS_PER_MWH = 0.5;

// The PKCS#8 DER header of a raw 32-byte ed25519 private key (RFC 8410).
const ED25519_PKCS8_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Deterministic ed25519 keys for participant `id` of a run seeded `seed`. */
export function participantKeys(seed: number, id: NodeId): ParticipantKeys {
  const secret = createHash('sha256').update(`greenraft-paper-participant:${seed}:${id}`).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_HEADER, secret]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new InvalidArgumentError('ed25519 public key has no x coordinate');
  return { publicKey: jwk.x, privateKey };
}

/**
 * The market of `size` nodes: the first ⌈size/2⌉ generate, the rest consume. With 30 nodes it is
 * the paper's §5.1 market: Table 1's 15 contracts (generator i with consumer i + 15), renewable
 * generators 1, 2, 3 and 5 (the paper gives 1, 2 and 5 the best certificate and carbon weights,
 * and has 1 and 3 sell certificates), habitual defaulters 17 and 29, certificate sales from 1 to 16
 * and from 3 to 25. Other sizes repeat that pattern: generator j takes Table 1's contract j mod 15
 * with consumer j mod (number of consumers). Line-fault rates and carbon quotas are drawn from `seed`.
 */
export function paperRoster(size: number, seed: number): Roster {
  integerOption('nodes', size, { min: 3, max: 200 });
  const generators = Math.ceil(size / 2);
  const consumers = size - generators;
  const template = PAPER_TABLE_1_ROUND.contracts;
  const contracts: RosterContract[] = [];
  for (let j = 0; j < generators; j++) {
    const paper = template[j % template.length]!;
    const consumer = generators + (j % consumers);
    contracts.push({
      generator: String(j + 1),
      consumer: String(consumer + 1),
      unitPrice: paper.unitPrice,
      contractedKWh: paper.contractedKWh,
      // A habitual defaulter's shortfall is drawn per round; only over-consumption is a habit here.
      consumedShare: Math.max(1, paper.consumedKWh / paper.contractedKWh),
    });
  }
  const volume = new Map<NodeId, number>();
  for (const contract of contracts) {
    volume.set(contract.generator, (volume.get(contract.generator) ?? 0) + contract.contractedKWh);
    volume.set(contract.consumer, (volume.get(contract.consumer) ?? 0) + contract.contractedKWh * contract.consumedShare);
  }
  const random = rng(deriveSeed(seed, 41));
  const nodes: RosterNode[] = [];
  for (let position = 0; position < size; position++) {
    const id = String(position + 1);
    const generation = position < generators;
    const local = generation ? position % 15 : (position - generators) % 15;
    const renewable = generation && RENEWABLE_GENERATORS.has(local);
    const factor = generation ? (renewable ? 0 : FOSSIL_EMISSIONS_PER_MWH) : CONSUMER_EMISSIONS_PER_MWH;
    nodes.push({
      id,
      kind: generation ? 'generation' : 'consumption',
      renewable,
      keys: participantKeys(seed, id),
      lineFaultRate: generation ? 0.1 * random() : 0,
      // 80–120 % of the node's expected emissions; a renewable generator gets a small quota it never uses.
      carbonQuotaPerRound: (((volume.get(id) ?? 0) * factor) / 1000) * (0.8 + 0.4 * random()) + (renewable ? 0.05 : 0),
      defaultShare: generation ? undefined : DEFAULTING_CONSUMERS.get(position - generators),
    });
  }
  const certificateSales = CERTIFICATE_SALES.filter(([seller]) => seller < generators).map(([seller, buyer]) => ({
    seller: String(seller + 1),
    buyer: String(generators + (buyer % consumers) + 1),
  }));
  return { nodes, contracts, certificateSales };
}
