/**
 * The in-page market's participants and what they trade each round: a seeded plan, so the same
 * seed gives the same contracts, meter readings and carbon accounts. Most parties perform; some
 * fall short (and pay the penalties of eq. 32–34), some over-generate, the gas plant emits.
 */
import type { MarketClient, SignedTransaction } from '@greenraft/power-market';
import { transactionSubjectId } from '@greenraft/power-market';
import type { NodeId, Participant } from '../../model/events.js';

/** The in-page cluster's participants: three generators (two renewable) and two consumers. */
export const DEFAULT_PARTICIPANTS: readonly Participant[] = [
  { id: 'solar', kind: 'generation', renewable: true },
  { id: 'wind', kind: 'generation', renewable: true },
  { id: 'gas', kind: 'generation', renewable: false },
  { id: 'mill', kind: 'consumption', renewable: false },
  { id: 'city', kind: 'consumption', renewable: false },
];

const DAY_MS = 86_400_000;
/** The first delivery day of the in-page market. */
const FIRST_DAY = Date.UTC(2024, 0, 1);

/** A contract of a round, as planned. */
export interface PlannedContract {
  readonly generator: NodeId;
  readonly consumer: NodeId;
  readonly contractedKWh: number;
  readonly unitPrice: number;
  /** Metered generation and consumption, kWh. */
  readonly generatedKWh: number;
  readonly consumedKWh: number;
}

/** The delivery window of round `round` (one day each). */
export function deliveryWindow(round: number): { deliveryStart: number; deliveryEnd: number } {
  const start = FIRST_DAY + (round - 1) * DAY_MS;
  return { deliveryStart: start, deliveryEnd: start + DAY_MS };
}

const round10 = (value: number) => Math.max(10, Math.round(value / 10) * 10);
const cents = (value: number) => Math.round(value * 100) / 100;

/** Meter reading of a party that usually performs: `performs` of the time exactly the contract, else short or (a generator) over. */
function metered(contracted: number, random: () => number, generator: boolean): number {
  const draw = random();
  if (draw < 0.72) return contracted;
  if (draw < 0.9) return round10(contracted * (0.55 + 0.4 * random())); // a shortfall: a default (eq. 16–17)
  return generator ? round10(contracted * (1.05 + 0.2 * random())) : contracted;
}

/** The contracts of one round: each generator sells to a consumer, in turn. */
export function planContracts(participants: readonly Participant[], round: number, random: () => number, priceRange: { min: number; max: number }): PlannedContract[] {
  const generators = participants.filter((p) => p.kind === 'generation');
  const consumers = participants.filter((p) => p.kind === 'consumption');
  if (consumers.length === 0) return [];
  return generators.map((generator, position) => {
    const consumer = consumers[(position + round) % consumers.length]!;
    const contractedKWh = round10(200 + 1300 * random());
    const unitPrice = cents(priceRange.min + 0.05 + (priceRange.max - priceRange.min - 0.1) * random());
    return {
      generator: generator.id,
      consumer: consumer.id,
      contractedKWh,
      unitPrice,
      generatedKWh: metered(contractedKWh, random, true),
      consumedKWh: metered(contractedKWh, random, false),
    };
  });
}

/** The carbon account a participant records in a round (tonnes): the gas plant emits most. */
export function carbonOf(participant: Participant, random: () => number): { quota: number; purchased: number; emitted: number } {
  if (participant.kind === 'generation' && !participant.renewable) return { quota: 40, purchased: Math.round(8 * random()), emitted: Math.round(38 + 20 * random()) };
  if (participant.kind === 'generation') return { quota: 4, purchased: 0, emitted: Math.round(2 * random()) };
  return { quota: 12, purchased: Math.round(3 * random()), emitted: Math.round(8 + 8 * random()) };
}

/** Signs a contract's offer and its acceptance; the contract's id is known before either is applied. */
export function signContract(clients: ReadonlyMap<NodeId, MarketClient>, contract: Omit<PlannedContract, 'generatedKWh' | 'consumedKWh'>, round: number): { contractId: string; transactions: SignedTransaction[] } {
  const offer = clients.get(contract.generator)!.proposeContract({
    counterparty: contract.consumer,
    unitPrice: contract.unitPrice,
    contractedKWh: contract.contractedKWh,
    ...deliveryWindow(round),
  });
  const contractId = transactionSubjectId(offer);
  return { contractId, transactions: [offer, clients.get(contract.consumer)!.acceptContract(contractId)] };
}
