import {
  type ClusterConfig,
  type Configuration,
  ConfigurationError,
  configurationsEqual,
  type Index,
  type NodeId,
  validateConfiguration,
} from '@greenraft/consensus';

/** Who a configuration involves: voters (of both halves while joint) and every member. */
export interface Membership {
  /** Voters of `incoming` then of `outgoing`, each once, in that order. */
  readonly voterIds: readonly NodeId[];
  /** Voters and learners of both halves. */
  readonly memberIds: ReadonlySet<NodeId>;
}

/** The voters and members of `config`. */
export function membership(config: ClusterConfig): Membership {
  const voters = new Set<NodeId>(config.incoming.voters.keys());
  if (config.outgoing) for (const id of config.outgoing.voters.keys()) voters.add(id);
  const members = new Set<NodeId>(voters);
  for (const id of config.incoming.learners) members.add(id);
  if (config.outgoing) for (const id of config.outgoing.learners) members.add(id);
  return { voterIds: [...voters], memberIds: members };
}

/** Where the leader's log stands, as far as a configuration change cares. */
export interface ChangeContext {
  /** The index of the latest configuration entry in the log. */
  readonly latestConfigIndex: Index;
  readonly commitIndex: Index;
  /** Whether the entry at the commit index is of the leader's current term. */
  readonly committedInTerm: boolean;
}

/**
 * Refuses a change to `target` that is invalid or not allowed now (thesis ch. 4: one change at a
 * time, and only once a new leader has committed an entry of its own term).
 * @throws ConfigurationError
 */
export function checkConfigChange(current: ClusterConfig, target: Configuration, context: ChangeContext): void {
  validateConfiguration(target);
  if (current.outgoing !== undefined) throw new ConfigurationError('a joint configuration change is still in progress');
  if (context.latestConfigIndex > context.commitIndex) throw new ConfigurationError('a configuration change is still uncommitted');
  if (!context.committedInTerm) throw new ConfigurationError('the leader has not yet committed an entry of its own term');
  if (configurationsEqual(target, current.incoming)) throw new ConfigurationError('the target configuration equals the current one');
}

/** C(old,new): the joint configuration whose `incoming` half is `target` (a copy) and `outgoing` the current one. */
export function enterJoint(current: ClusterConfig, target: Configuration): ClusterConfig {
  return { incoming: copyConfiguration(target), outgoing: current.incoming };
}

/** C(new): the incoming half of a joint configuration, alone. */
export function leaveJoint(current: ClusterConfig): ClusterConfig {
  return { incoming: current.incoming };
}

/** A configuration's own copy of `config`'s voters and learners. */
export function copyConfiguration(config: Configuration): Configuration {
  return { voters: new Map(config.voters), learners: new Set(config.learners) };
}
