import type { NodeId } from '@greenraft/consensus';
import { type MarketClient, type SignedTransaction, encodeTransactions, marketClient } from '@greenraft/power-market';
import { deriveSeed, type Rng, rng } from '../random.js';
import { CONSUMER_EMISSIONS_PER_MWH, FOSSIL_EMISSIONS_PER_MWH, type Roster, type RosterNode } from './roster.js';

/** One contract of a scripted round, as it was metered. */
export interface ScriptedContract {
  /** The market's id of the contract: `"<generator>/<nonce>"`. */
  readonly id: string;
  readonly generator: NodeId;
  readonly consumer: NodeId;
  readonly contractedKWh: number;
  readonly generatedKWh: number;
  readonly consumedKWh: number;
}

/** One day of trading: the signed transactions every party sends, in the order they are applied. */
export interface ScriptedRound {
  /** From 1. */
  readonly round: number;
  /**
   * Contract proposals and acceptances, delivery reports, the cycle's carbon accounts (at the end of
   * a cycle), the settlement, line-fault reports and certificate sales. The leader's participation
   * record of the previous round goes before them ({@link MarketScript.entry}).
   */
  readonly transactions: readonly SignedTransaction[];
  readonly contracts: readonly ScriptedContract[];
}

/** Options of a {@link MarketScript}. */
export interface MarketScriptInit {
  readonly roster: Roster;
  /** Seeds every draw: volumes, defaults, line faults, certificate sales, carbon purchases. */
  readonly seed: number;
  /** Rounds per carbon-trading cycle (eq. 21–22 score the previous cycle). */
  readonly carbonCycle: number;
}

// Nonces: round k's transactions of a node use k · NONCES_PER_ROUND + 1, + 2, …, and the leader's
// participation record of round k uses k · NONCES_PER_ROUND, so a script signed once serves every
// leader (nonces only have to grow per signer; gaps are allowed).
const NONCES_PER_ROUND = 1000;
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2024, 0, 1);
// Every other party falls 5–20 % short with this probability in a round.
const CHANCE_DEFAULT = 0.02;
// A habitual defaulter (nodes 17 and 29) defaults in this share of the rounds and performs in the others.
const HABITUAL_DEFAULT_RATE = 0.5;
// A seller holding at least two certificates sells one with this probability after a round (about one every ten days), at 50 yuan.
const CERTIFICATE_SALE_CHANCE = 0.1;
const CERTIFICATE_PRICE_YUAN = 50;
const GREEN_CERTIFICATE_KWH = 1000;

interface CarbonAccount {
  emitted: number;
  purchased: number;
}

/**
 * The paper's market as a script of signed transactions: every round's contracts (Table 1's as the
 * template, volumes ±10 %), metered deliveries (nodes 17 and 29 default in half the rounds, any
 * other party falls short with probability 2 %), settlement, line faults, green-certificate sales
 * and the carbon accounts of each cycle. It depends only on its seed, never on consensus, so one
 * script is signed once and replicated by every run of a reproduction; only the participation
 * record (eq. 19), which depends on who acknowledged what, is signed by each run's leader.
 */
export class MarketScript {
  readonly roster: Roster;
  readonly #random: Rng;
  readonly #carbonCycle: number;
  readonly #rounds: ScriptedRound[] = [];
  readonly #byId = new Map<NodeId, RosterNode>();
  readonly #renewableKWh = new Map<NodeId, number>();
  readonly #certificatesSold = new Map<NodeId, number>();
  readonly #carbon = new Map<NodeId, CarbonAccount>();
  #registration: SignedTransaction[] | undefined;

  constructor(init: MarketScriptInit) {
    this.roster = init.roster;
    this.#random = rng(deriveSeed(init.seed, 43));
    this.#carbonCycle = init.carbonCycle;
    for (const node of init.roster.nodes) {
      this.#byId.set(node.id, node);
      this.#carbon.set(node.id, { emitted: 0, purchased: 0 });
    }
  }

  /** Every node's registration (N_i, eq. 1), self-signed: the first entry of every run. */
  registration(): readonly SignedTransaction[] {
    this.#registration ??= this.roster.nodes.map((node) => marketClient({ id: node.id, keys: node.keys }).register({ kind: node.kind, renewable: node.renewable }));
    return this.#registration;
  }

