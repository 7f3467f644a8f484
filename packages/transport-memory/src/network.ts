import { InvalidArgumentError, TransportError, integerOption, messageEnvelopeProblem, rejectUnknownOptions, seededRandom } from '@greenraft/consensus';
import type { Message, MessageHandler, NodeId, Transport } from '@greenraft/consensus';
import { EventEmitter } from 'eventemitter3';
import { type Clock, realClock } from './clock.js';
import { cloneMessage } from './clone.js';
import { LINK_FAULT_KEYS, type LinkFaults, type ResolvedLinkFaults, resolveLinkFaults, sampleLatency, validateLinkFaults } from './faults.js';

/** Why the network dropped a well-formed message. */
export type DropReason =
  /** A partition, a one-way cut or an isolation separated sender and receiver, at send or at delivery. */
  | 'partition'
  /** No endpoint was ever created for `message.to`. */
  | 'unknownPeer'
  /** The receiver was not started when the message was sent, or stopped before it arrived. */
  | 'stopped'
  /** The link's `loss` probability picked it. */
  | 'loss'
  /** The link already held `maxQueuedPerLink` messages in flight. */
  | 'backpressure';

/** Message counters of a {@link MemoryNetwork}. At any time `sent + duplicated = delivered + dropped + inFlight()`. */
export interface MemoryNetworkStats {
  /** Calls to `send` on a started endpoint, malformed messages included. */
  readonly sent: number;
  /** Messages handed to a receiver's handler, duplicates included. */
  readonly delivered: number;
  /** Messages (or duplicate copies) that will never be delivered: malformed, lost, cut off, or refused. */
  readonly dropped: number;
  /** Extra copies the `duplicate` fault created. */
  readonly duplicated: number;
}

/**
 * What a {@link MemoryNetwork} reports as messages move, for traces, histories and tests
 * (eventemitter3 style). Listeners run synchronously and must not throw; an error thrown by
 * one is reported like a handler error (see `handlerError`).
 */
export interface MemoryNetworkEvents {
  /** A well-formed message was accepted from a started endpoint (before faults are applied). */
  send: (event: { readonly at: number; readonly message: Message }) => void;
  /** A message is being handed to its receiver. */
  deliver: (event: { readonly at: number; readonly sentAt: number; readonly message: Message }) => void;
  /** A well-formed message, or one duplicate copy, was dropped. */
  drop: (event: { readonly at: number; readonly reason: DropReason; readonly message: Message }) => void;
  /** The `duplicate` fault made an extra copy of a message. */
  duplicate: (event: { readonly at: number; readonly message: Message }) => void;
  /** An endpoint tried to send something that is not a well-formed message; it was dropped. */
  malformed: (event: { readonly at: number; readonly endpoint: NodeId; readonly value: unknown; readonly problem: string }) => void;
  /**
   * A receiver's handler (or a latency function, or an event listener) threw. Without a listener
   * for this event the error is rethrown from a microtask, so it is never silently lost and never
   * corrupts the network's state.
   */
  handlerError: (event: { readonly error: unknown; readonly message: Message | undefined }) => void;
}

/** Options of {@link memoryNetwork}. */
export interface MemoryNetworkInit {
  /**
   * The clock deliveries are scheduled on. Pass a {@link VirtualClock} for deterministic runs.
   * @default realClock()
   */
  clock?: Clock;
  /**
   * Seeds the PRNG behind every fault and latency draw.
   * @default 1
   */
  seed?: number;
  /**
   * Faults of every link that has none of its own (see {@link MemoryNetwork.setDefaultLink}).
   * @default {} (no faults)
   */
  defaultLink?: LinkFaults;
  /**
   * Copy each message on send (a structured clone), so sender and receiver share no objects (as over a real wire).
   * @default true
   */
  clone?: boolean;
  /**
   * Messages a link holds in flight before new ones are dropped (backpressure).
   * @default 10_000
   */
  maxQueuedPerLink?: number;
}

/**
 * An in-process network of {@link Transport} endpoints with fault injection. Under a
 * {@link VirtualClock} it is deterministic: the same sends, clock moves and seed give the same
 * deliveries in the same order.
 */
