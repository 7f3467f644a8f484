/**
 * The `heterogeneous` suite: 5 and 30 nodes on the memory transport whose links have different
 * injected latencies, and the commit latency of classic Raft against weighted Raft with the
 * paper's scores and with latency scores.
 *
 * Each node sits at an access latency a_i from a common hub, so the one-way latency of the link
 * i → j is a_i + a_j (5 nodes: 0, 3, 6, 9 and 12 ms; 30 nodes: a seeded lognormal with a 4 ms
 * median), placed on the node ids by a seeded shuffle. Where the leader sits decides most of the
 * commit latency, so the rows that do not choose their leader are measured with each sampled node
 * leading in turn and their samples pooled (classic Raft elects whoever times out first: the pooled
 * figure is its expected latency; a latency-scored leader scores itself fastest and keeps leading);
 * the paper-scored row keeps the leader its market weights elect. Latency scoring runs twice: with
 * its defaults, and tuned for commit latency at the cost of crash tolerance.
 */
import { type NodeId, seededRandom } from '@greenraft/consensus';
import { PAPER_RENEWABLE_NODES, PAPER_TABLE_1_ROUND } from '@greenraft/simulation';
import { type LatencyScoringInit, type NodeScoreInput, latencyScoring, measuredScoreInputs, paperScoring } from '@greenraft/weighted-raft';
import { type RaftSuiteInit, errorNote, nodeIds, wanted, writeLoad } from './memory.js';
import { type MemoryCluster, type MemoryClusterInit, asWeighted, startMemoryCluster } from './memory-cluster.js';
import { type BenchResult, machine, ratioTo, result, type SuiteReport } from './report.js';
import { LatencySamples } from './stats.js';

const SIZES = [5, 30] as const;
/** Clients writing at once: enough samples per second, far from saturating the leader. */
const CONCURRENCY = 16;
/** Leaders sampled on 30 nodes (at evenly spaced access-latency ranks); 5 nodes take every node in turn. */
const SAMPLED_LEADERS = 6;
/** Weighted nodes measure acknowledgement latency in ticks: a short tick to tell 3 ms steps apart. */
const WEIGHTED_TICK_MS = 2;
const SEED = 1;
/**
 * The latency-tuned configuration: scores halve from one rank to the next (the default 0.9 keeps
 * the weights so even that every quorum still needs a majority of voters), voters never measured
 * (never in a quorum) score 0 rather than the mean, and the guard keeps only ⌊n/5⌋ crashes
 * survivable, so the leader and its fastest followers can form a quorum on their own.
 */
const TUNED_RANK_RATIO = 0.5;

/** The access latency of every node, in ms, by id. */
export function accessLatencies(nodes: number, seed = SEED): Map<NodeId, number> {
  const random = seededRandom(seed);
  let values: number[];
  if (nodes === 5) values = [0, 3, 6, 9, 12];
  else {
    values = Array.from({ length: nodes }, () => {
      // Box–Muller: a lognormal with a 4 ms median, half-millisecond steps, at most 25 ms.
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.min(25, Math.round(2 * 4 * Math.exp(0.6 * normal)) / 2);
    });
  }
  // Fisher–Yates, so the fastest node is no particular id.
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return new Map(nodeIds(nodes).map((id, i) => [id, values[i]!]));
}

/**
 * The injected round trip behind a classic commit led by `leader`: the leader's entry needs
 * ⌊n/2⌋ followers, so it waits for the ⌊n/2⌋-th fastest follower's round trip.
 */
export function classicQuorumRttMs(access: ReadonlyMap<NodeId, number>, leader: NodeId): number {
  const own = access.get(leader)!;
  const rtts = [...access].filter(([id]) => id !== leader).map(([, a]) => 2 * (own + a)).sort((x, y) => x - y);
  return rtts[Math.floor(access.size / 2) - 1]!;
}

/** The leaders a pooled row takes in turn: every node on small clusters, else evenly spaced access-latency ranks. */
function sampledLeaders(access: ReadonlyMap<NodeId, number>): NodeId[] {
  const byLatency = [...access].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1)).map(([id]) => id);
  if (byLatency.length <= SAMPLED_LEADERS) return byLatency;
  return Array.from({ length: SAMPLED_LEADERS }, (_, k) => byLatency[Math.floor(((k + 0.5) * byLatency.length) / SAMPLED_LEADERS)]!);
}

