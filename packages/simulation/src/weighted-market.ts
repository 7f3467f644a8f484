import { InvalidArgumentError, type NodeId } from '@greenraft/consensus';
import { PAPER_PRICES, type RoundContract, type RoundNode, settleRound } from '@greenraft/power-market';
import { type NodeScoreInput, carbonSettlement } from '@greenraft/weight-scoring';
import { type Rng, rng } from './random.js';

/** A node of a {@link simulatedPowerMarket}. */
export interface MarketParticipantInit {
  readonly id: NodeId;
  readonly kind: 'generation' | 'consumption';
  /** A renewable generator earns green certificates (eq. 6) and emits no carbon. */
  readonly renewable?: boolean;
  /** W_a before the first round, in [0, 100]. */
  readonly creditWeight: number;
}

/** The daily contract a round repeats, with the performance it usually gets. */
export interface ContractTemplate {
  readonly generator: NodeId;
  readonly consumer: NodeId;
  readonly unitPrice: number;
  readonly contractedKWh: number;
  /** Share of the contracted volume the generator usually delivers. @default 1 */
  readonly generatedShare?: number;
  /** Share of the contracted volume the consumer usually takes. @default 1 */
  readonly consumedShare?: number;
}

/** Options of {@link simulatedPowerMarket}. */
export interface SimulatedMarketInit {
  /** Seeds every draw of the market: volumes, chance defaults, certificate sales, line faults, quotas. */
  readonly seed: number;
  readonly participants: readonly MarketParticipantInit[];
  readonly contracts: readonly ContractTemplate[];
  /** Each round's contracted volume varies by up to this share around the template. @default 0.1 */
  readonly volumeJitter?: number;
  /** Chance that a party that usually performs falls 5–20 % short in a round. @default 0.02 */
  readonly chanceDefault?: number;
  /** Rounds per carbon-settlement cycle (eq. 21–22 use the previous cycle's settlement). @default 10 */
  readonly carbonCycle?: number;
}

/**
 * A seeded power market that evolves round by round: every round settles the template contracts
 * (with jittered volumes and occasional defaults) through `settleRound` of `@greenraft/power-market`,
 * carries the credit weights forward (eq. 14–17), issues green certificates to renewable generators
 * (one per MWh, eq. 6) and lets them sell some to consumers, counts transmissions and line faults
 * (eq. 23), and settles carbon once per cycle (eq. 22). Its figures stand for replicated market
 * state: every leader reads the same ones.
 */
export interface SimulatedPowerMarket {
  /** Rounds settled so far. */
  readonly round: number;
  /** Settles the next round and returns every participant's score inputs after it. */
  settleNextRound(): NodeScoreInput[];
  /** The score inputs after the last settled round (neutral figures before the first). */
  scoreInputs(): NodeScoreInput[];
}

interface ParticipantState {
  readonly init: MarketParticipantInit;
  creditWeight: number;
  contracted: number;
  actual: number;
  generatedKWh: number;
  certificatesIssued: number;
  certificates: number;
  transmissions: number;
  faults: number;
  readonly lineFaultRate: number;
  readonly carbonQuotaPerRound: number;
  cycleEmitted: number;
  cyclePurchased: number;
  carbonSettlement: number;
}

// Emission factors (t CO₂ per MWh): coal-fired generation, and grid power bought by consumers.
const FOSSIL_EMISSIONS = 0.8;
const CONSUMER_EMISSIONS = 0.5;

/**
 * Creates a {@link SimulatedPowerMarket}.
 *
 * @throws InvalidArgumentError when a contract names an unknown participant or a participant of the wrong kind.
 */