export interface MemoryNetwork {
  /** The clock deliveries are scheduled on. */
  readonly clock: Clock;
  /**
   * The endpoint of node `id`, created on first use; the same object on every call. An endpoint can
   * be started again after it is stopped (a node restart). Throws {@link InvalidArgumentError} for
   * an empty or non-string id.
   */
  transport(id: NodeId): Transport;
  /** Sets the faults of the one-way link `from → to`, replacing earlier ones; fields left out fall back to the default link. */
  setLink(from: NodeId, to: NodeId, faults: LinkFaults): void;
  /** Sets the faults of every link without faults of its own. */
  setDefaultLink(faults: LinkFaults): void;
  /**
   * Splits the nodes into groups that cannot exchange messages, replacing any earlier partition
   * (symmetric). Nodes not listed together form one more group. `partition()` with no group joins
   * everyone again; cuts and isolations stay.
   */
  partition(...groups: NodeId[][]): void;
  /** Cuts the one-way link `from → to`; `to → from` still works. */
  block(from: NodeId, to: NodeId): void;
  /** Restores the one-way link `from → to` after {@link MemoryNetwork.block}. */
  unblock(from: NodeId, to: NodeId): void;
  /** Cuts `id` off from every other node in both directions until {@link MemoryNetwork.heal}. */
  isolate(id: NodeId): void;
  /** Removes every partition, cut and isolation (link faults stay). */
  heal(): void;
  /** Removes every link's own faults and the default link's: all links become fault-free. */
  clearLinkFaults(): void;
  /** A snapshot of the message counters (a new object on every read). */
  readonly stats: MemoryNetworkStats;
  /** Messages (and duplicate copies) scheduled but neither delivered nor dropped yet. */
  inFlight(): number;
  /** Stops every endpoint and drops every message in flight, clearing their timers. */
  close(): void;
  /** Subscribes to network events. */
  on<E extends keyof MemoryNetworkEvents>(event: E, listener: MemoryNetworkEvents[E]): this;
  /** Unsubscribes from network events. */
  off<E extends keyof MemoryNetworkEvents>(event: E, listener?: MemoryNetworkEvents[E]): this;
  /** Subscribes to the next occurrence of a network event. */
  once<E extends keyof MemoryNetworkEvents>(event: E, listener: MemoryNetworkEvents[E]): this;
}

/**
 * Creates an in-process network. Endpoints come from {@link MemoryNetwork.transport}.
 *
 * `send` never blocks and never throws: a message to an unknown or stopped peer, across a
 * partition, or not well formed (an object with string `type`, `from` equal to the sending
 * endpoint, `to`, and an integer `term` ≥ 0) is dropped and counted. Delivery always goes through
 * `clock.setTimeout`, so even a zero-latency message arrives asynchronously: on the host's clock
 * (the default) on the next turn of the event loop, on a virtual clock at the next clock move.
 * Partitions and cuts are checked when a message is sent and again when it would be delivered.
 *
 * @throws InvalidArgumentError naming the option when an option is unknown (link faults such as
 *   `latency` belong in `defaultLink`) or invalid.
 *
 * @example
 * ```ts
 * import { memoryNetwork, virtualClock } from '@greenraft/transport-memory';
 *
 * const clock = virtualClock();
 * const network = memoryNetwork({ clock, seed: 7, defaultLink: { latency: { min: 1, max: 5 } } });
 * const a = network.transport('a');
 * const b = network.transport('b');
 * await b.start((message) => console.log(`${message.to} got ${message.type} from ${message.from}`));
 * await a.start(() => {});
 * a.send({ type: 'timeoutNow', from: 'a', to: 'b', term: 3 });
 * clock.advance(10); // b got timeoutNow from a
 * ```
 */
export function memoryNetwork(init: MemoryNetworkInit = {}): MemoryNetwork {
  return new InProcessNetwork(init);
}

type EndpointState = 'idle' | 'started' | 'stopped';

/** One message (or duplicate copy) on its way. */
interface Delivery {
  readonly message: Message;
  readonly sentAt: number;
  /** Ordered deliveries leave their link in send order; reordered ones may overtake. */
  readonly ordered: boolean;
  /** Its timer fired; an ordered one may still wait for an earlier message on the link. */
  due: boolean;
  /** Delivered or dropped: nothing more happens to it. */
  settled: boolean;
  handle: unknown;
}

/** The state of one direction of a link. */
interface Link {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Every delivery in flight on this link. */
  readonly pending: Set<Delivery>;
  /** Ordered deliveries in send order, from `head` on. */
  queue: Delivery[];
  head: number;
  faults: ResolvedLinkFaults | undefined;
  faultsVersion: number;
}

class MemoryEndpoint implements Transport {
  state: EndpointState = 'idle';
  handler: MessageHandler | undefined;

  constructor(
    readonly localId: NodeId,
    private readonly network: InProcessNetwork,
  ) {}

  async start(handler: MessageHandler): Promise<void> {
    if (typeof handler !== 'function') {
      throw new InvalidArgumentError(`transport ${this.localId}: start needs a message handler function`);
    }
    if (this.state === 'started') throw new TransportError(`transport ${this.localId} is already started`);
    this.handler = handler;
    this.state = 'started';
  }

