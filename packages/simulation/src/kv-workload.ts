import { type LogEntry, type NodeId, NotLeaderError, ProposalDroppedError } from '@greenraft/consensus';
import type { RaftCore, ReadState } from '@greenraft/raft';
import {
  type CheckVerdict,
  type HistoryRecorder,
  type KvInput,
  type KvOutput,
  type Operation,
  checkOperations,
  historyRecorder,
  kvModel,
} from '@greenraft/linearizability';
import { type KvCommand, KvStore, decodeKvCommand, decodeStateSnapshot, encodeKvCommand, encodeStateSnapshot } from './kv-store.js';
import type { Rng } from './random.js';

/** The part of a simulated node the KV workload reads and marks. */
export interface KvNode {
  readonly id: NodeId;
  readonly position: number;
  readonly core: RaftCore | undefined;
  readonly state: 'up' | 'down' | 'paused';
  readonly incarnation: number;
  /** Everything up to here is reflected in the node's store. */
  readonly appliedIndex: number;
  /** Set when the node has new work for its Ready loop. */
  dirty: boolean;
}

/** Options of a {@link KvWorkload}. */
export interface KvWorkloadInit {
  /** Concurrent clients, each with at most one operation outstanding. */
  readonly clients: number;
  /** Cluster positions, each with its own copy of the store (spares included). */
  readonly nodes: number;
  /** The run's client stream: every choice of the workload is drawn from it. */
  readonly random: Rng;
  /** Steps after which a client gives up waiting: a write becomes indefinite, a read is abandoned. */
  readonly timeoutSteps: number;
  /** Operations recorded per run; later ones go to an unchecked key so the load stays the same. */
  readonly historyLimit: number;
  /** The step the run is at: history times are taken from it. */
  readonly currentStep: () => number;
  /** Called for an engine call that threw where it must not; it must throw. */
  readonly onEngineError: (detail: string) => never;
}

/** The verdict on one run's client history. */
export interface KvHistoryOutcome {
  readonly verdict: CheckVerdict;
  /** Operations in the history (indefinite ones included, discarded ones not). */
  readonly operations: number;
  /** For an illegal history: the step at which the first failing operation completed, and what it was. */
  readonly step?: number;
  readonly detail?: string;
}

interface PendingWrite {
  readonly kind: 'write';
  /** The recorder's id, or -1 for an operation past the history limit. */
  readonly op: number;
  readonly key: string;
  readonly value: string;
  readonly node: KvNode;
  readonly incarnation: number;
  readonly index: number;
  readonly term: number;
  readonly since: number;
}

interface PendingRead {
  readonly kind: 'read';
  readonly op: number;
  readonly key: string;
  readonly context: string;
  readonly node: KvNode;
  readonly incarnation: number;
  readonly since: number;
  /** Set once the node got the ReadState: the read is served when the node has applied this far. */
  readIndex: number | undefined;
}

interface KvClient {
  readonly id: number;
  target: KvNode | undefined;
  pending: PendingWrite | PendingRead | undefined;
  /** The last value this client saw per key: what its compare-and-sets expect. */
  readonly seen: Map<string, string>;
}

/** Keys in use at once; a fresh set every {@link OPS_PER_KEY_SET} recorded operations keeps each key's history short. */
const KEYS_AT_ONCE = 3;
const OPS_PER_KEY_SET = 90;
/** The key of operations past the history limit: the same load, never checked. */
const UNCHECKED_KEY = 'load';
/** History times are `step · 2^20 + sequence`: real-time order, and the step read back from any time. */
const TIME_PER_STEP = 1 << 20;
/** Chance that an idle client issues an operation in a step. */
const ISSUE_CHANCE = 0.45;
/** Share of reads among operations; puts take most of the rest, compare-and-sets the last fifth. */
const READ_SHARE = 0.45;

/**
 * The KV workload of a simulated run: each node's copy of the replicated key-value store, and
 * concurrent clients that put, compare-and-set and get over a few keys, retrying through leader
 * changes, while their history is recorded for the linearizability checker.
 *
 * - A write is proposed to the node the client believes leads and completes when that node applies
 *   the same (index, term); a refusal that provably appended nothing (`NotLeaderError`,
 *   `ProposalDroppedError`) is discarded; a timeout, a crash of the node or a snapshot that jumps
 *   over the index leave it indefinite, and a different entry applied at its index discards it.
 * - A read goes through ReadIndex on the leader or a follower and is served from that node's store
 *   once it has applied the read index. A read the engine reports it will never serve
 *   (`Ready.droppedReads`) fails at once, and one that never comes back is abandoned at the
 *   timeout; either way it is left out of the history: a failed read changed nothing and observed
 *   nothing, so it constrains no other operation.
 */
