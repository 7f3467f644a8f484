import type { Configuration, Index, Message, NodeId, Snapshot } from '@greenraft/consensus';
import { InvalidArgumentError } from '@greenraft/consensus';
import type { CoreCommitQuorum, RaftCoreOptions, ReadState } from '../core/api.js';
import type { EngineBug } from '../core/engine-bugs.js';
import { RaftCore } from '../core/raft-core.js';
import { LogState } from '../storage/log-state.js';
import { engineBugOptions } from './engine-bugs.js';

/** Options of a test core: the core's own, plus a known bug to build it with. */
export interface TestCoreOptions extends RaftCoreOptions {
  /** Build the core with this known bug (to prove a checker catches it). @default undefined (a correct core) */
  bug?: EngineBug;
}

/** Options of {@link coreNetwork}. */
export interface CoreNetworkInit {
  /** The founding configuration; every voter and learner in it gets a core. */
  bootstrap: Configuration;
  /**
   * Options for each core (id, state and bootstrap are filled in). A function gets the node's id.
   * Without a `seed`, node k (in creation order) gets seed k; `seed: undefined` leaves the core's
   * own default (derived from the node's id).
   * @default {} (the core's own defaults, seeds 1, 2, 3, ...)
   */
  options?: Partial<TestCoreOptions> | ((id: NodeId) => Partial<TestCoreOptions>);
}

/** What one node of a {@link CoreNetwork} made durable and applied. */
export interface NodeRecord {
  /** Durable state, as a crash would leave it, kept by the memory storage's rules. */
  readonly storage: LogState;
  /** The replicated state machine: the text of each applied normal entry, in order (no-ops skipped). */
  applied: string[];
  appliedIndex: Index;
  readonly readStates: ReadState[];
  /** Contexts of this node's reads that the core reported will never be served. */
  readonly droppedReads: string[];
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
  restart(id: NodeId, options?: Partial<TestCoreOptions>): RaftCore;
  /** Adds a brand-new node that knows no configuration (to be added by a config change). */
  addNode(id: NodeId, options?: Partial<TestCoreOptions>): RaftCore;
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
  const extra = new Map<NodeId, Partial<TestCoreOptions>>();
  const down = new Set<NodeId>();
  const ids: NodeId[] = [];
  const delivered: Message[] = [];
  let queue: Message[] = [];
  let groupOf = new Map<NodeId, number>();
  let filters: ((message: Message) => boolean)[] = [];

  const optionsFor = (id: NodeId): Partial<TestCoreOptions> => {
    const base = typeof init.options === 'function' ? init.options(id) : (init.options ?? {});
    return { ...base, ...(extra.get(id) ?? {}) };
  };

  const emptyRecord = (): NodeRecord => ({
    storage: new LogState(),
    applied: [],
    appliedIndex: 0,
    readStates: [],
    droppedReads: [],
    commitQuorums: [],
  });

  const create = (id: NodeId, bootstrap: Configuration | undefined): RaftCore => {
    const record = records.get(id)!;
    const { storage } = record;
    const state = storage.toPersistentState();
    const { bug, ...options } = optionsFor(id);
    // Distinct default seeds by position, unless the options say `seed: undefined` (the core's own default).
    const seed = 'seed' in options ? options.seed : ids.indexOf(id) + 1;
    const core = new RaftCore({ ...options, ...engineBugOptions(bug), seed, id, state, ...(bootstrap ? { bootstrap } : {}) });
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
    // One atomic batch, by the memory storage's rules: a bad batch is a test failure, not a silent fix.
    const batch = { hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries };
    record.storage.check(batch);
    record.storage.apply(batch);
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
    record.droppedReads.push(...rd.droppedReads);
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
      record.storage.check({ snapshot });
      record.storage.apply({ snapshot });
      record.storage.compact(metadata.index);
      return snapshot;
    },
    isUp: (id) => cores.has(id) && !down.has(id),
  };
}