export function simulatedPowerMarket(init: SimulatedMarketInit): SimulatedPowerMarket {
  const random: Rng = rng(init.seed);
  const jitter = init.volumeJitter ?? 0.1;
  const chanceDefault = init.chanceDefault ?? 0.02;
  const carbonCycle = init.carbonCycle ?? 10;
  const byId = new Map<NodeId, ParticipantState>();
  const volumeOf = new Map<NodeId, number>();
  for (const contract of init.contracts) {
    volumeOf.set(contract.generator, (volumeOf.get(contract.generator) ?? 0) + contract.contractedKWh);
    volumeOf.set(contract.consumer, (volumeOf.get(contract.consumer) ?? 0) + contract.contractedKWh);
  }
  for (const participant of init.participants) {
    const volume = volumeOf.get(participant.id) ?? 0;
    const factor = participant.kind === 'generation' ? (participant.renewable ? 0 : FOSSIL_EMISSIONS) : CONSUMER_EMISSIONS;
    byId.set(participant.id, {
      init: participant,
      creditWeight: participant.creditWeight,
      contracted: 0,
      actual: 0,
      generatedKWh: 0,
      certificatesIssued: 0,
      certificates: 0,
      transmissions: 0,
      faults: 0,
      lineFaultRate: participant.kind === 'generation' ? 0.1 * random() : 0,
      // A quota of 80–120 % of the node's expected emissions, in tonnes per round.
      carbonQuotaPerRound: ((volume * factor) / 1000) * (0.8 + 0.4 * random()) + (participant.renewable ? 0.05 : 0),
      cycleEmitted: 0,
      cyclePurchased: 0,
      carbonSettlement: 0,
    });
  }
  for (const contract of init.contracts) {
    if (byId.get(contract.generator)?.init.kind !== 'generation' || byId.get(contract.consumer)?.init.kind !== 'consumption') {
      throw new InvalidArgumentError(`contract ${contract.generator} → ${contract.consumer} needs a generation and a consumption participant`);
    }
  }
  const states = [...byId.values()];
  const consumers = states.filter((state) => state.init.kind === 'consumption');
  let round = 0;

  const share = (usual: number): number => (usual >= 1 && random.chance(chanceDefault) ? 0.8 + 0.15 * random() : usual);

  const inputs = (): NodeScoreInput[] =>
    states.map((state) => ({
      id: state.init.id,
      kind: state.init.kind,
      creditWeight: state.creditWeight,
      contracted: state.contracted,
      actual: state.actual,
      participation: 0,
      greenCertificates: state.certificates,
      carbonSettlement: state.carbonSettlement,
      ...(state.init.kind === 'generation' ? { transmissions: state.transmissions, transmissionFaults: state.faults } : {}),
    }));

  return {
    get round() {
      return round;
    },
    scoreInputs: inputs,
    settleNextRound() {
      round++;
      const contracts: RoundContract[] = init.contracts.map((template) => {
        const contractedKWh = Math.max(1, Math.round(template.contractedKWh * (1 + jitter * (2 * random() - 1))));
        return {
          generator: template.generator,
          consumer: template.consumer,
          unitPrice: template.unitPrice,
          contractedKWh,
          generatedKWh: Math.round(contractedKWh * share(template.generatedShare ?? 1)),
          consumedKWh: Math.round(contractedKWh * share(template.consumedShare ?? 1)),
        };
      });
      const nodes: RoundNode[] = states.map((state) => ({ id: state.init.id, kind: state.init.kind, creditWeight: state.creditWeight }));
      const settlement = settleRound({ prices: PAPER_PRICES, nodes, contracts });
      for (const node of settlement.nodes) {
        const state = byId.get(node.id)!;
        state.creditWeight = node.creditWeightAfter;
        state.contracted = node.contractedKWh;
        state.actual = node.actualKWh;
      }
      for (const contract of contracts) {
        const generator = byId.get(contract.generator)!;
        const consumer = byId.get(contract.consumer)!;
        generator.transmissions++;
        if (random.chance(generator.lineFaultRate)) generator.faults++;
        if (generator.init.renewable) generator.generatedKWh += contract.generatedKWh;
        else generator.cycleEmitted += (contract.generatedKWh * FOSSIL_EMISSIONS) / 1000;
        consumer.cycleEmitted += (contract.consumedKWh * CONSUMER_EMISSIONS) / 1000;
      }
      for (const state of states) {
        if (!state.init.renewable) continue;
        // eq. 6: one certificate per MWh of renewable generation.
        const issued = Math.floor(state.generatedKWh / 1000);
        state.certificates += issued - state.certificatesIssued;
        state.certificatesIssued = issued;
        // A sold certificate stops counting for the seller and counts for the buyer (§4.2.4).
        if (state.certificates > 1 && consumers.length > 0 && random.chance(0.25)) {
          state.certificates--;
          random.pick(consumers).certificates++;
        }
      }
      for (const state of states) {
        // Over-emitters buy part of their shortfall in carbon rights during the cycle.
        const shortfall = state.cycleEmitted - state.carbonQuotaPerRound * ((round - 1) % carbonCycle + 1);
        if (shortfall > 0 && random.chance(0.3)) state.cyclePurchased += shortfall * random();
      }
      if (round % carbonCycle === 0) {
        for (const state of states) {
          // eq. 22 for the cycle just ended; eq. 21 scores it during the next one.
          state.carbonSettlement = carbonSettlement({
            quota: state.carbonQuotaPerRound * carbonCycle,
            purchased: state.cyclePurchased,
            emitted: state.cycleEmitted,
          });
          state.cycleEmitted = 0;
          state.cyclePurchased = 0;
        }
      }
      return inputs();
    },
  };
}

/**
 * A market for a simulated cluster of `ids`: the first half (rounded up) generate, the rest
 * consume; every other generator is renewable; each generator contracts 50–300 kWh a day with a
 * consumer, round-robin; credit weights start between 60 and 100. Drawn from `seed`.
 */
export function generatedPowerMarket(ids: readonly NodeId[], seed: number): SimulatedPowerMarket {
  const random = rng(seed);
  const generators = ids.slice(0, Math.ceil(ids.length / 2));
  const consumers = ids.slice(generators.length);
  const participants: MarketParticipantInit[] = ids.map((id, position) => ({
    id,
    kind: position < generators.length ? 'generation' : 'consumption',
    renewable: position < generators.length && position % 2 === 0,
    creditWeight: 60 + 40 * random(),
  }));
  const contracts: ContractTemplate[] = generators.map((generator, position) => ({
    generator,
    consumer: consumers[position % consumers.length]!,
    unitPrice: 0.6 + 0.05 * random(),
    contractedKWh: random.int(50, 300),
    // Now and then a habitual defaulter, like nodes 17 and 29 of the paper's Tables 1–2.
    consumedShare: random.chance(0.2) ? 0.85 : 1,
  }));
  return simulatedPowerMarket({ seed: seed ^ 0x5eed, participants, contracts });
}
