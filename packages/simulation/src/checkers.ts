import type { Index, LogEntry, NodeId, Term } from '@greenraft/consensus';
import { entryDigest } from './digest.js';

/**
 * The properties the simulator checks after every step: Raft's five safety properties (Raft paper
 * Figure 3), durability of committed entries, liveness once the nemesis has healed, and the
 * engine throwing where it must not; every node counting quorums in the latest configuration of
 * its own log; and, at the end of a run, linearizability of the clients' key-value history.
 */
export type SafetyProperty =
  | 'election-safety'
  | 'leader-append-only'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'committed-durability'
  | 'persistent-state'
  | 'configuration'
  | 'linearizability'
  | 'liveness'
  | 'engine-error';

/** Every {@link SafetyProperty}, in the order of the Raft paper's Figure 3 and then the simulator's own. */
export const SAFETY_PROPERTIES: readonly SafetyProperty[] = [
  'election-safety',
  'leader-append-only',
  'log-matching',
  'leader-completeness',
  'state-machine-safety',
  'committed-durability',
  'persistent-state',
  'configuration',
  'linearizability',
  'liveness',
  'engine-error',
];

/** A property that failed, at which step, and what was seen. */
export interface PropertyViolation {
  readonly property: SafetyProperty;
  readonly step: number;
  readonly detail: string;
}

/** The part of a node's log the checkers read. `RaftCore` satisfies it. */
export interface LogView {
  /** First index still held in memory (entries before it are covered by a snapshot). */
  readonly firstIndex: Index;
  readonly lastIndex: Index;
  /** The term of the entry at `index`, or `undefined` when it is not held. */
  termAt(index: Index): Term | undefined;
  /** The entry at `index`, or `undefined` when it is not held. */
  entry(index: Index): LogEntry | undefined;
}

interface LeaderWatch {
  readonly term: Term;
  /** Where the log ended when the node was first seen leading in `term`, and the entry there. */
  readonly anchorIndex: Index;
  readonly anchorDigest: number | undefined;
  lastIndex: Index;
  lastDigest: number | undefined;
  readonly log: LogView;
}

// (index, term) as one number; terms stay far below 2^22 in any simulation.
const TERM_SPACE = 4_194_304;

/**
 * Checks Raft's safety properties incrementally from what the simulator observes. Every method
 * returns the first violation it finds, or `undefined`; each costs O(1) amortised per entry,
 * except a new leader's completeness check, which is linear in the committed log.
 *
 * @example
 * ```ts
 * const checker = safetyChecker();
 * checker.leaderElected(10, 'n1', 2, log1); // undefined
 * checker.leaderElected(12, 'n2', 2, log2); // { property: 'election-safety', step: 12, ... }
 * ```
 */
export interface SafetyChecker {
  /** Distinct (term, leader) pairs seen so far. */
  readonly elections: number;
  /** The highest term any leader was seen in. */
  readonly maxTerm: Term;
  /** The highest index known committed on any node. */
  readonly maxCommitted: Index;
  /** Election Safety and Leader Completeness: `id` is leader of `term` with `log`. Call on every step a node leads; repeats are cheap. */
  leaderElected(step: number, id: NodeId, term: Term, log: LogView): PropertyViolation | undefined;
  /** Leader Append-Only, on every step `id` still leads `term`. */
  leaderStep(step: number, id: NodeId, term: Term, log: LogView): PropertyViolation | undefined;
  /** `id` no longer leads (stepped down, crashed or paused view lost). */
  leaderLost(id: NodeId): void;
  /**
   * Leader Append-Only on durable writes: `id`, leader of `term` since before its previous write,
   * persists entries from `firstIndex` while its log ended at `previousLastIndex`.
   */
  leaderPersisted(step: number, id: NodeId, term: Term, firstIndex: Index, previousLastIndex: Index): PropertyViolation | undefined;
  /** Log Matching: `id` persisted the entry (`index`, `term`) whose log prefix has chain digest `chain`. */
  entryPersisted(step: number, id: NodeId, index: Index, term: Term, chain: number): PropertyViolation | undefined;
  /**
   * A durable write replaced the entry at `index` (of `oldTerm`) by one of `newTerm`, or removed it
   * (`newTerm` undefined), while the node's durable commit index was `durableCommit`.
   */
  durableOverwrite(step: number, id: NodeId, index: Index, oldTerm: Term, newTerm: Term | undefined, durableCommit: Index): PropertyViolation | undefined;
  /** `id`, in `observerTerm`, now has commit index `commitIndex` over `log`. */
  commitAdvanced(step: number, id: NodeId, observerTerm: Term, commitIndex: Index, log: LogView): PropertyViolation | undefined;
  /**
   * Persistent state (Raft Figure 2: currentTerm and votedFor survive restarts): `id` restarted
   * from a durable hard state of `durableTerm`/`durableVote` and came back in `term` with `vote`.
   */
  stateRestored(step: number, id: NodeId, durableTerm: Term, durableVote: NodeId | undefined, term: Term, vote: NodeId | undefined): PropertyViolation | undefined;
  /** `id` restarted knowing commit index `commitIndex` and applied index `appliedIndex`: what it reloads is not news. */
  nodeRestarted(id: NodeId, commitIndex: Index, appliedIndex: Index): void;
  /** State Machine Safety: `id` applied the entry at `index` whose log prefix has chain digest `chain`, with commit index `commitIndex`. */
  entryApplied(step: number, id: NodeId, index: Index, chain: number, commitIndex: Index): PropertyViolation | undefined;
  /** State Machine Safety: `id` restored a snapshot of everything up to `index`, with chain digest `chain`. */
  snapshotRestored(step: number, id: NodeId, index: Index, chain: number): PropertyViolation | undefined;
}

