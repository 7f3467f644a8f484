import type { Snapshot } from '@greenraft/consensus';

/** Retransmission timing of snapshot chunks, in ticks. */
export interface ChunkTiming {
  /** The timeout before any round trip to the follower was measured. */
  readonly initial: number;
  /** The shortest timeout a measured round trip may give. */
  readonly min: number;
}

/** Consecutive timeouts of one chunk double its timeout, up to 2^6 times. */
const MAX_BACKOFF = 6;

/**
 * The leader's side of one InstallSnapshot transfer to one follower (flow control as etcd-io/raft
 * keeps a follower in snapshot state paused): one chunk in flight at a time. The next chunk leaves
 * only when an answer moves the follower's offset past what it had confirmed, so duplicated or
 * stale answers send nothing. A chunk is sent again only when its answer is overdue: after a
 * retransmission timeout in ticks (RFC 6298: smoothed round trip + 4 × its variation, doubled per
 * consecutive timeout of the chunk), or, when the follower fell silent (a break) or the transport
 * reported it unreachable, as soon as the follower answers anything again. A resend starts at the
 * offset the follower last reported, so a transfer survives a break or a follower restart without
 * starting over (unless the follower lost what it had).
 *
 * Round trips are measured on chunks sent once (Karn's rule). A resent chunk whose answer comes
 * twice was resent needlessly: the first answer timed the first copy, and that round trip is
 * measured too, so on a link slower than the timeout the timeout grows to fit it instead of every
 * chunk going twice (and each needless copy delaying the next chunk further).
 */
export class SnapshotTransfer {
  /** Bytes the follower confirmed holding: the next chunk (or the one in flight) starts here. */
  private confirmed = 0;
  private inFlight = false;
  /** The chunk at `confirmed` left more than once: its round trip cannot be measured (Karn's rule). */
  private resent = false;
  /** The tick the chunk at `confirmed` first left. */
  private firstSentTick = 0;
  /** Ticks since the chunk in flight (last) left. */
  private waited = 0;
  /** The follower answered something since the chunk in flight left. */
  private heard = false;
  private backoff = 0;
  private smoothedRtt: number | undefined;
  private rttVariation = 0;
  /** The round trip of a resent chunk's first copy, if its answer turns out to be that copy's (a second answer follows). */
  private unconfirmedRtt: number | undefined;
  /** The lowest offset below `confirmed` the follower reported since it last moved on: it lost what it had. */
  private rewind: number | undefined;

  constructor(
    readonly snapshot: Snapshot,
    private readonly timing: ChunkTiming,
  ) {}

  /** Where the next chunk starts. */
  get offset(): number {
    return this.confirmed;
  }

  /** Ticks the chunk in flight may go unanswered before it is sent again. */
  get timeout(): number {
    const base =
      this.smoothedRtt === undefined ? this.timing.initial : Math.max(this.timing.min, Math.ceil(this.smoothedRtt + 4 * this.rttVariation));
    return base * 2 ** this.backoff;
  }

  /** The chunk at {@link offset} left at `tick`. */
  sent(tick: number): void {
    if (!this.resent) this.firstSentTick = tick;
    this.inFlight = true;
    this.waited = 0;
    this.heard = false;
  }

  /**
   * The follower answered a chunk, holding `offset` bytes. Returns true when that moves past what it
   * had confirmed: send the next chunk.
   */
  answered(offset: number, tick: number): boolean {
    this.heard = true;
    const held = Math.min(offset, this.snapshot.data.byteLength);
    if (held > this.confirmed) {
      if (!this.resent) this.measure(tick - this.firstSentTick);
      this.unconfirmedRtt = this.resent ? tick - this.firstSentTick : undefined;
      this.backoff = 0;
      this.confirmed = held;
      this.inFlight = false;
      this.resent = false;
      this.rewind = undefined;
      return true;
    }
    if (held === this.confirmed && this.unconfirmedRtt !== undefined) {
      // The second answer to a resent chunk: both copies arrived, the first answer was the first copy's.
      this.measure(this.unconfirmedRtt);
      this.unconfirmedRtt = undefined;
    }
    // A stale answer, or a follower that lost its partial snapshot: acted on at the next resend only.
    if (held < this.confirmed) this.rewind = Math.min(this.rewind ?? held, held);
    return false;
  }

  /**
   * The follower answered something (a heartbeat, say). Returns true when the chunk was given up
   * as lost (a break, an unreachable report): send it again now.
   */
  contact(): boolean {
    this.heard = true;
    if (this.inFlight) return false;
    this.prepareResend();
    return true;
  }

  /** One tick passed. Returns true when the chunk in flight is overdue and the follower is alive: send it again now. */
  tick(): boolean {
    if (!this.inFlight || ++this.waited < this.timeout) return false;
    if (!this.heard) {
      // Nothing at all came back: the link is down. Resend once the follower answers again.
      this.inFlight = false;
      return false;
    }
    this.backoff = Math.min(this.backoff + 1, MAX_BACKOFF);
    this.prepareResend();
    return true;
  }

  /** The transport could not deliver to the follower: the chunk in flight is lost. */
  unreachable(): void {
    this.inFlight = false;
  }

  private prepareResend(): void {
    this.resent = true;
    if (this.rewind !== undefined) this.confirmed = this.rewind;
    this.rewind = undefined;
  }

  /** RFC 6298 §2: smoothed round trip and its variation, from one measured round trip in ticks. */
  private measure(rtt: number): void {
    if (this.smoothedRtt === undefined) {
      this.smoothedRtt = rtt;
      this.rttVariation = rtt / 2;
      return;
    }
    this.rttVariation = 0.75 * this.rttVariation + 0.25 * Math.abs(this.smoothedRtt - rtt);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * rtt;
  }
}
