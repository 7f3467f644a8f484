// The README's example (and the @packageDocumentation one), run as a test on real timers:
// the same code, with the printed values collected and checked.
import type { ApplyInput, ClusterConfig, StateMachine } from '@greenraft/consensus';
import { memoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { type NodeScoreInput, type ScoringStrategy, customScoring, latencyScoring, paperScoring } from '@greenraft/weight-scoring';
import { expect, it } from 'vitest';
import { type ScoreInputsContext, type WeightedRaftNode, createWeightedRaftNode, measuredScoreInputs, satisfiesFaultToleranceGuard } from './index.js';

// The replicated state machine: a ledger of trades (@greenraft/power-market is the real one).
class TradeLedger implements StateMachine<number> {
  trades: string[] = [];
  apply({ data }: ApplyInput) {
    return this.trades.push(new TextDecoder().decode(data));
  }
  snapshot() {
    return new TextEncoder().encode(JSON.stringify(this.trades));
  }
  restore(data: Uint8Array) {
    this.trades = JSON.parse(new TextDecoder().decode(data));
  }
}

// What the market knows of each node; in production, read it from replicated market state.
const market: Record<string, Omit<NodeScoreInput, 'id' | 'participation'>> = {
  g1: { kind: 'generation', creditWeight: 98, contracted: 310, actual: 310, greenCertificates: 40, carbonSettlement: 15 },
  g2: { kind: 'generation', creditWeight: 88, contracted: 200, actual: 200, greenCertificates: 25, carbonSettlement: -5 },
  c1: { kind: 'consumption', creditWeight: 96, contracted: 310, actual: 310, greenCertificates: 10, carbonSettlement: 30 },
  c2: { kind: 'consumption', creditWeight: 86, contracted: 200, actual: 180, greenCertificates: 0, carbonSettlement: -20 },
  c3: { kind: 'consumption', creditWeight: 70, contracted: 60, actual: 50, greenCertificates: 0, carbonSettlement: -30 },
};
const marketInputs = ({ voters, participation }: ScoreInputsContext): NodeScoreInput[] =>
  [...voters.keys()].map((id) => ({ ...market[id]!, id, participation: participation.get(id)?.score ?? 0 }));

async function leaderOf(nodes: WeightedRaftNode<number>[]): Promise<WeightedRaftNode<number>> {
  for (;;) {
    const leader = nodes.find((node) => node.status().role === 'leader');
    if (leader !== undefined) return leader;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function runCluster(scoring: ScoringStrategy, scoreInputs: (context: ScoreInputsContext) => NodeScoreInput[]) {
  const network = memoryNetwork();
  const nodes = Object.keys(market).map((id) =>
    createWeightedRaftNode({
      id,
      transport: network.transport(id),
      storage: memoryStorage(),
      stateMachine: new TradeLedger(),
      weights: { g1: 3, g2: 2, c1: 3, c2: 1, c3: 1 }, // founding weights: c1 and g1 weigh most
      scoring,
      scoreInputs,
      epoch: 0, // new weights on demand; the default 1 applies them after every commit round
    }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  const leader = await leaderOf(nodes);
  await leader.propose(new TextEncoder().encode('g1 → c1: 310 kWh at 0.63 yuan/kWh'));
  const { changed, config } = await leader.applyWeights(); // scores → integer weights → C(old,new) → C(new)
  const result = { strategy: scoring.name, leader: leader.id, changed, config, everyNode: nodes.map((node) => node.voteWeights()) };
  await Promise.all(nodes.map((node) => node.stop()));
  network.close();
  return result;
}

it('runs the README example: paper, latency and custom scoring on five weighted nodes', async () => {
  const results = [
    await runCluster(paperScoring(), marketInputs), // the paper's scores (eq. 8–25)
    await runCluster(latencyScoring(), measuredScoreInputs), // faster acknowledgers weigh more
    await runCluster(
      customScoring('green-first', (node, all) => (100 * node.greenCertificates) / Math.max(1, ...all.map((n) => n.greenCertificates))),
      marketInputs,
    ),
  ];
  expect(results.map((result) => result.strategy)).toEqual(['paper', 'latency', 'green-first']);
  for (const { leader, changed, config, everyNode } of results) {
    expect(Object.keys(market)).toContain(leader);
    expect(changed).toBe(true);
    expect((config as ClusterConfig).outgoing).toBeUndefined();
    expect(satisfiesFaultToleranceGuard(config.incoming.voters, 1)).toBe(true);
    for (const weights of everyNode) expect([...weights]).toEqual([...config.incoming.voters]);
  }
  // green-first: g1 holds the most certificates and ends up heaviest.
  const green = results[2]!.config.incoming.voters;
  expect(Math.max(...green.values())).toBe(green.get('g1'));
});
