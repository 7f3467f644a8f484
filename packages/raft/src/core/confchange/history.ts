import type { ClusterConfig, Index, LogEntry } from '@greenraft/consensus';

interface ConfigRecord {
  readonly index: Index;
  readonly config: ClusterConfig;
}

/**
 * The configurations in a node's own log: the one its snapshot (or bootstrap) carries, then every
 * configuration entry after it, in order. A configuration takes effect when its entry is appended
 * (thesis §4.1), so the latest record is the one in effect and a truncated entry rolls back.
 */
export class ConfigHistory {
  private records: ConfigRecord[];

  /** The log starts after `index` under `config`; `entries` follow it. */
  constructor(index: Index, config: ClusterConfig, entries: readonly LogEntry[]) {
    this.records = [{ index, config }];
    this.append(entries);
  }

  /** The configuration at the start of the in-memory log (the snapshot's). */
  get base(): ClusterConfig {
    return this.records[0]!.config;
  }

  /** The latest configuration in the log, committed or not: the one in effect. */
  get latest(): ClusterConfig {
    return this.records[this.records.length - 1]!.config;
  }

  /** The index of the entry (or snapshot) that holds {@link latest}. */
  get latestIndex(): Index {
    return this.records[this.records.length - 1]!.index;
  }

  /** The configuration in effect at `index`: the latest one at or before it. */
  at(index: Index): ClusterConfig {
    let config = this.records[0]!.config;
    for (const record of this.records) if (record.index <= index) config = record.config;
    return config;
  }

  /** Records the configuration entries among `entries`, just appended; true if there was one. */
  append(entries: readonly LogEntry[]): boolean {
    let changed = false;
    for (const entry of entries) {
      if (entry.type === 'config') {
        this.records.push({ index: entry.index, config: entry.config });
        changed = true;
      }
    }
    return changed;
  }

  /** The log was truncated from `index` on: its configuration entries roll back. True if one did. */
  truncate(index: Index): boolean {
    let changed = false;
    while (this.records.length > 1 && this.records[this.records.length - 1]!.index >= index) {
      this.records.pop();
      changed = true;
    }
    return changed;
  }

  /** The log was compacted up to `index`, whose configuration is `config`: older records go. */
  compact(index: Index, config: ClusterConfig): void {
    let keepFrom = 0;
    for (let i = 0; i < this.records.length; i++) if (this.records[i]!.index <= index) keepFrom = i;
    this.records = [{ index, config }, ...this.records.slice(keepFrom + 1)];
  }

  /** The log was replaced by a snapshot at `index` under `config`, followed by `entries`. */
  restore(index: Index, config: ClusterConfig, entries: readonly LogEntry[]): void {
    this.records = [{ index, config }];
    this.append(entries);
  }
}