/** Creates an empty {@link SafetyChecker} for one run. */
export function safetyChecker(): SafetyChecker {
  return new IncrementalChecker();
}

function digestAt(log: LogView, index: Index): number | undefined {
  if (index < log.firstIndex || index < 1) return undefined;
  const entry = log.entry(index);
  return entry === undefined ? undefined : entryDigest(entry);
}

/** True when `log` still holds the entry at `index` but it no longer has digest `digest` (`undefined`: nothing to compare). */
function replaced(log: LogView, index: Index, digest: number | undefined): boolean {
  return digest !== undefined && index >= log.firstIndex && digestAt(log, index) !== digest;
}

class IncrementalChecker implements SafetyChecker {
  elections = 0;
  maxTerm = 0;
  maxCommitted = 0;
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  private readonly leaders = new Map<NodeId, LeaderWatch>();
  /** Term of the committed entry at each index, and the lowest term in which its commit was seen. */
  private readonly committedTerm: (Term | undefined)[] = [];
  private readonly commitSeenInTerm: (Term | undefined)[] = [];
  private readonly commitSeen = new Map<NodeId, Index>();
  private readonly prefixAt = new Map<number, { chain: number; id: NodeId }>();
  private readonly appliedChain: (number | undefined)[] = [];
  private readonly appliedBy: (NodeId | undefined)[] = [];
  private readonly appliedIndex = new Map<NodeId, Index>();

  leaderElected(step: number, id: NodeId, term: Term, log: LogView): PropertyViolation | undefined {
    const known = this.leaderOfTerm.get(term);
    if (known !== undefined && known !== id) {
      return { property: 'election-safety', step, detail: `${id} and ${known} were both leader in term ${term}` };
    }
    if (known === id && this.leaders.get(id)?.term === term) return undefined;
    if (known === undefined) {
      this.leaderOfTerm.set(term, id);
      this.elections++;
      if (term > this.maxTerm) this.maxTerm = term;
    }
    const lastIndex = log.lastIndex;
    const lastDigest = digestAt(log, lastIndex);
    this.leaders.set(id, { term, log, anchorIndex: lastIndex, anchorDigest: lastDigest, lastIndex, lastDigest });
    // Leader Completeness: every entry committed in an earlier term is in the new leader's log.
    for (let index = Math.max(1, log.firstIndex); index <= this.maxCommitted; index++) {
      const violation = this.checkHolds(step, id, term, log, index);
      if (violation) return violation;
    }
    return undefined;
  }

  private checkHolds(step: number, id: NodeId, term: Term, log: LogView, index: Index): PropertyViolation | undefined {
    const committed = this.committedTerm[index];
    const seenIn = this.commitSeenInTerm[index];
    if (committed === undefined || seenIn === undefined || seenIn >= term || index < log.firstIndex) return undefined;
    const held = index <= log.lastIndex ? log.termAt(index) : undefined;
    if (held === committed) return undefined;
    return {
      property: 'leader-completeness',
      step,
      detail: `${id}, leader of term ${term}, holds ${held === undefined ? 'no entry' : `an entry of term ${held}`} at index ${index}, committed in term ${seenIn} with term ${committed}`,
    };
  }

  leaderStep(step: number, id: NodeId, term: Term, log: LogView): PropertyViolation | undefined {
    const watch = this.leaders.get(id);
    if (watch === undefined || watch.term !== term) return this.leaderElected(step, id, term, log);
    // Called for every leader on every step: no allocation unless something failed.
    const lastIndex = log.lastIndex;
    let what: string | undefined;
    if (lastIndex < watch.lastIndex) what = `shrank its log from ${watch.lastIndex} to ${lastIndex}`;
    else if (replaced(log, watch.anchorIndex, watch.anchorDigest)) what = `replaced its entry at index ${watch.anchorIndex}`;
    else if (replaced(log, watch.lastIndex, watch.lastDigest)) what = `replaced its entry at index ${watch.lastIndex}`;
    if (what !== undefined) return { property: 'leader-append-only', step, detail: `${id}, leader of term ${term}, ${what}` };
    if (lastIndex !== watch.lastIndex) {
      watch.lastIndex = lastIndex;
      watch.lastDigest = digestAt(log, lastIndex);
    }
    return undefined;
  }