  send(message: Message): void {
    this.network.accept(this, message);
  }

  async stop(): Promise<void> {
    if (this.state !== 'started') return;
    this.state = 'stopped';
    this.handler = undefined;
    this.network.dropPendingTo(this.localId);
  }
}

const DEFAULT_MAX_QUEUED_PER_LINK = 10_000;

/** Every option of {@link MemoryNetworkInit}: anything else is a mistake, reported rather than ignored. */
const NETWORK_OPTIONS: readonly (keyof MemoryNetworkInit)[] = ['clock', 'seed', 'defaultLink', 'clone', 'maxQueuedPerLink'];

class InProcessNetwork implements MemoryNetwork {
  readonly clock: Clock;
  // Keyed by event name; the listener types are MemoryNetworkEvents', checked by on/off/once below.
  private readonly events = new EventEmitter<keyof MemoryNetworkEvents>();
  private readonly random: () => number;
  private readonly clone: boolean;
  private readonly maxQueuedPerLink: number;
  private defaultLink: LinkFaults;
  private readonly linkFaults = new Map<NodeId, Map<NodeId, LinkFaults>>();
  /** Bumped whenever faults change, so links re-resolve their cached faults. */
  private faultsVersion = 0;
  private readonly endpoints = new Map<NodeId, MemoryEndpoint>();
  private readonly links = new Map<NodeId, Map<NodeId, Link>>();
  /** Group index per listed node; unlisted nodes share group -1. `undefined`: no partition. */
  private groups: Map<NodeId, number> | undefined;
  private readonly blocked = new Map<NodeId, Set<NodeId>>();
  private readonly isolated = new Set<NodeId>();
  private counters = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  private pendingCount = 0;

