import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { Lane } from './handshake.js';
import type { DropReason } from './stats.js';

/** Frames of at most this many bytes carry several queued messages. */
export const MAX_BATCH_BYTES = 64 * 1024;
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
  /** Frames written to the lane before the ping: the pong proves the peer has read them all. */
  readonly covers: number;
  /** Bulk-type bytes written before the ping (control lane accounting). */
  readonly bulkBytes: number;
}

/**
 * One lane of a link: a bounded queue in front of one authenticated WebSocket, with pings that
 * double as barriers (a pong proves the peer has read every frame written before its ping, since
 * a WebSocket delivers frames in order and answers a ping when it reads it).
 */
export class LaneQueue {
  socket: WebSocket | undefined;
  #queue: (Buffer | undefined)[] = [];
  /** Whether each queued frame is an AppendEntries or snapshot chunk. */
  #bulkFlags: boolean[] = [];
  #head = 0;
  queuedBytes = 0;
  #queuedBulkBytes = 0;
  peakQueuedBytes = 0;
  /** Frames (messages) written to the current socket. */
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
    return this.#queue.length - this.#head;
  }

  get bufferedBytes(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Bulk-type bytes the peer may not have read yet. */
  get bulkBytesInFlight(): number {
    return this.bulkBytesWritten - this.bulkBytesAcknowledged + this.#queuedBulkBytes;
  }

  /** Queues a frame; returns why it was refused, if it was. */
  enqueue(frame: Buffer, bulkType: boolean): DropReason | undefined {
    const options = this.link.options;
    if (this.queuedMessages >= options.maxQueuedMessages || this.queuedBytes + frame.byteLength > options.maxQueuedBytes) return 'queueFull';
    this.#queue.push(frame);
    this.#bulkFlags.push(bulkType);
    if (bulkType) this.#queuedBulkBytes += frame.byteLength;
    this.queuedBytes += frame.byteLength;
    if (this.queuedBytes > this.peakQueuedBytes) this.peakQueuedBytes = this.queuedBytes;
    this.#scheduleFlush();
    return undefined;
  }

  #scheduleFlush(): void {
    if (this.socket === undefined || this.#flushScheduled || this.#blocked || this.held || this.queuedMessages === 0) return;
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
    const dropped = this.queuedMessages;
    this.#queue = [];
    this.#bulkFlags = [];
    this.#head = 0;
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
    const queue = this.#queue;
    const flags = this.#bulkFlags;
    while (this.#head < queue.length) {
      if (socket.bufferedAmount >= SOCKET_HIGH_WATER) {
        this.#blocked = true;
        break;
      }
      const start = this.#head;
      let end = start + 1;
      let bytes = queue[start]!.byteLength;
      while (end < queue.length && bytes + queue[end]!.byteLength <= MAX_BATCH_BYTES) bytes += queue[end++]!.byteLength;
      const payload = end - start === 1 ? queue[start]! : Buffer.concat(queue.slice(start, end) as Buffer[], bytes);
      let bulkBytes = 0;
      for (let i = start; i < end; i++) {
        if (flags[i]) bulkBytes += queue[i]!.byteLength;
        queue[i] = undefined;
      }
      this.#head = end;
      this.queuedBytes -= bytes;
      this.#queuedBulkBytes -= bulkBytes;
      this.bulkBytesWritten += bulkBytes;
      this.written += end - start;
      socket.send(payload, SEND_OPTIONS, this.#written);
      this.link.counters.messagesSent += end - start;
      if (this.name === 'bulk') this.link.counters.bulkMessagesSent += end - start;
      this.link.counters.bytesSent += bytes;
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#bulkFlags = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = queue.slice(this.#head);
      this.#bulkFlags = flags.slice(this.#head);
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

