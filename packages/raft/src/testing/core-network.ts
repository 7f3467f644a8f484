import type {
  Configuration,
  HardState,
  Index,
  LogEntry,
  Message,
  NodeId,
  PersistentState,
  Snapshot,
} from '@greenraft/consensus';
import { InvalidArgumentError } from '@greenraft/consensus';
import type { CoreCommitQuorum, RaftCoreOptions, ReadState } from './api.js';
import { RaftCore } from './raft-core.js';

/** Options of {@link coreNetwork}. */
export interface CoreNetworkInit {
  /** The founding configuration; every voter and learner in it gets a core. */
  bootstrap: Configuration;
  /**
   * Options for each core (id, state and bootstrap are filled in). A function gets the node's id.
   * @default {} (the core's own defaults)
   */
  options?: Partial<RaftCoreOptions> | ((id: NodeId) => Partial<RaftCoreOptions>);
}

/** What one node of a {@link CoreNetwork} made durable and applied. */
export interface NodeRecord {
  /** Durable state, as a crash would leave it. */
  readonly storage: { hardState: HardState; snapshot: Snapshot | undefined; entries: LogEntry[] };
  /** The replicated state machine: the text of each applied normal entry, in order (no-ops skipped). */
  applied: string[];
  appliedIndex: Index;
  readonly readStates: ReadState[];
  readonly commitQuorums: CoreCommitQuorum[];
}

/**
 * A synchronous, deterministic network of {@link RaftCore}s for tests (etcd-io/raft's test
 * `network`): it persists each Ready in an in-memory storage model, applies committed entries to a
 * list of strings, and delivers messages in order, subject to partitions and drop filters.
 */
export interface CoreNetwork {
  /** The core of node `id` (throws for an unknown id). */
  core(id: NodeId): RaftCore;
  /** What node `id` persisted and applied. */
  record(id: NodeId): NodeRecord;
  /** Every node id, in creation order. */
  readonly ids: readonly NodeId[];
  /** Every message delivered so far, in order. */
  readonly delivered: Message[];
  /** Runs each node's Ready until no node has work and no message is in flight. Returns the messages delivered. */
  stabilize(): Message[];
  /** Handles the Ready of one node (persist, queue messages, apply, advance). */
  processReady(id: NodeId): void;
  /** Delivers the messages currently queued (not those they cause); returns them. */
  deliverQueued(): Message[];
  /** Ticks `id` `count` times, handling its Ready after each tick. */
  tick(id: NodeId, count?: number): void;
  /** Ticks `id` until its election timer fires (it asks for votes or changes role) or `limit` ticks pass. */
  tickElection(id: NodeId, limit?: number): void;
  /** Blocks delivery between the groups; nodes not listed form one more group. */
  partition(...groups: NodeId[][]): void;
  /** Removes every partition and drop rule. */
  heal(): void;
  /** Drops messages that match `filter`, until {@link heal}. */
  drop(filter: (message: Message) => boolean): void;
  /** Stops a node: it keeps its durable state; messages to it are lost. */
  crash(id: NodeId): void;
  /** Restarts a crashed (or running) node from its durable state, with optional new options. */
  restart(id: NodeId, options?: Partial<RaftCoreOptions>): RaftCore;
  /** Adds a brand-new node that knows no configuration (to be added by a config change). */
  addNode(id: NodeId, options?: Partial<RaftCoreOptions>): RaftCore;
  /** Snapshots node `id`'s applied state at its applied index and compacts its log. */
  compact(id: NodeId): Snapshot;
  /** True if `id` is running. */
  isUp(id: NodeId): boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes text as a proposal payload. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Wires cores into a {@link CoreNetwork}.
 *
 * @example
 * ```ts
 * const net = coreNetwork({ bootstrap: configuration(['1', '2', '3']) });
 * net.core('1').campaign();
 * net.stabilize();
 * net.core('1').propose(utf8('x'));
 * net.stabilize();
 * net.record('3').applied; // ['x']
 * ```
 */
export function coreNetwork(init: CoreNetworkInit): CoreNetwork {
  const cores = new Map<NodeId, RaftCore>();
  const records = new Map<NodeId, NodeRecord>();
  const extra = new Map<NodeId, Partial<RaftCoreOptions>>();
  const down = new Set<NodeId>();
  const ids: NodeId[] = [];
  const delivered: Message[] = [];
  let queue: Message[] = [];
  let groupOf = new Map<NodeId, number>();
  let filters: ((message: Message) => boolean)[] = [];

  const optionsFor = (id: NodeId): Partial<RaftCoreOptions> => {
    const base = typeof init.options === 'function' ? init.options(id) : (init.options ?? {});
    return { ...base, ...(extra.get(id) ?? {}) };
  };

  const emptyRecord = (): NodeRecord => ({
    storage: { hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] },
    applied: [],
    appliedIndex: 0,
    readStates: [],
    commitQuorums: [],
  });

  const create = (id: NodeId, bootstrap: Configuration | undefined): RaftCore => {
    const record = records.get(id)!;
    const { storage } = record;
    const state: PersistentState = { hardState: storage.hardState, snapshot: storage.snapshot, entries: storage.entries.slice() };
    const options = optionsFor(id);
    // Distinct default seeds, so nodes do not draw identical election timeouts in lockstep.
    const seed = options.seed ?? ids.indexOf(id) + 1;
    const core = new RaftCore({ ...options, seed, id, state, ...(bootstrap ? { bootstrap } : {}) });
    // The state machine restarts from the snapshot; the core re-emits committed entries after it.
    record.applied = storage.snapshot ? (JSON.parse(decoder.decode(storage.snapshot.data)) as string[]) : [];
    record.appliedIndex = storage.snapshot?.metadata.index ?? 0;
    cores.set(id, core);
    down.delete(id);
    return core;
  };