export class KvWorkload {
  /** Client writes the engine accepted. */
  proposals = 0;
  /** Writes seen applied at the index and term they were accepted at. */
  acknowledged = 0;
  /** Reads served. */
  reads = 0;
  /** Reads that failed at once because the engine reported it would never serve them. */
  failedReads = 0;
  private readonly stores: KvStore[];
  private readonly clients: KvClient[] = [];
  private readonly recorder: HistoryRecorder<KvInput, KvOutput> = historyRecorder();
  private recorded = 0;
  private timeStep = -1;
  private sequence = 0;
  private valueCounter = 0;
  private contextCounter = 0;

  constructor(private readonly init: KvWorkloadInit) {
    this.stores = Array.from({ length: init.nodes }, () => new KvStore());
    for (let id = 0; id < init.clients; id++) this.clients.push({ id, target: undefined, pending: undefined, seen: new Map() });
  }

  /** The store of the node at `position`. */
  store(position: number): KvStore {
    return this.stores[position]!;
  }

  // ---------------------------------------------------------------- the node side

  /** `node` applied `entry`: update its store and complete the write a client was waiting for there. */
  applied(node: KvNode, entry: LogEntry): void {
    const command = entry.type === 'normal' ? decodeKvCommand(entry.data) : undefined;
    const output = command === undefined ? undefined : this.stores[node.position]!.apply(command);
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending?.kind !== 'write' || pending.node !== node || pending.index !== entry.index || pending.incarnation !== node.incarnation) continue;
      client.pending = undefined;
      if (pending.term !== entry.term || output === undefined) {
        // Another entry holds the index the write was accepted at: the write can never commit.
        if (pending.op >= 0) this.recorder.discard(pending.op);
        continue;
      }
      this.acknowledged++;
      if (output.kind === 'put' || output.swapped) client.seen.set(pending.key, pending.value);
      if (pending.op >= 0) this.recorder.complete(pending.op, output, this.time());
    }
  }

  /**
   * `node` restored a snapshot (or restarted from one) of everything up to `index`: its store is
   * the snapshot's. Writes waiting there at or below `index` can no longer be told apart from the
   * snapshot, so they are left indefinite. Returns false when `data` is not this state machine's.
   */
  restored(node: KvNode, index: number, data: Uint8Array | undefined): boolean {
    const decoded = data === undefined ? { store: new KvStore() } : decodeStateSnapshot(data);
    if (decoded === undefined) return false;
    this.stores[node.position] = decoded.store;
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending?.kind === 'write' && pending.node === node && pending.index <= index) client.pending = undefined;
    }
    return true;
  }

  /** Snapshot data of `node`'s state machine: its chain digest and its store. */
  snapshotData(node: KvNode, chain: number): Uint8Array {
    return encodeStateSnapshot(chain, this.stores[node.position]!);
  }

  /** `node` produced ReadStates: note each read's index, then serve what its applied index allows. */
  readStates(node: KvNode, states: readonly ReadState[]): void {
    for (const state of states) {
      for (const client of this.clients) {
        const pending = client.pending;
        if (pending?.kind === 'read' && pending.node === node && pending.context === state.context && pending.incarnation === node.incarnation) {
          pending.readIndex = state.index;
        }
      }
    }
  }

  /**
   * `node`'s engine reported reads it will never serve (`Ready.droppedReads`): each fails now, and
   * its client is free for its next operation instead of waiting for the timeout. A failed read is
   * no observation: it is left out of the history, never completed with what the store holds.
   */
  droppedReads(node: KvNode, contexts: readonly string[]): void {
    for (const context of contexts) {
      for (const client of this.clients) {
        const pending = client.pending;
        if (pending?.kind !== 'read' || pending.node !== node || pending.context !== context || pending.incarnation !== node.incarnation) continue;
        this.failedReads++;
        this.abandon(client);
      }
    }
  }

  /** Serves the reads waiting on `node` whose read index it has applied, from its store. */
  serveReads(node: KvNode): void {
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending?.kind !== 'read' || pending.node !== node || pending.readIndex === undefined || node.appliedIndex < pending.readIndex) continue;
      if (pending.incarnation !== node.incarnation) continue;
      client.pending = undefined;
      const value = this.stores[node.position]!.get(pending.key);
      client.seen.set(pending.key, value);
      this.reads++;
      if (pending.op >= 0) this.recorder.complete(pending.op, { kind: 'get', value }, this.time());
    }
  }

  /** `node` crashed: its clients hear nothing more; writes stay indefinite, reads are left out of the history. */
  nodeDown(node: KvNode): void {
    for (const client of this.clients) if (client.pending?.node === node) this.abandon(client);
  }

  // ---------------------------------------------------------------- the clients

  /**
   * One step of the clients: give up on operations past the timeout, and let idle clients issue a
   * new operation to their target among `targets` (the members of the latest configuration).
   */
  runClients(step: number, targets: readonly KvNode[], byId: (id: NodeId) => KvNode | undefined): void {
    const random = this.init.random;
    for (const client of this.clients) {
      if (client.pending !== undefined) {
        if (step - client.pending.since <= this.init.timeoutSteps) continue;
        this.abandon(client);
      }
      if (!random.chance(ISSUE_CHANCE) || targets.length === 0) continue;
      const roll = random();
      const reading = roll < READ_SHARE;
      // Any member serves a read through ReadIndex, so reads are spread over them; writes go to the believed leader.
      const node = reading ? random.pick(targets) : client.target;
      if (node === undefined || node.state !== 'up' || !targets.includes(node)) {
        if (!reading) client.target = random.pick(targets);
        continue;
      }
      const core = node.core!;
      const recording = this.recorded < this.init.historyLimit;
      const key = recording ? `k${Math.floor(this.recorded / OPS_PER_KEY_SET)}.${random.int(0, KEYS_AT_ONCE - 1)}` : UNCHECKED_KEY;
      let input: KvInput;
      if (reading) input = { kind: 'get', key };
      else if (roll < 0.8) input = { kind: 'put', key, value: this.freshValue(client) };
      else {
        // Mostly expect what this client last saw, so that a fair share of compare-and-sets succeed.
        const expected = random.chance(0.75) ? (client.seen.get(key) ?? '') : '';
        input = { kind: 'cas', key, expected, value: this.freshValue(client) };
      }
      const op = recording ? this.recorder.invoke(client.id, input, this.time()) : -1;
      if (recording) this.recorded++;
      try {
        if (input.kind === 'get') {
          const context = `r${++this.contextCounter}`;
          core.readIndex(context);
          client.pending = { kind: 'read', op, key, context, node, incarnation: node.incarnation, since: step, readIndex: undefined };
        } else {
          const command: KvCommand = input;
          const proposed = core.propose(encodeKvCommand(command));
          client.pending = { kind: 'write', op, key, value: input.value, node, incarnation: node.incarnation, index: proposed.index, term: proposed.term, since: step };
          this.proposals++;
        }
        node.dirty = true;
      } catch (error) {
        // Refused before anything was appended or sent: the operation certainly did not take effect.
        if (op >= 0) this.recorder.discard(op);
        if (reading && error instanceof NotLeaderError) {
          // The member knows no leader right now: the read simply failed.
        } else if (error instanceof NotLeaderError) {
          const leader = error.leader === undefined ? undefined : byId(error.leader);
          client.target = leader !== undefined && leader !== node ? leader : random.pick(targets);
        } else if (error instanceof ProposalDroppedError) {
          client.target = random.pick(targets);
        } else {
          this.init.onEngineError(`${input.kind} on ${node.id} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
        }
      }
    }
  }

  /** The recorded history so far: writes never answered are indefinite, refused operations left out. */
  history(): Operation<KvInput, KvOutput>[] {
    return this.recorder.history();
  }

  /** Checks the recorded history against the KV model; `timeoutMs` bounds the search (then `'unknown'`). */
  check(timeoutMs: number): KvHistoryOutcome {
    const history = this.recorder.history();
    if (history.length === 0) return { verdict: 'ok', operations: 0 };
    const result = checkOperations(kvModel(), history, { timeoutMs });
    if (result.result !== 'illegal') return { verdict: result.result, operations: history.length };
    const failing = result.failingOperation;
    const at = failing?.return ?? failing?.call;
    return {
      verdict: 'illegal',
      operations: history.length,
      ...(at === undefined ? {} : { step: Math.floor(at / TIME_PER_STEP) }),
      detail: `the client history of key ${result.failingKey ?? '?'} is not linearizable${
        failing === undefined ? '' : `: client ${failing.clientId} got ${result.failingDescription ?? 'an impossible result'}`
      }${result.smallestFailingPrefix === undefined ? '' : ` (the first ${result.smallestFailingPrefix} events already fail)`}`,
    };
  }

  // ---------------------------------------------------------------- helpers

  /** The client stops waiting: a write's outcome stays unknown (indefinite); a read is left out of the history. */
  private abandon(client: KvClient): void {
    const pending = client.pending;
    client.pending = undefined;
    if (pending?.kind === 'read' && pending.op >= 0) this.recorder.discard(pending.op);
  }

  /** A run-unique value, so a read names the write it saw. */
  private freshValue(client: KvClient): string {
    return `${client.id}:${++this.valueCounter}`;
  }

  /** A history time within the current step, later than every earlier one. */
  private time(): number {
    const step = this.init.currentStep();
    if (step !== this.timeStep) {
      this.timeStep = step;
      this.sequence = 0;
    }
    return step * TIME_PER_STEP + Math.min(++this.sequence, TIME_PER_STEP - 1);
  }
}
