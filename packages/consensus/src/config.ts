import { ConfigurationError } from './errors.js';
import type { ClusterConfig, Configuration, NodeId } from './types.js';

/** Voters given as a map, a plain record, or a list of ids (each with weight 1). */
export type VotersInit = ReadonlyMap<NodeId, number> | Readonly<Record<NodeId, number>> | Iterable<NodeId>;

/**
 * Builds and validates a {@link Configuration}.
 *
 * @example
 * ```ts
 * const classic = configuration(['a', 'b', 'c']);             // every weight 1
 * const weighted = configuration({ a: 3, b: 2, c: 2 }, ['d']); // d is a learner
 * ```
 */
export function configuration(voters: VotersInit, learners: Iterable<NodeId> = []): Configuration {
  let voterMap: Map<NodeId, number>;
  if (voters instanceof Map) voterMap = new Map(voters);
  else if (typeof (voters as Iterable<NodeId>)[Symbol.iterator] === 'function') {
    voterMap = new Map([...(voters as Iterable<NodeId>)].map((id) => [id, 1] as const));
  } else voterMap = new Map(Object.entries(voters as Record<NodeId, number>));
  const config: Configuration = { voters: voterMap, learners: new Set(learners) };
  validateConfiguration(config);
  return config;
}

/**
 * Throws {@link ConfigurationError} unless `config` has at least one voter, integer weights ≥ 0
 * with a positive total, non-empty ids, and learners disjoint from voters.
 */
export function validateConfiguration(config: Configuration): void {
  if (config.voters.size === 0) throw new ConfigurationError('a configuration needs at least one voter');
  let total = 0;
  for (const [id, weight] of config.voters) {
    if (typeof id !== 'string' || id.length === 0) throw new ConfigurationError('node ids must be non-empty strings');
    if (!Number.isSafeInteger(weight) || weight < 0) {
      throw new ConfigurationError(`voter ${id} has weight ${String(weight)}; weights must be integers ≥ 0`);
    }
    total += weight;
  }
  if (!Number.isSafeInteger(total) || total <= 0) throw new ConfigurationError('the voters\u2019 total weight must be positive');
  for (const id of config.learners) {
    if (typeof id !== 'string' || id.length === 0) throw new ConfigurationError('node ids must be non-empty strings');
    if (config.voters.has(id)) throw new ConfigurationError(`node ${id} cannot be both a voter and a learner`);
  }
}

/** The sum of the voters' weights. */
export function totalWeight(config: Configuration): number {
  let total = 0;
  for (const weight of config.voters.values()) total += weight;
  return total;
}

/** True while a joint-consensus change is in progress. */
export function isJoint(config: ClusterConfig): boolean {
  return config.outgoing !== undefined;
}

/** Every node that receives the log under `config`: voters and learners of both halves. */
export function members(config: ClusterConfig): Set<NodeId> {
  const all = new Set<NodeId>();
  for (const half of config.outgoing ? [config.incoming, config.outgoing] : [config.incoming]) {
    for (const id of half.voters.keys()) all.add(id);
    for (const id of half.learners) all.add(id);
  }
  return all;
}

/** True if `id` votes in either half of `config`. */
export function isVoter(config: ClusterConfig, id: NodeId): boolean {
  return config.incoming.voters.has(id) || (config.outgoing?.voters.has(id) ?? false);
}

/** Structural equality of two configurations (same voters with same weights, same learners). */
export function configurationsEqual(a: Configuration, b: Configuration): boolean {
  if (a.voters.size !== b.voters.size || a.learners.size !== b.learners.size) return false;
  for (const [id, weight] of a.voters) if (b.voters.get(id) !== weight) return false;
  for (const id of a.learners) if (!b.learners.has(id)) return false;
  return true;
}

/** A JSON-friendly form of a configuration, for logs, CLIs and wire formats. */
export interface ConfigurationJSON {
  voters: Record<NodeId, number>;
  learners: NodeId[];
}

/** Converts a configuration to its JSON-friendly form (ids sorted). */
export function configurationToJSON(config: Configuration): ConfigurationJSON {
  const voters: Record<NodeId, number> = {};
  for (const id of [...config.voters.keys()].sort()) voters[id] = config.voters.get(id)!;
  return { voters, learners: [...config.learners].sort() };
}

/** Parses and validates the JSON-friendly form. */
export function configurationFromJSON(json: ConfigurationJSON): Configuration {
  return configuration(new Map(Object.entries(json.voters)), json.learners);
}
