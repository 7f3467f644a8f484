import { InvalidArgumentError, type NodeId } from '@greenraft/consensus';
import { rng } from '../random.js';

/**
 * The network of a paper run: every pair of nodes has one fixed one-way latency, the same both
 * ways, drawn once from a lognormal distribution (a measured-looking spread: most links near the
 * median, a long tail of slow ones). Fixed per link, so classic Raft's consensus time stays
 * constant while the leader does not change, as the paper's §5.2.2 observes.
 */
export interface LatencyModelInit {
  /**
   * The median one-way latency, in milliseconds. A classic 30-node consensus completes when the
   * 15th of 29 followers acknowledges, the median one, whose round trip is twice this: 1.25 ms
   * gives the paper's ~2.5 ms per consensus.
   * @default 1.25
   */
  medianMs?: number;
  /**
   * σ of the underlying normal distribution: 0 makes every link the same (a uniform network),
   * 0.5 a typical data-centre spread, 1 a strongly heterogeneous one (the slowest of 30 links
   * about 8× the median).
   * @default 0.5
   */
  spread?: number;
}

/** A {@link LatencyModelInit} with every default filled in. */
export interface LatencyModel {
  readonly medianMs: number;
  readonly spread: number;
}

/** Checks a latency model and fills in its defaults. */
export function resolveLatencyModel(init: LatencyModelInit = {}): LatencyModel {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('latency must be an object');
  const medianMs = init.medianMs ?? 1.25;
  const spread = init.spread ?? 0.5;
  if (typeof medianMs !== 'number' || !(medianMs > 0 && medianMs <= 10_000)) {
    throw new InvalidArgumentError(`latency.medianMs must be a number of milliseconds in (0, 10000], got ${String(medianMs)}`);
  }
  if (typeof spread !== 'number' || !(spread >= 0 && spread <= 3)) {
    throw new InvalidArgumentError(`latency.spread must be a number in [0, 3], got ${String(spread)}`);
  }
  return { medianMs, spread };
}

/** The one-way latency of every link, by `"from→to"`; symmetric. */
export type LinkLatencies = ReadonlyMap<string, number>;

/** The key of the one-way link `from → to` in {@link LinkLatencies}. */
export function linkKey(from: NodeId, to: NodeId): string {
  return `${from}→${to}`;
}

/**
 * Draws the latency of every link among `ids` from `seed`: L = median · e^(σ·z), z standard
 * normal (Box–Muller), one draw per unordered pair in a fixed order, so the same seed and ids give
 * the same network.
 */
export function linkLatencies(ids: readonly NodeId[], seed: number, model: LatencyModel): LinkLatencies {
  const random = rng(seed);
  const latencies = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      // Box–Muller with u1 in (0, 1], so the logarithm is finite.
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const ms = model.medianMs * Math.exp(model.spread * z);
      latencies.set(linkKey(ids[i]!, ids[j]!), ms);
      latencies.set(linkKey(ids[j]!, ids[i]!), ms);
    }
  }
  return latencies;
}