/**
 * The paper's score inputs for `nodes` nodes from its Table 1 round (§5.1): the nodes in
 * generator–consumer pairs (1, 16, 2, 17, …), renaming them n1, n2, …; credit weight, kind,
 * contracted and actual volume from the table, green certificates for the renewable generators
 * (eq. 6: one per MWh generated), no carbon settlement or participation yet.
 */
export function paperInputs(nodes: number): NodeScoreInput[] {
  const table = PAPER_TABLE_1_ROUND;
  const order = table.contracts.flatMap((contract) => [contract.generator, contract.consumer]).slice(0, nodes);
  return order.map((paperId, i) => {
    const node = table.nodes.find((candidate) => candidate.id === paperId)!;
    const contract = table.contracts.find((candidate) => candidate.generator === paperId || candidate.consumer === paperId)!;
    const generation = node.kind === 'generation';
    return {
      id: `n${i + 1}`,
      kind: node.kind,
      creditWeight: node.creditWeight,
      contracted: contract.contractedKWh,
      actual: generation ? contract.generatedKWh : contract.consumedKWh,
      participation: 0,
      greenCertificates: generation && PAPER_RENEWABLE_NODES.includes(paperId) ? contract.generatedKWh / 1000 : 0,
      carbonSettlement: 0,
    };
  });
}

interface Measured {
  readonly samples: LatencySamples;
  readonly ops: number;
  readonly seconds: number;
  readonly errors: string[];
  readonly leaders: NodeId[];
}

/** Writes through the current leader, pooling the samples into `into`. */
async function measureOnLeader(cluster: MemoryCluster, seconds: number, into: Measured): Promise<void> {
  const leader = await cluster.leader();
  const { loop } = await writeLoad(cluster, leader, CONCURRENCY, seconds);
  into.samples.addAll(loop.latencies);
  (into as { ops: number }).ops += loop.ops;
  (into as { seconds: number }).seconds += loop.seconds;
  into.leaders.push(leader.id);
  const note = errorNote(loop);
  if (note !== undefined) into.errors.push(note);
}

const emptyMeasure = (): Measured => ({ samples: new LatencySamples(), ops: 0, seconds: 0, errors: [], leaders: [] });

async function withCluster<T>(init: MemoryClusterInit, run: (cluster: MemoryCluster) => Promise<T>): Promise<T> {
  const cluster = await startMemoryCluster(init);
  try {
    await cluster.leader();
    return await run(cluster);
  } finally {
    await cluster.stop();
  }
}

