// The README's example (and the @packageDocumentation one), run as a test on real timers:
// the same code, importing from this package and the transport only, with the printed values collected and checked.
import { readFileSync } from 'node:fs';
import { memoryNetwork } from '@greenraft/transport-memory';
import { expect, it } from 'vitest';
import {
  type ApplyInput,
  type ClusterConfig,
  type NodeScoreInput,
  type ScoreInputsContext,
  type ScoringStrategy,
  type StateMachine,
  type WeightedRaftNode,
  createWeightedRaftNode,
  customScoring,
  latencyScoring,
  measuredScoreInputs,
  memoryStorage,
  paperScoring,
  satisfiesFaultToleranceGuard,
} from './index.js';

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
      // Founding weights: g1 and c1 weigh most. By default any 2 of 5 voters may crash, so the
      // 2 heaviest must weigh less than half the total: 4 + 4 < 17 / 2.
      weights: { g1: 4, g2: 3, c1: 4, c2: 3, c3: 3 },
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
      // Your own strategy: half the score for everyone, the other half for green certificates.
      customScoring('green-first', (node, all) => 50 + (50 * node.greenCertificates) / Math.max(1, ...all.map((n) => n.greenCertificates))),
      marketInputs,
    ),
  ];
  expect(results.map((result) => result.strategy)).toEqual(['paper', 'latency', 'green-first']);
  for (const { leader, changed, config, everyNode } of results) {
    expect(Object.keys(market)).toContain(leader);
    expect(changed).toBe(true);
    expect((config as ClusterConfig).outgoing).toBeUndefined();
    expect(satisfiesFaultToleranceGuard(config.incoming.voters, 2)).toBe(true);
    for (const weights of everyNode) expect([...weights]).toEqual([...config.incoming.voters]);
  }
  const weightsOf = (index: number) => Object.fromEntries(results[index]!.config.incoming.voters);
  // paper: the scores do not depend on timing; the guard caps the three best at 46 so that no two weigh half.
  expect(weightsOf(0)).toEqual({ g1: 46, g2: 46, c1: 46, c2: 31, c3: 16 });
  // latency: voters the leader has not measured get the mean score, so none is starved of weight.
  const latency = [...results[1]!.config.incoming.voters.values()];
  expect(Math.min(...latency)).toBeGreaterThanOrEqual(Math.max(...latency) / 2);
  // green-first: g1 holds the most certificates; g2 ties it at the guard's cap.
  expect(weightsOf(2)).toEqual({ g1: 81, g2: 81, c1: 63, c2: 50, c3: 50 });
});

it('is the same snippet in the README and in the package documentation, and imports only what the install line names', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, body]) => ({ lang, body: body! }));
  expect(blocks.map((block) => block.lang)).toEqual(['sh', 'ts']);
  const install = blocks[0]!.body.trim();
  expect(install).toBe('npm install @greenraft/weighted-raft @greenraft/transport-memory');
  const index = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');
  const documented = /@example\n \* ```ts\n([\s\S]*?) \* ```/.exec(index)![1]!.replace(/^ \* ?/gm, '');
  expect(blocks[1]!.body).toBe(documented);
  const imported = [...documented.matchAll(/from '([^']+)'/g)].map(([, name]) => name);
  expect(new Set(imported)).toEqual(new Set(install.split(' ').slice(2)));
});
