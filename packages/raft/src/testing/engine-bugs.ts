import { InvalidArgumentError } from '@greenraft/consensus';
import type { RaftCoreOptions } from '../core/api.js';
import { ENGINE_BUG_OPTION, ENGINE_BUGS, type EngineBug } from '../core/engine-bugs.js';

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