  /** Round `round` (from 1), scripted on first use; rounds are always scripted in order. */
  round(round: number): ScriptedRound {
    while (this.#rounds.length < round) this.#rounds.push(this.#script(this.#rounds.length + 1));
    return this.#rounds[round - 1]!;
  }

  /**
   * The log entry of round `round`: `leader`'s record of the acknowledgements that formed the
   * previous round's commit quorum (eq. 19's valid replies, leader first), then the round.
   */
  entry(round: number, leader: NodeId, acknowledgements: readonly NodeId[]): Uint8Array {
    const transactions = this.round(round).transactions;
    if (acknowledgements.length === 0) return encodeTransactions(transactions);
    const recorder = this.#client(leader, round * NONCES_PER_ROUND - 1);
    return encodeTransactions([recorder.recordParticipation(acknowledgements), ...transactions]);
  }

  /** The registration entry. */
  registrationEntry(): Uint8Array {
    return encodeTransactions(this.registration());
  }

  #client(id: NodeId, lastNonce: number): MarketClient {
    return marketClient({ id, keys: this.#byId.get(id)!.keys, lastNonce });
  }

  /** The share of its contract a party delivers or takes this round. */
  #share(node: RosterNode, usual: number): number {
    const random = this.#random;
    if (node.defaultShare !== undefined) return random.chance(HABITUAL_DEFAULT_RATE) ? node.defaultShare : usual;
    return random.chance(CHANCE_DEFAULT) ? 0.8 + 0.15 * random() : usual;
  }

  #script(round: number): ScriptedRound {
    const random = this.#random;
    const clients = new Map<NodeId, MarketClient>();
    const client = (id: NodeId): MarketClient => {
      let found = clients.get(id);
      if (found === undefined) clients.set(id, (found = this.#client(id, round * NONCES_PER_ROUND)));
      return found;
    };
    const transactions: SignedTransaction[] = [];
    const contracts: ScriptedContract[] = [];
    const deliveryStart = FIRST_DAY + round * DAY_MS;
    for (const template of this.roster.contracts) {
      const generator = this.#byId.get(template.generator)!;
      const consumer = this.#byId.get(template.consumer)!;
      const contractedKWh = Math.max(1, Math.round(template.contractedKWh * (1 + 0.1 * (2 * random() - 1))));
      const generatedKWh = Math.round(contractedKWh * this.#share(generator, 1));
      const consumedKWh = Math.round(contractedKWh * this.#share(consumer, template.consumedShare));
      const proposal = client(generator.id).proposeContract({
        counterparty: consumer.id,
        unitPrice: template.unitPrice,
        contractedKWh,
        deliveryStart,
        deliveryEnd: deliveryStart + DAY_MS,
      });
      const id = `${proposal.transaction.signer}/${proposal.transaction.nonce}`;
      transactions.push(proposal, client(consumer.id).acceptContract(id));
      contracts.push({ id, generator: generator.id, consumer: consumer.id, contractedKWh, generatedKWh, consumedKWh });
    }
    for (const contract of contracts) {
      transactions.push(client(contract.generator).reportDelivery(contract.id, contract.generatedKWh));
      transactions.push(client(contract.consumer).reportDelivery(contract.id, contract.consumedKWh));
      const generator = this.#byId.get(contract.generator)!;
      const consumer = this.#carbon.get(contract.consumer)!;
      consumer.emitted += (contract.consumedKWh * CONSUMER_EMISSIONS_PER_MWH) / 1000;
      if (generator.renewable) this.#renewableKWh.set(generator.id, (this.#renewableKWh.get(generator.id) ?? 0) + contract.generatedKWh);
      else this.#carbon.get(generator.id)!.emitted += (contract.generatedKWh * FOSSIL_EMISSIONS_PER_MWH) / 1000;
    }
    const inCycle = ((round - 1) % this.#carbonCycle) + 1;
    for (const node of this.roster.nodes) {
      // Over-emitters buy part of their shortfall in carbon rights during the cycle.
      const account = this.#carbon.get(node.id)!;
      const shortfall = account.emitted - account.purchased - node.carbonQuotaPerRound * inCycle;
      if (shortfall > 0 && random.chance(0.3)) account.purchased += shortfall * random();
    }
    if (inCycle === this.#carbonCycle) {
      // The cycle's accounts go in before the settlement that closes the cycle (eq. 22).
      for (const node of this.roster.nodes) {
        const account = this.#carbon.get(node.id)!;
        transactions.push(client(node.id).recordCarbon({ quota: node.carbonQuotaPerRound * this.#carbonCycle, purchased: account.purchased, emitted: account.emitted }));
        account.emitted = 0;
        account.purchased = 0;
      }
    }
    transactions.push(client(this.roster.nodes[0]!.id).settleRound(contracts.map((contract) => contract.id)));
    for (const contract of contracts) {
      const generator = this.#byId.get(contract.generator)!;
      if (contract.generatedKWh > 0 && random.chance(generator.lineFaultRate)) transactions.push(client(generator.id).reportLineFault(contract.id));
    }
    for (const { seller, buyer } of this.roster.certificateSales) {
      // eq. 6: certificates issued so far, one per MWh; sold ones no longer count (§4.2.4).
      const issued = Math.floor((this.#renewableKWh.get(seller) ?? 0) / GREEN_CERTIFICATE_KWH);
      const sold = this.#certificatesSold.get(seller) ?? 0;
      if (issued - sold < 2 || !random.chance(CERTIFICATE_SALE_CHANCE)) continue;
      const offer = client(seller).offerCertificates({ buyer, count: 1, unitPrice: CERTIFICATE_PRICE_YUAN });
      transactions.push(offer, client(buyer).acceptCertificates(`${offer.transaction.signer}/${offer.transaction.nonce}`));
      this.#certificatesSold.set(seller, sold + 1);
    }
    return { round, transactions, contracts };
  }
}
