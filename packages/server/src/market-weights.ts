/**
 * The weighted market cluster: vote weights that come from the replicated market.
 *
 * - After each committed settlement round (and when the strategy in force changes, or a node
 *   becomes leader), the leader runs a weight epoch: the score inputs are read from the
 *   replicated market state, scored with the replicated strategy in force, turned into integer
 *   weights with the fault-tolerance guard, and proposed by joint consensus. Any leader computes
 *   the same weights from the same log.
 * - A node that lacks the strategy in force (a custom module it was not configured with) refuses
 *   to lead: when it becomes leader it hands leadership to another voter, and runs no epoch.
 * - Participation (eq. 19) is replicated: the leader signs, with its participant key, a
 *   `recordParticipation` transaction per commit quorum of client transactions it measured, and
 *   proposes them in batches, so the participation scores are market state like the rest.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { CommitQuorum, NodeId, NodeStatus } from '@greenraft/consensus';
import { type MarketTransaction, type SignedTransaction, encodeTransactions, publicKeyToBase64Url, signTransaction } from '@greenraft/power-market';
import type { NodeScoreInput, ScoringStrategy } from '@greenraft/weight-scoring';
import type { WeightedRaftNode } from '@greenraft/weighted-raft';
import type { Logger } from 'pino';
import { encodeEntry } from './entry.js';
import type { ScoringRegistry } from './scoring.js';
import type { AppliedEntry, ScoringSelection, ServerStateMachine } from './state-machine.js';

/** A transaction body without the fields the signer fills in. */
export type UnsignedTransaction = DistributiveOmit<MarketTransaction, 'signer' | 'nonce'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Signs this node's own market transactions with its participant key (`market.participantKeyFile`). */
export class ParticipantSigner {
  readonly id: string;
  readonly publicKey: string;
  readonly #key: KeyObject;
  readonly #marketId: string;
  readonly #state: ServerStateMachine;
  #lastNonce = 0;

