import {
  type ClusterConfig,
  type Configuration,
  type Index,
  type LogEntry,
  type NodeId,
  type PersistentState,
  type Snapshot,
  configurationsEqual,
} from '@greenraft/consensus';
import type { PropertyViolation } from './checkers.js';

const NO_MEMBERS: ClusterConfig = { incoming: { voters: new Map(), learners: new Set() } };

interface ConfigRecord {
  readonly index: Index;
  readonly config: ClusterConfig;
}

/**
 * The configurations in one node's log, followed from the outside: the snapshot's (or the bootstrap
 * one), then every configuration entry, kept in step with what the node's Readies append, truncate
 * and install. Its latest record is the configuration the node must be using (Raft thesis §4.1:
 * a server always uses the latest configuration in its log, committed or not; greenraft counts
 * weights from the node's own log only).
 */
export class LogConfigurations {
  private records: ConfigRecord[];
  /** The last configuration object found to agree, so an unchanged one is not compared again. */
  private agreed: ClusterConfig | undefined;

  private constructor(base: ConfigRecord) {
    this.records = [base];
  }

  /**
   * What a (re)starting node holds: the snapshot's configuration, or `bootstrap` for a founding
   * node (`undefined` for a node that joins later and starts with no configuration), then the
   * configuration entries of its stored log.
   */
  static fromState(state: PersistentState | undefined, bootstrap: Configuration | undefined): LogConfigurations {
    const snapshot = state?.snapshot;
    const base = snapshot?.metadata.config ?? (bootstrap === undefined ? NO_MEMBERS : { incoming: bootstrap });
    const configs = new LogConfigurations({ index: snapshot?.metadata.index ?? 0, config: base });
    configs.appended(state?.entries ?? []);
    return configs;
  }

  /** The latest configuration in the log. */
  get latest(): ClusterConfig {
    return this.records[this.records.length - 1]!.config;
  }

  /** The node installed `snapshot`: the log before it is gone, its configuration is the snapshot's. */
  installed(snapshot: Snapshot): void {
    this.records = [{ index: snapshot.metadata.index, config: snapshot.metadata.config }];
  }

  /** The node's log now ends with `entries` (which replace whatever was stored from their first index on). */
  appended(entries: readonly LogEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    while (this.records.length > 1 && this.records[this.records.length - 1]!.index >= first.index) this.records.pop();
    for (const entry of entries) if (entry.type === 'config') this.records.push({ index: entry.index, config: entry.config });
  }

  /** A `'configuration'` violation when `inUse` (the node's configuration in effect) is not the latest in its log. */
  check(step: number, id: NodeId, inUse: ClusterConfig): PropertyViolation | undefined {
    if (inUse === this.agreed) return undefined;
    const latest = this.latest;
    if (sameClusterConfig(inUse, latest)) {
      this.agreed = inUse;
      return undefined;
    }
    const index = this.records[this.records.length - 1]!.index;
    return {
      property: 'configuration',
      step,
      detail: `${id} counts quorums in ${describeClusterConfig(inUse)}, but the latest configuration in its log (index ${index}) is ${describeClusterConfig(latest)}`,
    };
  }
}

function sameClusterConfig(a: ClusterConfig, b: ClusterConfig): boolean {
  if (!configurationsEqual(a.incoming, b.incoming)) return false;
  if (a.outgoing === undefined || b.outgoing === undefined) return a.outgoing === b.outgoing;
  return configurationsEqual(a.outgoing, b.outgoing);
}

function describeConfiguration(config: Configuration): string {
  const voters = [...config.voters].map(([id, weight]) => `${id}:${weight}`).join(',');
  const learners = [...config.learners].join(',');
  return `{${voters}${learners ? ` learners ${learners}` : ''}}`;
}

/** A configuration as text for violation reports: `{n1:1,n2:3}`, a joint one as `{new} joint with {old}`. */
export function describeClusterConfig(config: ClusterConfig): string {
  const incoming = describeConfiguration(config.incoming);
  return config.outgoing === undefined ? incoming : `${incoming} joint with ${describeConfiguration(config.outgoing)}`;
}