/** Runs the `heterogeneous` suite. */
export async function heterogeneousSuite(init: RaftSuiteInit): Promise<SuiteReport> {
  const rows: BenchResult[] = [];
  for (const nodes of SIZES) {
    const access = accessLatencies(nodes);
    const ids = [...access.keys()];
    const latencyMs = (from: NodeId, to: NodeId) => access.get(from)! + access.get(to)!;
    const leaders = sampledLeaders(access);
    const perLeader = Math.max(0.3, init.seconds / 4);
    const limit = median(leaders.map((leader) => classicQuorumRttMs(access, leader)));
    const lowFailures = Math.max(1, Math.floor(nodes / 5));
    const spread = `access latency ${Math.min(...access.values())}–${Math.max(...access.values())} ms`;

    const classicName = `${nodes} nodes classic`;
    const paperName = `${nodes} nodes weighted, paper scoring`;

    let classic: Measured | undefined;
    if (wanted(init, classicName)) {
      init.log(`heterogeneous: ${nodes} nodes, classic, each of ${leaders.length} leaders in turn`);
      classic = await withCluster({ voters: ids, policy: 'classic', latencyMs }, async (cluster) => {
        const measured = emptyMeasure();
        for (const leader of leaders) {
          await cluster.moveLeader(leader);
          await measureOnLeader(cluster, perLeader, measured);
        }
        return measured;
      });
    }

    let paper: Measured | undefined;
    if (wanted(init, paperName)) {
      init.log(`heterogeneous: ${nodes} nodes, weighted, paper scoring`);
      paper = await withCluster(
        { voters: ids, policy: 'weighted', latencyMs, tickMs: WEIGHTED_TICK_MS, weighted: { weights: { inputs: paperInputs(nodes) }, scoring: paperScoring() } },
        async (cluster) => {
          const measured = emptyMeasure();
          await measureOnLeader(cluster, perLeader * leaders.length, measured);
          return measured;
        },
      );
    }

    const latencyRuns: [string, LatencyScoringInit, number | undefined][] = [
      [`latency scoring, defaults (any ${Math.floor((nodes - 1) / 2)} may fail)`, {}, undefined],
      [`latency scoring, rankRatio ${TUNED_RANK_RATIO}, unmeasured 0, tolerateFailures ${lowFailures}`, { rankRatio: TUNED_RANK_RATIO, unmeasuredScore: 0 }, lowFailures],
    ];
    const latency: [string, Measured][] = [];
    for (const [label, scoringInit, tolerateFailures] of latencyRuns) {
      const name = `${nodes} nodes weighted, ${label}`;
      if (!wanted(init, name)) continue;
      init.log(`heterogeneous: ${nodes} nodes, weighted, ${label}, each of ${leaders.length} leaders in turn`);
      const measured = await withCluster(
        {
          voters: ids,
          policy: 'weighted',
          latencyMs,
          tickMs: WEIGHTED_TICK_MS,
          weighted: {
            weights: Object.fromEntries(ids.map((id) => [id, 1])),
            scoring: latencyScoring(scoringInit),
            scoreInputs: measuredScoreInputs,
            ...(tolerateFailures === undefined ? {} : { tolerateFailures }),
          },
        },
        async (cluster) => {
          const pooled = emptyMeasure();
          for (const leader of leaders) {
            const node = await cluster.moveLeader(leader);
            // The leader's own measurements of its followers, then weights from them by joint consensus.
            await writeLoad(cluster, node, CONCURRENCY, 0.3);
            const { config } = await asWeighted(node).applyWeights({ timeoutMs: 10_000 });
            const before = pooled.samples.count;
            await measureOnLeader(cluster, perLeader, pooled);
            init.log(`  led by ${leader}: the heaviest ${smallestQuorum(config.incoming.voters)} of ${nodes} voters form a quorum; ${pooled.samples.count - before} commits measured`);
          }
          return pooled;
        },
      );
      latency.push([name, measured]);
    }

    const classicP50 = classic?.samples.quantile(0.5);
    // The closed loop's ceiling on these links: each client commits at most once per injected round trip.
    const throughputLimit = (CONCURRENCY * 1000) / limit;
    const row = (name: string, policy: 'classic' | 'weighted', measured: Measured, extra: string) => {
      const p50 = measured.samples.quantile(0.5);
      const opsPerSec = measured.ops / Math.max(1e-9, measured.seconds);
      return result({
        name,
        nodes,
        policy,
        concurrency: CONCURRENCY,
        opsPerSec,
        p50Ms: p50,
        p99Ms: measured.samples.quantile(0.99),
        ratio: {
          latency: p50 / limit,
          latencyLimitMs: limit,
          throughput: opsPerSec / throughputLimit,
          throughputLimit,
          p50ToClassic: policy === 'weighted' ? ratioTo(p50, classicP50) : undefined,
        },
        note: [extra, ...new Set(measured.errors)].join('; '),
      });
    };
    if (classic !== undefined) rows.push(row(classicName, 'classic', classic, `${spread}; pooled over leaders ${leaders.join(', ')}`));
    if (paper !== undefined) {
      const paperLeader = paper.leaders[0]!;
      rows.push(row(paperName, 'weighted', paper, `led by ${paperLeader} (access ${access.get(paperLeader)} ms), the heaviest by the market`));
    }
    for (const [name, measured] of latency) rows.push(row(name, 'weighted', measured, `pooled over leaders ${leaders.join(', ')}`));
  }
  return { suite: 'heterogeneous', machine: machine(), results: rows };
}

/** How few voters can form a quorum under `weights`: the heaviest ones, until they weigh more than half. */
export function smallestQuorum(weights: ReadonlyMap<NodeId, number>): number {
  const sorted = [...weights.values()].sort((x, y) => y - x);
  const total = sorted.reduce((sum, weight) => sum + weight, 0);
  let sum = 0;
  for (const [i, weight] of sorted.entries()) {
    sum += weight;
    if (2 * sum > total) return i + 1;
  }
  return sorted.length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
