import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { MessageEncoder } from './codec.js';
import type { Lane } from './handshake.js';
import type { DropReason } from './stats.js';

/** Frames of at most this many bytes carry several queued messages. */
export const MAX_BATCH_BYTES = 64 * 1024;
/** Messages are encoded into arenas of this size, batch after batch. */
const ARENA_BYTES = MAX_BATCH_BYTES;
/**
 * A message this large gets a buffer (and a frame) of its own: an arena never strands more than
 * this at its end, so queued messages never take more than 4/3 of their bytes in memory.
 */
const OWN_FRAME_BYTES = ARENA_BYTES / 4;
/** No more is handed to a socket while its unsent buffer holds this much. */
export const SOCKET_HIGH_WATER = 1024 * 1024;

export const SEND_OPTIONS = { binary: true, compress: false, fin: true } as const;

/** What a lane needs from the link it belongs to. */
export interface LaneOwner {
  readonly options: { readonly maxQueuedMessages: number; readonly maxQueuedBytes: number };
  readonly counters: { messagesSent: number; bulkMessagesSent: number; bytesSent: number };
  /** The control lane's pong came back after `rtt` milliseconds. */
  roundTrip(rtt: number): void;
  /** The lane wrote what it could. */
  flushed(lane: LaneQueue): void;
}

/** A ping on a lane whose pong has not come back yet. */
interface OutstandingPing {
  readonly id: number;
  readonly sentAt: number;
  /** Messages written to the lane before the ping: the pong proves the peer has read them all. */
  readonly covers: number;
  /** Bulk-type bytes written before the ping (control lane accounting). */
  readonly bulkBytes: number;
}

/** A closed batch waiting for the socket: one WebSocket frame of whole messages. */
interface Batch {
  readonly bytes: Buffer;
  readonly messages: number;
  /** Bytes of its AppendEntries and snapshot chunks. */
  readonly bulkBytes: number;
}

/**
 * One lane of a link: a bounded queue in front of one authenticated WebSocket, with pings that
 * double as barriers (a pong proves the peer has read every frame written before its ping, since
 * a WebSocket delivers frames in order and answers a ping when it reads it).
 *
 * Messages are encoded straight into the open batch, at the end of an arena that only grows
 * (bytes once written are never reused, so a frame the socket still holds stays intact); a batch
 * closes when the next message would take it past {@link MAX_BATCH_BYTES}, or when it is written.
 * So a message costs no allocation and one copy of its data, and a frame is a view of the arena.
 * Messages of {@link OWN_FRAME_BYTES} or more are written into a buffer of their own, one frame each.
 */
export class LaneQueue {
  socket: WebSocket | undefined;
  /** Closed batches, oldest first, from `#head` on. */
  #batches: (Batch | undefined)[] = [];
  #head = 0;
  #arena: Buffer | undefined;
  /** Bytes of the arena written so far; the open batch is `[#openStart, #arenaUsed)`. */
  #arenaUsed = 0;
  #openStart = 0;
  #openMessages = 0;
  #openBulkBytes = 0;
  #queuedMessages = 0;
  queuedBytes = 0;
  #queuedBulkBytes = 0;
  peakQueuedBytes = 0;
  /** Messages written to the current socket. */
  written = 0;
  /** Bytes of AppendEntries and snapshot chunks written to the current socket. */
  bulkBytesWritten = 0;
  /** `bulkBytesWritten` as of the last ping whose pong came back. */
  bulkBytesAcknowledged = 0;
  /** While held (a lane switch waits for its barrier), the queue fills but is not written. */
  held = false;
  #flushScheduled = false;
  #blocked = false;
  #ping: OutstandingPing | undefined;
  #nextPingId = 1;
  #barriers: { readonly target: number; readonly callback: () => void }[] = [];

  constructor(
    readonly link: LaneOwner,
    readonly name: Lane,
  ) {}

  get queuedMessages(): number {
    return this.#queuedMessages;
  }

