import { InvalidArgumentError } from '@greenraft/consensus';
import type { RaftCoreOptions } from '../core/api.js';
import { ENGINE_BUG_OPTION, ENGINE_BUGS, type EngineBug, UNSAFE_LOCAL_WEIGHTS_OPTION, type UnsafeLocalWeights } from '../core/engine-bugs.js';

/**
 * Core options that build a `RaftCore` with a known bug, to spread into its options; none for
 * `undefined`. Only checker tests and `greenraft sim --inject-bug` use it.
 *
 * @throws InvalidArgumentError for a name that is not in {@link ENGINE_BUGS}
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { RaftCore } from '@greenraft/raft';
 * import { engineBugOptions } from '@greenraft/raft/testing';
 *
 * const buggy = new RaftCore({ id: 'a', bootstrap: configuration(['a', 'b', 'c']), ...engineBugOptions('vote-twice') });
 * ```
 */
export function engineBugOptions(bug: EngineBug | undefined): Partial<RaftCoreOptions> {
  if (bug === undefined) return {};
  if (!ENGINE_BUGS.includes(bug)) throw new InvalidArgumentError(`unknown engine bug '${String(bug)}'; known: ${ENGINE_BUGS.join(', ')}`);
  return { [ENGINE_BUG_OPTION]: bug } as Partial<RaftCoreOptions>;
}

/**
 * Core options that make a `RaftCore` count its quorums with `weights()`, local and unreplicated,
 * instead of its configuration's: the UNSAFE scheme docs/weighted-safety.md refutes. Only the tests
 * and scenarios that demonstrate the refutation use it.
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { RaftCore } from '@greenraft/raft';
 * import { unsafeLocalWeightsOptions } from '@greenraft/raft/testing';
 *
 * const local = new Map([['a', 3], ['b', 1], ['c', 1]]);
 * const naive = new RaftCore({ id: 'a', bootstrap: configuration(['a', 'b', 'c']), ...unsafeLocalWeightsOptions(() => local) });
 * ```
 */
export function unsafeLocalWeightsOptions(weights: UnsafeLocalWeights): Partial<RaftCoreOptions> {
  if (typeof weights !== 'function') throw new InvalidArgumentError('unsafeLocalWeightsOptions takes a function returning a weight map or undefined');
  return { [UNSAFE_LOCAL_WEIGHTS_OPTION]: weights } as Partial<RaftCoreOptions>;
}
