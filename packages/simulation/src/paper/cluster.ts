import { type Configuration, InvalidArgumentError, type Message, type NodeId, TimeoutError, type Transport, configuration } from '@greenraft/consensus';
import { RaftCore, type RaftCoreOptions } from '@greenraft/raft';
import { type MemoryNetwork, type VirtualClock, memoryNetwork, virtualClock } from '@greenraft/transport-memory';
import { rankElectionTimeout } from '@greenraft/weighted-raft';
import { deriveSeed } from '../random.js';
import { type LinkLatencies, linkKey } from './latency.js';
import { MarketReplica, type MarketReplicaInit } from './market-replica.js';

/** How a paper cluster elects: classic Raft's randomized timeouts, or eq. 7's rank timeouts. */
export type ClusterPolicy = 'classic' | 'weighted';

/** Options of {@link startCluster}. */
export interface ClusterInit {
  readonly ids: readonly NodeId[];
  /** Seeds every core's election jitter. */
  readonly seed: number;
  /** The one-way latency of every link. */
  readonly latencies: LinkLatencies;
  readonly policy: ClusterPolicy;
  /** The founding configuration. @default every id a voter of weight 1 */
  readonly bootstrap?: Configuration;
  /** Each node's state machine: a power-market replica with this genesis. @default none (entries are only replicated) */
  readonly market?: MarketReplicaInit;
}

/** One acknowledgement of a commit quorum: who, and its round trip from the proposal. */
export interface QuorumAcknowledgement {
  readonly id: NodeId;
  /** Virtual milliseconds from the leader's proposal to the acknowledgement's arrival (0 for the leader's own). */
  readonly latencyMs: number;
}

/** What the leader saw of one committed proposal. */
export interface CommitMeasurement {
  readonly index: number;
  /** Virtual milliseconds from the proposal to its commit at the leader. */
  readonly ms: number;
  /**
   * The acknowledgements that formed the commit quorum, in arrival order, the leader's own first;
   * the last one completed the quorum (the paper's "intermediate node").
   */
  readonly quorum: readonly QuorumAcknowledgement[];
  /**
   * Messages other than heartbeats the entry cost: sent from its proposal until none is in flight
   * any more (appends, acknowledgements, and the commit index the leader then sends out).
   */
  readonly messages: number;
}

/** What a weight change by joint consensus cost. */
export interface WeightChangeMeasurement {
  /** Virtual milliseconds from C(old,new)'s proposal to C(new)'s commit at the leader. */
  readonly ms: number;
  /** Messages other than heartbeats both entries cost, counted as for {@link CommitMeasurement.messages}. */
  readonly messages: number;
}

// One tick is one virtual millisecond: eq. 7's 5 ms rank step is five ticks, so ranks never tie.
const TICK_MS = 1;
// Classic Raft's randomized timeout in [150, 300) ms, the range the Raft paper recommends.
const CLASSIC_ELECTION_TICKS = 150;
// Weighted: eq. 7 gives 105 ms and up; voters grant a pre-vote once 100 ms passed without a leader.
const WEIGHTED_ELECTION_TICKS = 100;
const HEARTBEAT_TICKS = 50;
const HEARTBEATS = new Set<Message['type']>(['heartbeat', 'heartbeatResponse']);
// After a commit, the messages still in flight drain within a few round trips.
const QUIET_BUDGET_MS = 1_000;

interface ClusterNode {
  readonly id: NodeId;
  readonly endpoint: Transport;
  readonly core: RaftCore;
  readonly replica: MarketReplica | undefined;
  up: boolean;
  dirty: boolean;
}

/** A proposal whose acknowledgements the leader is timing. */
interface Timing {
  readonly leader: NodeId;
  readonly index: number;
  readonly proposedAt: number;
  readonly arrivals: Map<NodeId, number>;
}

/**
 * A cluster of real `RaftCore` engines on the in-process network of `@greenraft/transport-memory`,
 * on a virtual clock: every message takes its link's latency, disks are instant, and the cores
 * tick once per virtual millisecond. Everything runs to completion inside each call, so the same
 * calls always give the same virtual times.
 */
export class SimulatedCluster {
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
  readonly #nodes: ClusterNode[] = [];
  readonly #byId = new Map<NodeId, ClusterNode>();
  #nextTick = TICK_MS;
  #timing: Timing | undefined;
  #quorums = new Map<number, readonly NodeId[]>();
  #messages = 0;
  /** Messages other than heartbeats sent and not yet delivered or dropped. */
  #inFlight = 0;
  /** What an engine threw while handling a message: the run stops with it. */
  #failure: { readonly error: unknown } | undefined;

