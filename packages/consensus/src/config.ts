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
 *
 * @example
 * ```ts
 * import { ConfigurationError, validateConfiguration } from '@greenraft/consensus';
 *
 * validateConfiguration({ voters: new Map([['a', 2], ['b', 1]]), learners: new Set() }); // fine
 * try {
 *   validateConfiguration({ voters: new Map([['a', 1.5]]), learners: new Set() });
 * } catch (err) {
 *   if (err instanceof ConfigurationError) console.log(err.message); // voter a has weight 1.5; weights must be integers ≥ 0
 * }
 * ```
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

/**
 * The sum of the voters' weights. A set of voters is a quorum iff twice its weight exceeds it.
 *
 * @example
 * ```ts
 * import { configuration, totalWeight } from '@greenraft/consensus';
 *
 * totalWeight(configuration({ a: 3, b: 2, c: 2 })); // 7: voters weighing 4 or more form a quorum
 * totalWeight(configuration(['a', 'b', 'c'])); // 3: classic Raft, any 2 of 3
 * ```
 */
export function totalWeight(config: Configuration): number {
  let total = 0;
  for (const weight of config.voters.values()) total += weight;
  return total;
}

/**
 * True while a joint-consensus change is in progress.
 *
 * @example
 * ```ts
 * import { configuration, isJoint } from '@greenraft/consensus';
 *
 * isJoint({ incoming: configuration(['a', 'b', 'c']) }); // false
 * isJoint({ incoming: configuration({ a: 3, b: 1, c: 1 }), outgoing: configuration(['a', 'b', 'c']) }); // true: C(old,new)
 * ```
 */
export function isJoint(config: ClusterConfig): boolean {
  return config.outgoing !== undefined;
}

/**
 * Every node that receives the log under `config`: voters and learners of both halves.
 *
 * @example
 * ```ts
 * import { configuration, members } from '@greenraft/consensus';
 *
 * members({ incoming: configuration(['a', 'b', 'd']), outgoing: configuration(['a', 'b', 'c'], ['e']) });
 * // Set { 'a', 'b', 'd', 'c', 'e' }
 * ```
 */
export function members(config: ClusterConfig): Set<NodeId> {
  const all = new Set<NodeId>();
  for (const half of config.outgoing ? [config.incoming, config.outgoing] : [config.incoming]) {
    for (const id of half.voters.keys()) all.add(id);
    for (const id of half.learners) all.add(id);
  }
  return all;
}

/**
 * True if `id` votes in either half of `config`.
 *
 * @example
 * ```ts
 * import { configuration, isVoter } from '@greenraft/consensus';
 *
 * const joint = { incoming: configuration(['a', 'b', 'd']), outgoing: configuration(['a', 'b', 'c']) };
 * isVoter(joint, 'c'); // true: c still votes in the outgoing half
 * isVoter({ incoming: configuration(['a', 'b'], ['e']) }, 'e'); // false: e is a learner
 * ```
 */
export function isVoter(config: ClusterConfig, id: NodeId): boolean {
  return config.incoming.voters.has(id) || (config.outgoing?.voters.has(id) ?? false);
}

/**
 * Structural equality of two configurations (same voters with same weights, same learners).
 *
 * @example
 * ```ts
 * import { configuration, configurationsEqual } from '@greenraft/consensus';
 *
 * configurationsEqual(configuration(['a', 'b']), configuration({ b: 1, a: 1 })); // true: order does not matter
 * configurationsEqual(configuration({ a: 2, b: 1 }), configuration({ a: 1, b: 1 })); // false: a's weight differs
 * ```
 */
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

/**
 * Converts a configuration to its JSON-friendly form (ids sorted).
 *
 * @example
 * ```ts
 * import { configuration, configurationToJSON } from '@greenraft/consensus';
 *
 * JSON.stringify(configurationToJSON(configuration({ c: 2, a: 3, b: 2 }, ['d'])));
 * // '{"voters":{"a":3,"b":2,"c":2},"learners":["d"]}'
 * ```
 */
export function configurationToJSON(config: Configuration): ConfigurationJSON {
  const voters: Record<NodeId, number> = {};
  for (const id of [...config.voters.keys()].sort()) voters[id] = config.voters.get(id)!;
  return { voters, learners: [...config.learners].sort() };
}

/**
 * Parses and validates the JSON-friendly form.
 *
 * @throws {@link ConfigurationError} when the parsed configuration is invalid.
 *
 * @example
 * ```ts
 * import { configurationFromJSON, totalWeight } from '@greenraft/consensus';
 *
 * const config = configurationFromJSON(JSON.parse('{"voters":{"a":3,"b":2,"c":2},"learners":["d"]}'));
 * totalWeight(config); // 7
 * config.learners.has('d'); // true
 * ```
 */
export function configurationFromJSON(json: ConfigurationJSON): Configuration {
  return configuration(new Map(Object.entries(json.voters)), json.learners);
}