  const founders = [...init.bootstrap.voters.keys(), ...init.bootstrap.learners];
  for (const id of founders) {
    ids.push(id);
    records.set(id, emptyRecord());
    create(id, init.bootstrap);
  }

  const core = (id: NodeId): RaftCore => {
    const found = cores.get(id);
    if (found === undefined) throw new InvalidArgumentError(`unknown node ${id}`);
    return found;
  };

  const blocked = (m: Message): boolean => {
    if (down.has(m.to) || down.has(m.from) || !cores.has(m.to)) return true;
    if ((groupOf.get(m.from) ?? -1) !== (groupOf.get(m.to) ?? -1)) return true;
    return filters.some((filter) => filter(m));
  };

  const processReady = (id: NodeId): void => {
    if (down.has(id)) return;
    const node = core(id);
    if (!node.hasReady()) return;
    const rd = node.ready();
    const record = records.get(id)!;
    const { storage } = record;
    if (rd.snapshot) {
      // A batch with a snapshot replaces the whole stored log; its entries follow the snapshot.
      storage.snapshot = rd.snapshot;
      storage.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const base = storage.snapshot?.metadata.index ?? 0;
      storage.entries.length = Math.max(0, Math.min(storage.entries.length, first - base - 1));
      storage.entries.push(...rd.entries);
    }
    if (rd.hardState) storage.hardState = rd.hardState;
    // A partition drops messages when they are sent as well as when they would arrive.
    for (const m of rd.messages) if (!blocked(m)) queue.push(m);
    if (rd.snapshot) {
      record.applied = JSON.parse(decoder.decode(rd.snapshot.data)) as string[];
      record.appliedIndex = rd.snapshot.metadata.index;
    }
    for (const entry of rd.committedEntries) {
      if (entry.type === 'normal' && entry.data.byteLength > 0) record.applied.push(decoder.decode(entry.data));
      record.appliedIndex = entry.index;
    }
    record.readStates.push(...rd.readStates);
    record.commitQuorums.push(...rd.commitQuorums);
    node.advance(rd);
  };

  const deliverQueued = (): Message[] => {
    const batch = queue;
    queue = [];
    const handed: Message[] = [];
    for (const m of batch) {
      if (blocked(m)) continue;
      delivered.push(m);
      handed.push(m);
      core(m.to).step(m);
    }
    return handed;
  };

  const stabilize = (): Message[] => {
    const start = delivered.length;
    for (let round = 0; round < 10_000; round++) {
      for (const id of ids) processReady(id);
      if (queue.length === 0) return delivered.slice(start);
      deliverQueued();
    }
    throw new Error('the network did not stabilize within 10000 rounds');
  };

  const tick = (id: NodeId, count = 1): void => {
    for (let i = 0; i < count; i++) {
      core(id).tick();
      processReady(id);
    }
  };

  return {
    core,
    record: (id) => {
      const record = records.get(id);
      if (record === undefined) throw new InvalidArgumentError(`unknown node ${id}`);
      return record;
    },
    ids,
    delivered,
    stabilize,
    processReady,
    deliverQueued,
    tick,
    tickElection(id, limit = 1000) {
      const node = core(id);
      for (let i = 0; i < limit; i++) {
        const { role, term } = node;
        const queued = queue.length;
        node.tick();
        processReady(id);
        const campaigned = queue.slice(queued).some((m) => m.type === 'voteRequest');
        if (campaigned || node.role !== role || node.term !== term) return;
      }
    },
    partition(...groups) {
      groupOf = new Map();
      groups.forEach((group, index) => {
        for (const id of group) groupOf.set(id, index);
      });
    },
    heal() {
      groupOf = new Map();
      filters = [];
    },
    drop(filter) {
      filters.push(filter);
    },
    crash(id) {
      core(id);
      down.add(id);
      queue = queue.filter((m) => m.to !== id && m.from !== id);
    },
    restart(id, options) {
      core(id);
      if (options) extra.set(id, { ...(extra.get(id) ?? {}), ...options });
      const wasFounder = founders.includes(id);
      return create(id, wasFounder ? init.bootstrap : undefined);
    },
    addNode(id, options) {
      if (cores.has(id)) throw new InvalidArgumentError(`node ${id} exists`);
      ids.push(id);
      records.set(id, emptyRecord());
      if (options) extra.set(id, options);
      return create(id, undefined);
    },
    compact(id) {
      const node = core(id);
      const record = records.get(id)!;
      const metadata = node.snapshotMetadataAt(record.appliedIndex);
      const snapshot: Snapshot = { metadata, data: utf8(JSON.stringify(record.applied)) };
      node.snapshotTaken(snapshot);
      const { storage } = record;
      const base = storage.snapshot?.metadata.index ?? 0;
      storage.entries = storage.entries.slice(Math.max(0, metadata.index - base));
      storage.snapshot = snapshot;
      return snapshot;
    },
    isUp: (id) => cores.has(id) && !down.has(id),
  };
}