  private constructor(init: ClusterInit) {
    this.clock = virtualClock();
    // Messages are never mutated after send, so the network may share them instead of cloning.
    this.network = memoryNetwork({ clock: this.clock, seed: deriveSeed(init.seed, 31), clone: false });
    for (const from of init.ids) {
      for (const to of init.ids) if (from !== to) this.network.setLink(from, to, { latency: init.latencies.get(linkKey(from, to)) ?? 0 });
    }
    this.network.on('send', ({ message }) => {
      if (HEARTBEATS.has(message.type)) return;
      this.#messages++;
      this.#inFlight++;
    });
    const settled = ({ message }: { message: Message }) => {
      if (!HEARTBEATS.has(message.type)) this.#inFlight--;
    };
    this.network.on('deliver', settled);
    this.network.on('drop', settled);
    this.network.on('handlerError', ({ error }) => {
      this.#failure ??= { error };
    });
    const bootstrap = init.bootstrap ?? configuration(init.ids);
    const options: Partial<RaftCoreOptions> =
      init.policy === 'classic'
        ? { electionTicks: CLASSIC_ELECTION_TICKS }
        : { electionTicks: WEIGHTED_ELECTION_TICKS, policy: rankElectionTimeout({ tickMs: TICK_MS }) };
    init.ids.forEach((id, position) => {
      const core = new RaftCore({ id, bootstrap, heartbeatTicks: HEARTBEAT_TICKS, seed: deriveSeed(init.seed, 5000 + position), ...options });
      const node: ClusterNode = {
        id,
        endpoint: this.network.transport(id),
        core,
        replica: init.market === undefined ? undefined : new MarketReplica(init.market),
        up: true,
        dirty: false,
      };
      this.#nodes.push(node);
      this.#byId.set(id, node);
    });
  }