  leaderLost(id: NodeId): void {
    this.leaders.delete(id);
  }

  leaderPersisted(step: number, id: NodeId, term: Term, firstIndex: Index, previousLastIndex: Index): PropertyViolation | undefined {
    if (firstIndex > previousLastIndex) return undefined;
    return {
      property: 'leader-append-only',
      step,
      detail: `${id}, leader of term ${term}, overwrote its durable log from index ${firstIndex} (it ended at ${previousLastIndex})`,
    };
  }

  entryPersisted(step: number, id: NodeId, index: Index, term: Term, chain: number): PropertyViolation | undefined {
    const key = index * TERM_SPACE + term;
    const known = this.prefixAt.get(key);
    if (known === undefined) {
      this.prefixAt.set(key, { chain, id });
      return undefined;
    }
    if (known.chain === chain) return undefined;
    return {
      property: 'log-matching',
      step,
      detail: `${id} and ${known.id} both hold an entry of term ${term} at index ${index}, but their logs differ up to it`,
    };
  }

  durableOverwrite(step: number, id: NodeId, index: Index, oldTerm: Term, newTerm: Term | undefined, durableCommit: Index): PropertyViolation | undefined {
    if (index > durableCommit || oldTerm === newTerm) return undefined;
    const what = newTerm === undefined ? `removed its durable entry at index ${index} (term ${oldTerm})` : `overwrote its durable entry at index ${index} (term ${oldTerm} → ${newTerm})`;
    return { property: 'committed-durability', step, detail: `${id} ${what} at or below its durable commit index ${durableCommit}` };
  }

  commitAdvanced(step: number, id: NodeId, observerTerm: Term, commitIndex: Index, log: LogView): PropertyViolation | undefined {
    const seen = this.commitSeen.get(id) ?? 0;
    if (commitIndex <= seen) return undefined;
    this.commitSeen.set(id, commitIndex);
    for (let index = Math.max(seen + 1, log.firstIndex); index <= commitIndex; index++) {
      const term = log.termAt(index);
      if (term === undefined) continue;
      const committed = this.committedTerm[index];
      if (committed === undefined) {
        this.committedTerm[index] = term;
        this.commitSeenInTerm[index] = observerTerm;
        if (index > this.maxCommitted) this.maxCommitted = index;
        // An entry committed before a later-term leader was seen must already be in its log.
        for (const [leader, watch] of this.leaders) {
          const violation = this.checkHolds(step, leader, watch.term, watch.log, index);
          if (violation) return violation;
        }
      } else if (committed !== term) {
        return {
          property: 'state-machine-safety',
          step,
          detail: `${id} committed an entry of term ${term} at index ${index}, where an entry of term ${committed} was committed before`,
        };
      } else if (observerTerm < this.commitSeenInTerm[index]!) {
        this.commitSeenInTerm[index] = observerTerm;
      }
    }
    return undefined;
  }

  stateRestored(step: number, id: NodeId, durableTerm: Term, durableVote: NodeId | undefined, term: Term, vote: NodeId | undefined): PropertyViolation | undefined {
    if (term > durableTerm || (term === durableTerm && vote === durableVote)) return undefined;
    return {
      property: 'persistent-state',
      step,
      detail: `${id} restarted in term ${term} with vote ${vote ?? 'none'}, but its durable state holds term ${durableTerm} with vote ${durableVote ?? 'none'}`,
    };
  }

  nodeRestarted(id: NodeId, commitIndex: Index, appliedIndex: Index): void {
    this.commitSeen.set(id, commitIndex);
    this.appliedIndex.set(id, appliedIndex);
    this.leaders.delete(id);
  }

  entryApplied(step: number, id: NodeId, index: Index, chain: number, commitIndex: Index): PropertyViolation | undefined {
    const fail = (detail: string): PropertyViolation => ({ property: 'state-machine-safety', step, detail });
    const expected = (this.appliedIndex.get(id) ?? 0) + 1;
    if (index !== expected) return fail(`${id} applied index ${index} when its next index to apply was ${expected}`);
    if (index > commitIndex) return fail(`${id} applied index ${index} beyond its commit index ${commitIndex}`);
    this.appliedIndex.set(id, index);
    return this.compareApplied(step, id, index, chain, 'applied');
  }

  snapshotRestored(step: number, id: NodeId, index: Index, chain: number): PropertyViolation | undefined {
    this.appliedIndex.set(id, index);
    if (index === 0) return undefined;
    return this.compareApplied(step, id, index, chain, 'restored a snapshot of');
  }

  private compareApplied(step: number, id: NodeId, index: Index, chain: number, what: string): PropertyViolation | undefined {
    const first = this.appliedChain[index];
    if (first === undefined) {
      this.appliedChain[index] = chain;
      this.appliedBy[index] = id;
      return undefined;
    }
    if (first === chain) return undefined;
    return {
      property: 'state-machine-safety',
      step,
      detail: `${id} ${what} a different state machine history up to index ${index} than ${this.appliedBy[index]} applied`,
    };
  }
}
