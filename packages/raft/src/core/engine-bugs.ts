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

/** The bug `options` asks for, if any. */
export function engineBugOf(options: object): EngineBug | undefined {
  return (options as { [ENGINE_BUG_OPTION]?: EngineBug })[ENGINE_BUG_OPTION];
}