  /** Builds the cluster and starts every node's endpoint. */
  static async start(init: ClusterInit): Promise<SimulatedCluster> {
    const cluster = new SimulatedCluster(init);
    for (const node of cluster.#nodes) await node.endpoint.start((message) => cluster.#deliver(node, message));
    return cluster;
  }

  /** Node `id`'s engine. */
  core(id: NodeId): RaftCore {
    return this.#node(id).core;
  }

  /** Node `id`'s market replica. */
  replica(id: NodeId): MarketReplica {
    const replica = this.#node(id).replica;
    if (replica === undefined) throw new InvalidArgumentError('this cluster runs no market');
    return replica;
  }

  /** The running leader of the highest term, if any. */
  leader(): NodeId | undefined {
    let best: ClusterNode | undefined;
    for (const node of this.#nodes) {
      if (node.up && node.core.role === 'leader' && (best === undefined || node.core.term > best.core.term)) best = node;
    }
    return best?.id;
  }

  /** Messages other than heartbeats sent so far. */
  get messages(): number {
    return this.#messages;
  }

  /**
   * Makes `id` campaign and waits until it leads and has committed an entry of its term.
   * @throws TimeoutError when it does not within `budgetMs` virtual milliseconds.
   */
  elect(id: NodeId, budgetMs = 5_000): void {
    const core = this.#node(id).core;
    core.campaign();
    this.#node(id).dirty = true;
    this.#flush();
    const done = () => core.role === 'leader' && core.termAt(core.commitIndex) === core.term;
    if (!this.#run(done, budgetMs)) throw new TimeoutError(`node ${id} was not elected within ${budgetMs} virtual ms`);
    this.#quiesce();
  }

  /**
   * Proposes `data` at the leader and runs until the leader commits it: the time it took on the
   * virtual clock and the quorum that committed it.
   * @throws TimeoutError when there is no leader, or it does not commit within `budgetMs`.
   */
  propose(data: Uint8Array, budgetMs = 5_000): CommitMeasurement {
    const id = this.leader();
    if (id === undefined) throw new TimeoutError('no leader to propose to');
    const node = this.#node(id);
    const messages = this.#messages;
    const proposedAt = this.clock.now();
    const { index, term } = node.core.propose(data);
    this.#timing = { leader: id, index, proposedAt, arrivals: new Map() };
    node.dirty = true;
    this.#flush();
    const committed = () => node.core.commitIndex >= index;
    if (!this.#run(committed, budgetMs) || node.core.termAt(index) !== term) {
      throw new TimeoutError(`entry ${index} did not commit at leader ${id} within ${budgetMs} virtual ms`);
    }
    const ms = this.clock.now() - proposedAt;
    const timing = this.#timing;
    this.#timing = undefined;
    const quorum = (this.#quorums.get(index) ?? []).map((ack) => ({ id: ack, latencyMs: ack === id ? 0 : (timing.arrivals.get(ack) ?? ms) }));
    this.#quorums.clear();
    this.#quiesce();
    return { index, ms, quorum, messages: this.#messages - messages };
  }

  /**
   * Moves the cluster to `target` by joint consensus at the leader, C(old,new) then C(new), and
   * runs until C(new) is committed.
   * @throws TimeoutError when there is no leader, or the change does not complete within `budgetMs`.
   */
  changeWeights(target: Configuration, budgetMs = 5_000): WeightChangeMeasurement {
    const id = this.leader();
    if (id === undefined) throw new TimeoutError('no leader to change the weights');
    const node = this.#node(id);
    const messages = this.#messages;
    const started = this.clock.now();
    node.core.proposeConfigChange(target);
    node.dirty = true;
    this.#flush();
    const core = node.core;
    const done = () => core.config.outgoing === undefined && core.commitIndex >= core.lastIndex;
    if (!this.#run(done, budgetMs)) throw new TimeoutError(`the weight change did not complete within ${budgetMs} virtual ms`);
    const ms = this.clock.now() - started;
    this.#quorums.clear();
    this.#quiesce();
    return { ms, messages: this.#messages - messages };
  }

  /** Lets `ms` virtual milliseconds pass. */
  runFor(ms: number): void {
    this.#run(() => false, ms);
  }

  /** Runs until `done()` holds; false when `budgetMs` virtual milliseconds passed first. */
  runUntil(done: () => boolean, budgetMs: number): boolean {
    return this.#run(done, budgetMs);
  }

  /** Crashes node `id`: it stops ticking, and messages to it are lost. */
  crash(id: NodeId): void {
    this.#node(id).up = false;
  }

  /** Whether node `id` is running. */
  isUp(id: NodeId): boolean {
    return this.#node(id).up;
  }

  /** Stops every endpoint and drops the messages in flight. */
  close(): void {
    this.network.close();
  }

  /** Runs until no message but heartbeats is in flight, so the next measurement starts on a quiet network. */
  #quiesce(): void {
    this.#run(() => this.#inFlight === 0, QUIET_BUDGET_MS);
  }

  #node(id: NodeId): ClusterNode {
    const node = this.#byId.get(id);
    if (node === undefined) throw new InvalidArgumentError(`no node ${id} in this cluster`);
    return node;
  }

  #deliver(node: ClusterNode, message: Message): void {
    if (!node.up) return;
    const timing = this.#timing;
    if (timing !== undefined && message.type === 'appendResponse' && message.to === timing.leader && message.success && message.index >= timing.index) {
      if (!timing.arrivals.has(message.from)) timing.arrivals.set(message.from, this.clock.now() - timing.proposedAt);
    }
    node.core.step(message);
    node.dirty = true;
  }

  /** Handles every dirty node's Ready: send, apply, advance (disks are instant). */
  #flush(): void {
    for (const node of this.#nodes) {
      if (!node.dirty) continue;
      node.dirty = false;
      if (!node.up) continue;
      const core = node.core;
      while (core.hasReady()) {
        const rd = core.ready();
        for (const message of rd.messages) node.endpoint.send(message);
        if (node.replica !== undefined) for (const entry of rd.committedEntries) if (entry.type === 'normal') node.replica.committed(entry);
        for (const quorum of rd.commitQuorums) {
          if (!this.#quorums.has(quorum.index)) this.#quorums.set(quorum.index, quorum.acks.map((ack) => ack.id));
        }
        core.advance(rd);
      }
    }
  }

  #run(done: () => boolean, budgetMs: number): boolean {
    const deadline = this.clock.now() + budgetMs;
    while (!done()) {
      const timer = this.clock.nextTimerAt();
      if (timer !== undefined && timer <= this.#nextTick) {
        if (timer > deadline) return false;
        this.clock.runNext();
      } else {
        if (this.#nextTick > deadline) return false;
        this.clock.advanceTo(this.#nextTick);
        for (const node of this.#nodes) {
          if (!node.up) continue;
          node.core.tick();
          node.dirty = true;
        }
        this.#nextTick += TICK_MS;
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      this.#flush();
    }
    return true;
  }
}
