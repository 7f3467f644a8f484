import { type Configuration, configuration, type LogEntry, type Message, type NodeId, type Term } from '@greenraft/consensus';
import type { RaftCoreOptions, Ready } from './api.js';
import { RaftCore } from './raft-core.js';

/** Shared helpers of the core's tests (not exported from the package). */

export const ids3 = ['1', '2', '3'];

export function classic(ids: readonly string[] = ids3): Configuration {
  return configuration(ids);
}

/** Entries with the given terms at indexes 1, 2, ... */
export function entriesWithTerms(terms: readonly Term[]): LogEntry[] {
  return terms.map((term, i) => ({ type: 'normal', term, index: i + 1, data: new TextEncoder().encode(`t${term}i${i + 1}`) }));
}

/** A core built from a stored log (terms at indexes 1..n) and term. */
export function coreWithLog(id: NodeId, terms: readonly Term[], term: Term, options: Partial<RaftCoreOptions> = {}): RaftCore {
  return new RaftCore({
    bootstrap: classic(),
    ...options,
    id,
    state: { hardState: { term, vote: undefined, commit: 0 }, snapshot: undefined, entries: entriesWithTerms(terms) },
  });
}

/** Takes the core's Ready, acknowledges it, and returns it. */
export function drain(core: RaftCore): Ready {
  const rd = core.ready();
  core.advance(rd);
  return rd;
}

/** The messages of the core's next Ready (acknowledged). */
export function sent(core: RaftCore): Message[] {
  return drain(core).messages.slice();
}

/** Makes a fresh 3-node core the leader of term 1 by feeding it granted votes (pre-vote off). */
export function electedLeader(id = '1', options: Partial<RaftCoreOptions> = {}, voters: Configuration = classic()): RaftCore {
  const core = new RaftCore({ id, bootstrap: voters, preVote: false, ...options });
  core.campaign();
  for (const voter of voters.voters.keys()) {
    if (voter === id || core.role === 'leader') continue;
    core.step({ type: 'voteResponse', from: voter, to: id, term: core.term, preVote: false, granted: true });
  }
  drain(core);
  return core;
}

export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
