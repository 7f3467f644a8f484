/**
 * Swapping scoring strategies. The same five-node weighted cluster runs under four strategies:
 * the paper's scores (eq. 8–25), uniform scores (classic Raft), a custom one written with
 * `customScoring`, and a `ScoringStrategy` written from scratch. Each time the leader scores the
 * voters, turns the scores into integer vote weights (keeping any 2 crashed voters harmless) and
 * moves the cluster to them by joint consensus.
 *
 *   npm install @greenraft/weighted-raft @greenraft/transport-memory
 */
import { memoryNetwork } from '@greenraft/transport-memory';
import {
  type ApplyInput,
  type NodeScoreInput,
  type ScoringStrategy,
  type StateMachine,
  type WeightedRaftNode,
  createWeightedRaftNode,
  customScoring,
  memoryStorage,
  paperScoring,
  uniformScoring,
} from '@greenraft/weighted-raft';

class TradeLedger implements StateMachine<number> {
  trades: string[] = [];
  apply({ data }: ApplyInput): number {
    return this.trades.push(new TextDecoder().decode(data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.trades));
  }
  restore(data: Uint8Array): void {
    this.trades = JSON.parse(new TextDecoder().decode(data)) as string[];
  }
}

// What the market knows of each node after a trading round (in production: replicated market state).
const market: Record<string, Omit<NodeScoreInput, 'id' | 'participation'>> = {
  g1: { kind: 'generation', creditWeight: 98, contracted: 310, actual: 310, greenCertificates: 40, carbonSettlement: 15, transmissions: 200, transmissionFaults: 2 },
  g2: { kind: 'generation', creditWeight: 88, contracted: 200, actual: 200, greenCertificates: 25, carbonSettlement: -5, transmissions: 150, transmissionFaults: 30 },
  c1: { kind: 'consumption', creditWeight: 96, contracted: 310, actual: 310, greenCertificates: 10, carbonSettlement: 30 },
  c2: { kind: 'consumption', creditWeight: 86, contracted: 200, actual: 180, greenCertificates: 0, carbonSettlement: -20 },
  c3: { kind: 'consumption', creditWeight: 70, contracted: 60, actual: 50, greenCertificates: 0, carbonSettlement: -30 },
};
const scoreInputs = ({ voters }: { voters: ReadonlyMap<string, number> }): NodeScoreInput[] =>
  [...voters.keys()].map((id) => ({ ...market[id]!, id, participation: 10 }));

// Your own strategy in one line: half the score for everyone, the other half for green certificates.
const greenFirst = customScoring('green-first', (node, all) => 50 + (50 * node.greenCertificates) / Math.max(1, ...all.map((n) => n.greenCertificates)));

// A strategy from scratch: trading credit, less for generators whose lines fail.
const reliableCredit: ScoringStrategy = {
  name: 'reliable-credit',
  score(nodes) {
    return new Map(nodes.map((node) => [node.id, node.creditWeight * (1 - (node.transmissionFaults ?? 0) / Math.max(1, node.transmissions ?? 1))]));
  },
};

async function leaderOf(nodes: readonly WeightedRaftNode<number>[]): Promise<WeightedRaftNode<number>> {
  for (;;) {
    const leader = nodes.find((node) => node.status().role === 'leader');
    if (leader !== undefined) return leader;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const scoring of [paperScoring(), uniformScoring(), greenFirst, reliableCredit]) {
  const network = memoryNetwork();
  const nodes = Object.keys(market).map((id) =>
    createWeightedRaftNode({
      id,
      transport: network.transport(id),
      storage: memoryStorage(),
      stateMachine: new TradeLedger(),
      weights: { g1: 4, g2: 3, c1: 4, c2: 3, c3: 3 }, // the 2 heaviest weigh less than half of 17
      scoring,
      scoreInputs,
      epoch: 0, // new weights on demand only
    }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  const leader = await leaderOf(nodes);
  await leader.propose(new TextEncoder().encode('g1 → c1: 310 kWh at 0.63 yuan/kWh'));
  const { config } = await leader.applyWeights(); // scores → integer weights → C(old,new) → C(new)
  const weights = [...config.incoming.voters].map(([id, weight]) => `${id}=${weight}`).join(' ');
  console.log(`${scoring.name.padEnd(16)} ${weights}`);
  await Promise.all(nodes.map((node) => node.stop()));
  network.close();
}