  get bufferedBytes(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Bulk-type bytes the peer may not have read yet. */
  get bulkBytesInFlight(): number {
    return this.bulkBytesWritten - this.bulkBytesAcknowledged + this.#queuedBulkBytes;
  }

  /** Queues the message `encoder` has prepared, writing it into the open batch; returns why it was refused, if it was. */
  enqueue(encoder: MessageEncoder, bulkType: boolean): DropReason | undefined {
    const options = this.link.options;
    const length = encoder.length;
    if (this.#queuedMessages >= options.maxQueuedMessages || this.queuedBytes + length > options.maxQueuedBytes) return 'queueFull';
    if (length >= OWN_FRAME_BYTES) {
      // A frame of its own, after whatever is open (messages keep their order).
      const bytes = Buffer.allocUnsafeSlow(length);
      encoder.write(bytes, 0);
      this.#close();
      this.#batches.push({ bytes, messages: 1, bulkBytes: bulkType ? length : 0 });
    } else {
      if (this.#arenaUsed - this.#openStart + length > MAX_BATCH_BYTES) this.#close();
      let arena = this.#arena;
      if (arena === undefined || arena.byteLength - this.#arenaUsed < length) {
        this.#close();
        arena = this.#arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
        this.#arenaUsed = this.#openStart = 0;
      }
      // Written first, counted after: a write that throws leaves the queue as it was.
      encoder.write(arena, this.#arenaUsed);
      this.#arenaUsed += length;
      this.#openMessages++;
      if (bulkType) this.#openBulkBytes += length;
    }
    this.#queuedMessages++;
    if (bulkType) this.#queuedBulkBytes += length;
    this.queuedBytes += length;
    if (this.queuedBytes > this.peakQueuedBytes) this.peakQueuedBytes = this.queuedBytes;
    this.#scheduleFlush();
    return undefined;
  }

  /** Closes the open batch, if it holds anything: it becomes the newest frame waiting. */
  #close(): void {
    if (this.#openMessages === 0) return;
    this.#batches.push({ bytes: this.#arena!.subarray(this.#openStart, this.#arenaUsed), messages: this.#openMessages, bulkBytes: this.#openBulkBytes });
    this.#openStart = this.#arenaUsed;
    this.#openMessages = 0;
    this.#openBulkBytes = 0;
  }

  #scheduleFlush(): void {
    if (this.socket === undefined || this.#flushScheduled || this.#blocked || this.held || this.#queuedMessages === 0) return;
    this.#flushScheduled = true;
    // A microtask: every message the node sends in one synchronous burst goes in one write.
    queueMicrotask(this.#flush);
  }

  /** Barriers asked for before the socket came stay: their targets count the frames queued meanwhile. */
  attach(socket: WebSocket): void {
    this.socket = socket;
    this.#blocked = false;
    socket.on('pong', this.#pong);
    this.#scheduleFlush();
  }

  /** Forgets the socket (the caller closes it); queued messages stay until {@link LaneQueue.clear}. */
  detach(): WebSocket | undefined {
    const socket = this.socket;
    this.socket = undefined;
    this.#blocked = false;
    this.held = false;
    this.#ping = undefined;
    this.#barriers = [];
    this.written = 0;
    this.bulkBytesWritten = 0;
    this.bulkBytesAcknowledged = 0;
    return socket;
  }

  /** Drops every queued message and returns how many there were. */
  clear(): number {
    const dropped = this.#queuedMessages;
    this.#batches = [];
    this.#head = 0;
    this.#arena = undefined;
    this.#arenaUsed = this.#openStart = this.#openMessages = this.#openBulkBytes = 0;
    this.#queuedMessages = 0;
    this.queuedBytes = 0;
    this.#queuedBulkBytes = 0;
    return dropped;
  }

  /** Lets a held queue go (its lane switch completed). */
  release(): void {
    this.held = false;
    this.#scheduleFlush();
  }

  /** Calls `callback` once the peer has read every frame written or queued on this lane so far. */
  awaitBarrier(callback: () => void): void {
    this.#barriers.push({ target: this.written + this.queuedMessages, callback });
    this.#maybeBarrierPing();
  }

  /** Sends a ping, unless one is outstanding or there is no open socket. */
  ping(): void {
    const socket = this.socket;
    if (socket === undefined || this.#ping !== undefined || socket.readyState !== WebSocket.OPEN) return;
    const id = this.#nextPingId++ >>> 0;
    this.#ping = { id, sentAt: performance.now(), covers: this.written, bulkBytes: this.bulkBytesWritten };
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(id);
    socket.ping(payload);
  }

  /** Milliseconds the outstanding ping has waited, or 0. */
  pingAge(now: number): number {
    return this.#ping === undefined ? 0 : now - this.#ping.sentAt;
  }

  #maybeBarrierPing(): void {
    const first = this.#barriers[0];
    if (first !== undefined && this.written >= first.target) this.ping();
  }

  readonly #pong = (data: Buffer): void => {
    const ping = this.#ping;
    if (ping === undefined || data.byteLength !== 4 || data.readUInt32BE(0) !== ping.id) return;
    this.#ping = undefined;
    this.bulkBytesAcknowledged = ping.bulkBytes;
    if (this.name === 'control') this.link.roundTrip(performance.now() - ping.sentAt);
    const due = this.#barriers.filter((barrier) => barrier.target <= ping.covers);
    this.#barriers = this.#barriers.filter((barrier) => barrier.target > ping.covers);
    for (const barrier of due) barrier.callback();
    this.#maybeBarrierPing();
  };

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN || this.held) return;
    const batches = this.#batches;
    while (this.#queuedMessages > 0) {
      if (socket.bufferedAmount >= SOCKET_HIGH_WATER) {
        // The open batch stays open: it fills up while the socket drains.
        this.#blocked = true;
        break;
      }
      if (this.#head === batches.length) this.#close();
      const batch = batches[this.#head]!;
      batches[this.#head++] = undefined;
      this.#queuedMessages -= batch.messages;
      this.queuedBytes -= batch.bytes.byteLength;
      this.#queuedBulkBytes -= batch.bulkBytes;
      this.bulkBytesWritten += batch.bulkBytes;
      this.written += batch.messages;
      socket.send(batch.bytes, SEND_OPTIONS, this.#written);
      const counters = this.link.counters;
      counters.messagesSent += batch.messages;
      if (this.name === 'bulk') counters.bulkMessagesSent += batch.messages;
      counters.bytesSent += batch.bytes.byteLength;
    }
    if (this.#head === batches.length) {
      if (this.#head > 0) {
        this.#batches = [];
        this.#head = 0;
      }
    } else if (this.#head > 1024) {
      this.#batches = batches.slice(this.#head);
      this.#head = 0;
    }
    this.#maybeBarrierPing();
    this.link.flushed(this);
  };

  /** A write reached the socket: resume a flush that stopped at the high-water mark. */
  readonly #written = (): void => {
    if (!this.#blocked) return;
    const socket = this.socket;
    if (socket === undefined || socket.bufferedAmount >= SOCKET_HIGH_WATER / 2) return;
    this.#blocked = false;
    this.#scheduleFlush();
  };
}

