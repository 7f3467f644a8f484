/**
 * Known bugs the core can be built with, to prove that the simulator's checkers catch them.
 * Never set outside tests and the `greenraft sim --inject-bug` command.
 */
export type EngineBug =
  | 'commit-without-quorum'
  | 'vote-twice'
  | 'apply-uncommitted'
  | 'forget-term-on-restart'
  | 'read-without-quorum'
  | 'config-applied-on-commit';

/** Every {@link EngineBug}, for CLIs and tests. */
export const ENGINE_BUGS: readonly EngineBug[] = Object.freeze([
  'commit-without-quorum',
  'vote-twice',
  'apply-uncommitted',
  'forget-term-on-restart',
  'read-without-quorum',
  'config-applied-on-commit',
]);

/**
 * The option key a test build of the core reads its bug from. Not part of `RaftCoreOptions`: only
 * `@greenraft/raft/testing` sets it. `Symbol.for`, so every bundle of the package sees one key.
 */
export const ENGINE_BUG_OPTION: unique symbol = Symbol.for('@greenraft/raft/engine-bug');

/**
 * The option key of the UNSAFE local-weights hook, never to be used outside tests: vote weights
 * read from local, unreplicated state. When the hook returns a map, every quorum the core counts
 * (votes, commits, check-quorum, reads) uses those weights for the voters of its configuration
 * instead of the configuration's, and ignores a joint change's outgoing half. It exists only so
 * that tests can show why weights must change through the log (docs/weighted-safety.md): two
 * nodes counting with different local vectors lose committed entries or elect two leaders in one
 * term. Like {@link ENGINE_BUG_OPTION}, not part of `RaftCoreOptions`: only
 * `@greenraft/raft/testing` sets it.
 */
export const UNSAFE_LOCAL_WEIGHTS_OPTION: unique symbol = Symbol.for('@greenraft/raft/unsafe-local-weights');

/** The local weights of the unsafe hook: what a view returns for one node, or undefined to count with the configuration. */
export type UnsafeLocalWeights = () => ReadonlyMap<string, number> | undefined;

/** The unsafe local-weights hook `options` carries, if any. */
export function unsafeLocalWeightsOf(options: object): UnsafeLocalWeights | undefined {
  return (options as { [UNSAFE_LOCAL_WEIGHTS_OPTION]?: UnsafeLocalWeights })[UNSAFE_LOCAL_WEIGHTS_OPTION];
}

/** The bug `options` asks for, if any. */
export function engineBugOf(options: object): EngineBug | undefined {
  return (options as { [ENGINE_BUG_OPTION]?: EngineBug })[ENGINE_BUG_OPTION];
}