  constructor(init: MemoryNetworkInit) {
    if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('memoryNetwork: init must be an object');
    for (const key of Object.keys(init)) {
      // A link fault given at the top level is the likely mistake: say where it belongs.
      if (LINK_FAULT_KEYS.includes(key)) {
        throw new InvalidArgumentError(`memoryNetwork: unknown option "${key}"; link faults go in defaultLink: { ${key} } or setLink()`);
      }
    }
    rejectUnknownOptions('memoryNetwork', init, NETWORK_OPTIONS);
    const clock = init.clock ?? realClock();
    if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
      throw new InvalidArgumentError('memoryNetwork: clock must have now, setTimeout and clearTimeout functions');
    }
    const maxQueued = integerOption('memoryNetwork: maxQueuedPerLink', init.maxQueuedPerLink ?? DEFAULT_MAX_QUEUED_PER_LINK, { min: 1 });
    if (init.clone !== undefined && typeof init.clone !== 'boolean') {
      throw new InvalidArgumentError('memoryNetwork: clone must be a boolean');
    }
    this.defaultLink = validateLinkFaults(init.defaultLink ?? {}, 'memoryNetwork defaultLink');
    this.random = seededRandom(integerOption('memoryNetwork: seed', init.seed ?? 1, {}));
    this.clock = clock;
    this.clone = init.clone ?? true;
    this.maxQueuedPerLink = maxQueued;
  }

  transport(id: NodeId): Transport {
    assertNodeId(id, 'transport');
    let endpoint = this.endpoints.get(id);
    if (endpoint === undefined) {
      endpoint = new MemoryEndpoint(id, this);
      this.endpoints.set(id, endpoint);
    }
    return endpoint;
  }

  setLink(from: NodeId, to: NodeId, faults: LinkFaults): void {
    assertNodeId(from, 'setLink');
    assertNodeId(to, 'setLink');
    const checked = validateLinkFaults(faults, `setLink(${from} → ${to})`);
    let row = this.linkFaults.get(from);
    if (row === undefined) this.linkFaults.set(from, (row = new Map()));
    row.set(to, checked);
    this.faultsVersion++;
  }

  setDefaultLink(faults: LinkFaults): void {
    this.defaultLink = validateLinkFaults(faults, 'setDefaultLink');
    this.faultsVersion++;
  }

  clearLinkFaults(): void {
    this.linkFaults.clear();
    this.defaultLink = {};
    this.faultsVersion++;
  }

  partition(...groups: NodeId[][]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, index) => {
      if (!Array.isArray(group)) throw new InvalidArgumentError('partition: each group must be an array of node ids');
      for (const id of group) {
        assertNodeId(id, 'partition');
        const earlier = groupOf.get(id);
        if (earlier !== undefined && earlier !== index) {
          throw new InvalidArgumentError(`partition: node ${id} is listed in two groups`);
        }
        groupOf.set(id, index);
      }
    });
    this.groups = groups.length === 0 ? undefined : groupOf;
  }

  block(from: NodeId, to: NodeId): void {
    assertNodeId(from, 'block');
    assertNodeId(to, 'block');
    let cut = this.blocked.get(from);
    if (cut === undefined) this.blocked.set(from, (cut = new Set()));
    cut.add(to);
  }

  unblock(from: NodeId, to: NodeId): void {
    assertNodeId(from, 'unblock');
    assertNodeId(to, 'unblock');
    this.blocked.get(from)?.delete(to);
  }

  isolate(id: NodeId): void {
    assertNodeId(id, 'isolate');
    this.isolated.add(id);
  }

  heal(): void {
    this.groups = undefined;
    this.blocked.clear();
    this.isolated.clear();
  }

  on<E extends keyof MemoryNetworkEvents>(event: E, listener: MemoryNetworkEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof MemoryNetworkEvents>(event: E, listener?: MemoryNetworkEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  once<E extends keyof MemoryNetworkEvents>(event: E, listener: MemoryNetworkEvents[E]): this {
    this.events.once(event, listener);
    return this;
  }

  get stats(): MemoryNetworkStats {
    return { ...this.counters };
  }

  inFlight(): number {
    return this.pendingCount;
  }

  close(): void {
    for (const endpoint of this.endpoints.values()) {
      if (endpoint.state !== 'started') continue;
      endpoint.state = 'stopped';
      endpoint.handler = undefined;
    }
    for (const row of this.links.values()) for (const link of row.values()) this.dropLink(link);
  }

  /** The send path of an endpoint. Never throws. */
  accept(endpoint: MemoryEndpoint, value: unknown): void {
    if (endpoint.state !== 'started') return;
    this.counters.sent++;
    const at = this.clock.now();
    const problem = malformation(value, endpoint.localId);
    if (problem !== undefined) {
      this.rejectMalformed(endpoint.localId, value, problem, at);
      return;
    }
    let message = value as Message;
    if (this.clone) {
      try {
        message = cloneMessage(message);
      } catch (error) {
        this.rejectMalformed(endpoint.localId, value, `not structured-cloneable (${describeError(error)})`, at);
        return;
      }
    }
    this.notify('send', { at, message });
    const { from, to } = message;
    if (!this.canReach(from, to)) { this.drop(message, 'partition'); return; }
    const receiver = this.endpoints.get(to);
    if (receiver === undefined) { this.drop(message, 'unknownPeer'); return; }
    if (receiver.state !== 'started') { this.drop(message, 'stopped'); return; }
    const link = this.link(from, to);
    const faults = this.faultsOf(link);
    // The order of PRNG draws below is part of the determinism contract: loss, then the
    // original's latency and reorder, then duplicate and the copy's own draws.
    if (faults.loss > 0 && this.random() < faults.loss) { this.drop(message, 'loss'); return; }
    this.schedule(link, message, faults, at);
    if (faults.duplicate > 0 && this.random() < faults.duplicate) {
      this.counters.duplicated++;
      const copy = this.clone ? cloneMessage(message) : message;
      this.notify('duplicate', { at, message: copy });
      this.schedule(link, copy, faults, at);
    }
  }

  /** Drops every message in flight to `id` (its endpoint stopped). */
  dropPendingTo(id: NodeId): void {
    for (const row of this.links.values()) {
      const link = row.get(id);
      if (link !== undefined) this.dropLink(link);
    }
  }

  private dropLink(link: Link): void {
    const doomed = [...link.pending];
    link.pending.clear();
    link.queue = [];
    link.head = 0;
    for (const delivery of doomed) {
      delivery.settled = true;
      this.pendingCount--;
      this.clock.clearTimeout(delivery.handle);
    }
    for (const delivery of doomed) this.drop(delivery.message, 'stopped');
  }

  private schedule(link: Link, message: Message, faults: ResolvedLinkFaults, sentAt: number): void {
    if (link.pending.size >= this.maxQueuedPerLink) { this.drop(message, 'backpressure'); return; }
    let latency = 0;
    try {
      latency = sampleLatency(faults.latency, this.random);
    } catch (error) {
      this.reportError(error, message);
    }
    const reordered = faults.reorder > 0 && this.random() < faults.reorder;
    // A reordered message leaves the link's queue and waits longer, so later ones overtake it.
    const delay = reordered ? latency + 1 + Math.floor(this.random() * faults.reorderDelay) : latency;
    const delivery: Delivery = { message, sentAt, ordered: !reordered, due: false, settled: false, handle: undefined };
    link.pending.add(delivery);
    if (delivery.ordered) link.queue.push(delivery);
    this.pendingCount++;
    delivery.handle = this.clock.setTimeout(() => this.onDue(link, delivery), delay);
  }

  private onDue(link: Link, delivery: Delivery): void {
    if (delivery.settled) return;
    delivery.due = true;
    if (!delivery.ordered) { this.settle(link, delivery); return; }
    // Deliver the run of due messages at the head of the link, in send order: a message whose
    // latency draw was shorter than an earlier one's waits for it, so the link stays FIFO.
    while (link.head < link.queue.length) {
      const head = link.queue[link.head]!;
      if (!head.settled && !head.due) break;
      link.head++;
      if (!head.settled) this.settle(link, head);
    }
    // Release settled deliveries (and the messages they hold) as soon as the queue drains.
    if (link.head === link.queue.length) {
      link.queue.length = 0;
      link.head = 0;
    } else if (link.head > 1024 && link.head * 2 > link.queue.length) {
      link.queue = link.queue.slice(link.head);
      link.head = 0;
    }
  }

  private settle(link: Link, delivery: Delivery): void {
    delivery.settled = true;
    link.pending.delete(delivery);
    this.pendingCount--;
    const { message } = delivery;
    if (!this.canReach(link.from, link.to)) { this.drop(message, 'partition'); return; }
    const receiver = this.endpoints.get(link.to);
    const handler = receiver?.state === 'started' ? receiver.handler : undefined;
    if (handler === undefined) { this.drop(message, 'stopped'); return; }
    this.counters.delivered++;
    this.notify('deliver', { at: this.clock.now(), sentAt: delivery.sentAt, message });
    try {
      handler(message);
    } catch (error) {
      this.reportError(error, message);
    }
  }

  private canReach(from: NodeId, to: NodeId): boolean {
    if (this.blocked.get(from)?.has(to)) return false;
    if (from === to) return true;
    if (this.isolated.has(from) || this.isolated.has(to)) return false;
    if (this.groups !== undefined) return (this.groups.get(from) ?? -1) === (this.groups.get(to) ?? -1);
    return true;
  }

  private link(from: NodeId, to: NodeId): Link {
    let row = this.links.get(from);
    if (row === undefined) this.links.set(from, (row = new Map()));
    let link = row.get(to);
    if (link === undefined) {
      link = { from, to, pending: new Set(), queue: [], head: 0, faults: undefined, faultsVersion: -1 };
      row.set(to, link);
    }
    return link;
  }

  private faultsOf(link: Link): ResolvedLinkFaults {
    if (link.faults === undefined || link.faultsVersion !== this.faultsVersion) {
      link.faults = resolveLinkFaults(this.linkFaults.get(link.from)?.get(link.to), this.defaultLink);
      link.faultsVersion = this.faultsVersion;
    }
    return link.faults;
  }

  private drop(message: Message, reason: DropReason): void {
    this.counters.dropped++;
    this.notify('drop', { at: this.clock.now(), reason, message });
  }

  private rejectMalformed(endpoint: NodeId, value: unknown, problem: string, at: number): void {
    this.counters.dropped++;
    this.notify('malformed', { at, endpoint, value, problem });
  }

  /** Emits without letting a listener's error escape into `send` or a delivery timer. */
  private notify<E extends 'send' | 'deliver' | 'drop' | 'duplicate' | 'malformed'>(
    event: E,
    payload: Parameters<MemoryNetworkEvents[E]>[0],
  ): void {
    if (this.events.listenerCount(event) === 0) return;
    try {
      this.events.emit(event, payload);
    } catch (error) {
      this.reportError(error, 'message' in payload ? payload.message : undefined);
    }
  }

  private reportError(error: unknown, message: Message | undefined): void {
    if (this.events.listenerCount('handlerError') > 0) {
      try {
        this.events.emit('handlerError', { error, message });
        return;
      } catch (listenerError) {
        error = listenerError;
      }
    }
    queueMicrotask(() => {
      throw error;
    });
  }
}

function assertNodeId(id: unknown, where: string): asserts id is NodeId {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError(`${where}: node ids must be non-empty strings, got ${String(id)}`);
  }
}

/** Why `value` is not a well-formed message from `sender`, or `undefined` if it is one. */
function malformation(value: unknown, sender: NodeId): string | undefined {
  // The envelope only: the receiving node checks every field of its type (messageProblem).
  const problem = messageEnvelopeProblem(value);
  if (problem !== undefined) return problem;
  const { from } = value as Message;
  if (from !== sender) return `from is "${from}" but the sending endpoint is "${sender}"`;
  return undefined;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