  constructor(id: string, pem: string, marketId: string, state: ServerStateMachine) {
    this.#key = createPrivateKey(pem);
    if (this.#key.asymmetricKeyType !== 'ed25519') throw new TypeError('the participant key is not an ed25519 private key');
    this.id = id;
    this.publicKey = publicKeyToBase64Url(this.#key);
    this.#marketId = marketId;
    this.#state = state;
  }

  /**
   * Signs `body` as this node with the next nonce: above the market's last one for this node,
   * above any this process used, and at least the clock in ms, so a restart never reuses one.
   * Fields a participant usually leaves out get `marketClient`'s defaults: a registration's
   * `publicKey` (this node's) and `renewable` (false), a contract's `handlingFee` (0), and a
   * carbon record's `quota`, `purchased` and `emitted` (0).
   */
  sign(body: UnsignedTransaction): SignedTransaction {
    const replicated = this.#state.market?.node(this.id)?.lastNonce ?? 0;
    const nonce = Math.max(replicated + 1, this.#lastNonce + 1, Date.now());
    const signed = signTransaction({ ...withDefaults(body, this.publicKey), signer: this.id, nonce } as MarketTransaction, this.#key, { marketId: this.#marketId });
    this.#lastNonce = nonce;
    return signed;
  }
}

function withDefaults(body: UnsignedTransaction, publicKey: string): Record<string, unknown> {
  const fields = body as Record<string, unknown>;
  switch (fields.type) {
    case 'registerNode':
      return { renewable: false, publicKey, ...fields };
    case 'proposeContract':
      return { handlingFee: 0, ...fields };
    case 'recordCarbon':
      return { quota: 0, purchased: 0, emitted: 0, ...fields };
    default:
      return fields;
  }
}

/** Options of {@link MarketWeighting}. */
export interface MarketWeightingInit {
  readonly id: NodeId;
  readonly state: ServerStateMachine;
  readonly registry: ScoringRegistry;
  readonly logger: Logger;
  readonly signer: ParticipantSigner | undefined;
  readonly participation: { readonly enabled: boolean; readonly intervalMs: number; readonly maxPerEntry: number };
  /** Deadline of an epoch's configuration change and of a leadership transfer. */
  readonly timeoutMs: number;
}

/** A voter the market does not know (yet) scores as a newcomer: no credit, no volume, nothing held. */
function newcomer(id: NodeId): NodeScoreInput {
  return { id, kind: 'consumption', creditWeight: 0, contracted: 0, actual: 0, participation: 0, greenCertificates: 0, carbonSettlement: 0 };
}

/** Drives the weights of a weighted market cluster from the replicated market. */
export class MarketWeighting {
  readonly #init: MarketWeightingInit;
  #node: WeightedRaftNode<AppliedEntry> | undefined;
  #epochRunning = false;
  #epochAgain = false;
  #refusing = false;
  #stopped = false;
  #participationTimer: ReturnType<typeof setInterval> | undefined;
  #quorumCursor = 0;
  /** Commit quorums of client transactions measured while leading, not yet recorded. */
  readonly #pendingQuorums: NodeId[][] = [];
  #recording = false;
  /** The strategy the weighted node scores with: always the one in force in the replicated state. */
  readonly strategy: ScoringStrategy;

  constructor(init: MarketWeightingInit) {
    this.#init = init;
    const registry = init.registry;
    const state = init.state;
    this.strategy = {
      get name() {
        const selection = state.scoring;
        return `${selection.name}@${selection.version}`;
      },
      score: (nodes) => registry.strategy(state.scoring).score(nodes),
    };
  }

  /** The weighted node's `scoreInputs`: every voter's inputs from the replicated market. */
  scoreInputs = (context: { readonly voters: ReadonlyMap<NodeId, number> }): NodeScoreInput[] => {
    const market = this.#init.state.market!;
    const inputs = new Map(market.scoreInputs().map((input) => [input.id, input]));
    return [...context.voters.keys()].map((id) => inputs.get(id) ?? newcomer(id));
  };

  /** Whether this node can compute the strategy in force. */
  available(selection: ScoringSelection = this.#init.state.scoring): boolean {
    try {
      this.#init.registry.strategy(selection);
      return true;
    } catch {
      return false;
    }
  }

  attach(node: WeightedRaftNode<AppliedEntry>): void {
    this.#node = node;
    node.on('stateChange', ({ to }) => {
      if (to === 'leader') this.#onLeader();
    });
    node.on('commitQuorum', (quorum) => this.#onCommitQuorum(quorum));
    this.#init.state.on('round', () => this.#scheduleEpoch('round'));
    this.#init.state.on('scoringChange', (selection) => {
      if (!this.available(selection)) this.#init.logger.warn({ strategy: `${selection.name}@${selection.version}` }, 'this node lacks the scoring strategy in force: it will not lead');
      if (this.#isLeader()) this.#onLeader();
    });
    if (this.#init.participation.enabled && this.#init.signer !== undefined) {
      this.#participationTimer = setInterval(() => void this.#recordParticipation(), this.#init.participation.intervalMs);
      this.#participationTimer.unref?.();
    }
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#participationTimer);
  }

  #isLeader(): boolean {
    return !this.#stopped && this.#node?.status().role === 'leader';
  }

  #onLeader(): void {
    this.#quorumCursor = this.#node!.status().commitIndex;
    this.#pendingQuorums.length = 0;
    if (!this.available()) {
      this.#refuseToLead().catch((error) => this.#init.logger.error({ err: error }, 'handing leadership over failed'));
      return;
    }
    // A leader that took over after a round catches up the epoch its predecessor may have missed.
    if ((this.#init.state.market?.round() ?? 0) > 0) this.#scheduleEpoch('leader');
  }

  /** Hands leadership to the heaviest caught-up voter, again and again while this node leads and lacks the strategy. */
  async #refuseToLead(): Promise<void> {
    if (this.#refusing) return;
    this.#refusing = true;
    try {
      while (this.#isLeader() && !this.available()) {
        const status = this.#node!.status();
        const target = transferTarget(status, this.#init.id);
        if (target === undefined) {
          this.#init.logger.error({}, 'this node lacks the scoring strategy in force and has no other voter to hand leadership to');
          return;
        }
        const selection = this.#init.state.scoring;
        this.#init.logger.warn({ to: target, strategy: `${selection.name}@${selection.version}` }, 'lacking the scoring strategy in force: handing leadership over');
        try {
          await this.#node!.transferLeadership(target, { timeoutMs: this.#init.timeoutMs });
        } catch (error) {
          this.#init.logger.warn({ to: target, err: error }, 'leadership transfer failed; trying again');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      this.#refusing = false;
    }
  }

  #scheduleEpoch(trigger: string): void {
    if (!this.#isLeader() || !this.available()) return;
    if (this.#epochRunning) {
      this.#epochAgain = true;
      return;
    }
    this.#runEpochs(trigger).catch((error) => this.#init.logger.error({ err: error, trigger }, 'weight epoch failed'));
  }

  async #runEpochs(trigger: string): Promise<void> {
    this.#epochRunning = true;
    try {
      do {
        this.#epochAgain = false;
        if (!this.#isLeader() || !this.available()) return;
        try {
          const outcome = await this.#node!.applyWeights({ timeoutMs: this.#init.timeoutMs });
          if (outcome.changed) {
            this.#init.logger.info({ trigger, weights: Object.fromEntries(outcome.config.incoming.voters), strategy: this.strategy.name }, 'weights follow the market');
          }
        } catch (error) {
          // A change still in flight (an operator's, or the previous epoch's leave step): try again shortly.
          if ((error as { code?: string }).code === 'CONFIGURATION' && /in progress/.test((error as Error).message)) {
            this.#epochAgain = true;
            await new Promise((resolve) => setTimeout(resolve, 100));
          } else this.#init.logger.warn({ err: error, trigger }, 'weight epoch failed');
        }
      } while (this.#epochAgain);
    } finally {
      this.#epochRunning = false;
    }
  }

  #onCommitQuorum(quorum: CommitQuorum): void {
    if (!this.#init.participation.enabled || this.#init.signer === undefined || !this.#isLeader()) return;
    const from = Math.max(this.#quorumCursor, quorum.index - 1024);
    let client = false;
    for (let index = from + 1; index <= quorum.index; index++) if (this.#init.state.opAt(index) === 'market') client = true;
    this.#quorumCursor = Math.max(this.#quorumCursor, quorum.index);
    // Only quorums of client transactions count: recording the records' own quorums would feed on itself.
    if (client && this.#pendingQuorums.length < 4 * this.#init.participation.maxPerEntry) this.#pendingQuorums.push(quorum.acks.map((ack) => ack.id));
  }

  async #recordParticipation(): Promise<void> {
    const signer = this.#init.signer;
    const market = this.#init.state.market;
    if (this.#recording || signer === undefined || market === undefined || !this.#isLeader() || this.#pendingQuorums.length === 0) return;
    if (market.node(signer.id) === undefined) return; // the leader must be a registered participant to sign
    this.#recording = true;
    try {
      const batch = this.#pendingQuorums.splice(0, this.#init.participation.maxPerEntry);
      const transactions: SignedTransaction[] = [];
      for (const acks of batch) {
        // Every listed id must be a registered node; the first is the leader's own acknowledgement.
        const registered = acks.filter((id) => market.node(id) !== undefined);
        if (registered[0] !== signer.id || registered.length < 2) continue;
        transactions.push(signer.sign({ type: 'recordParticipation', acknowledgements: registered }));
      }
      if (transactions.length === 0) return;
      await this.#node!.propose(encodeEntry({ op: 'market.participation' }, encodeTransactions(transactions)), { timeoutMs: this.#init.timeoutMs });
    } catch (error) {
      this.#init.logger.debug({ err: error }, 'participation could not be recorded');
    } finally {
      this.#recording = false;
    }
  }
}

/** The voter to hand leadership to: the heaviest caught-up one, else the most caught-up one. */
export function transferTarget(status: NodeStatus, self: NodeId): NodeId | undefined {
  const voters = [...status.config.incoming.voters].filter(([id, weight]) => id !== self && weight > 0);
  if (voters.length === 0) return undefined;
  const match = (id: NodeId) => status.progress?.get(id)?.match ?? 0;
  voters.sort(([a, wa], [b, wb]) => match(b) - match(a) || wb - wa || (a < b ? -1 : 1));
  const caughtUp = voters.filter(([id]) => match(id) >= status.lastIndex).sort(([a, wa], [b, wb]) => wb - wa || (a < b ? -1 : 1));
  return (caughtUp[0] ?? voters[0])![0];
}
