/**
 * The client API's one handler: both protocols (WebSocket and HTTP) hand it parsed requests and
 * turn its answers and `ApiError`s into frames and responses. Writes go through the leader (a
 * follower forwards them, one hop at most); linearizable reads are served here after a read
 * barrier (ReadIndex); membership, weight and scoring changes run on the leader.
 */
import {
  AbortError,
  type ClusterConfig,
  type Configuration,
  ConfigurationError,
  type ConsensusNode,
  InvalidArgumentError,
  NotLeaderError,
  ProposalDroppedError,
  StoppedError,
  TimeoutError,
  configuration,
  configurationToJSON,
  isGreenraftError,
  members as membersOf,
} from '@greenraft/consensus';
import { type SignedTransaction, encodeTransactions, parseSignedTransaction, verifyTransactionSignature } from '@greenraft/power-market';
import { satisfiesFaultToleranceGuard } from '@greenraft/weight-scoring';
import type { ServerConfig } from './config.js';
import { type EntryHeader, encodeEntry, entryFingerprint } from './entry.js';
import { ApiError, type LeaderHint, RETRY_AFTER_MS, isLeaderMoving, noLeader, outcomeUnknown } from './errors.js';
import { type ApiRequest, type Consistency, type KvWriteRequest, ONE_STEP_CLUSTER_OPS, isClusterOp, kvCommandRequest } from './protocol.js';
import type { ParticipantSigner, UnsignedTransaction } from './market-weights.js';
import type { ScoringRegistry } from './scoring.js';
import type { AppliedEntry, MemberAddresses, ServerStateMachine } from './state-machine.js';

const encoder = new TextEncoder();
export { RETRY_AFTER_MS };

function isAborted(context: RequestContext): boolean {
  return context.signal?.aborted === true;
}


/** Who is asking, as the protocol layer established it. */
export interface RequestContext {
  /** The client id idempotency keys are scoped to (the bearer token's subject, `Client-Id`, or `hello`'s `clientId`). */
  readonly clientId: string;
  /** True when another node forwarded the request: it is not forwarded again. */
  readonly forwarded: boolean;
  /** Aborted when the client went away. */
  readonly signal?: AbortSignal;
  /** When the request's deadline passes (`performance.now()` time): for a forwarded request, the one its first node gave; else the handler sets it from `client.requestTimeoutMs`. */
  readonly deadline?: number;
}

/** What the handler needs from its server. */
export interface HandlerHost {
  readonly config: ServerConfig;
  readonly node: ConsensusNode<AppliedEntry>;
  readonly state: ServerStateMachine;
  readonly scoring: ScoringRegistry;
  /** Why requests cannot be served now (starting, stopping, removed), or `undefined`. */
  unavailable(): ApiError | undefined;
  /** The leader and its client URL, when known. */
  leaderHint(): LeaderHint | undefined;
  /** Resolves when this node next learns of a leader, after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  nextLeader(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Every member's addresses: the configuration's peers overlaid with the members added and removed at run time. */
  directory(): ReadonlyMap<string, MemberAddresses>;
  /** Sends a request to the leader's client API and relays its answer. */
  forward(request: ApiRequest, context: RequestContext): Promise<unknown>;
  /** True while this leader's lease holds: a quorum heard from within an election timeout, and its own-term entry applied. */
  leaseHolds(): boolean;
  /** The `cluster.status` answer. */
  status(): Record<string, unknown>;
  /** The weights the market's replicated state gives under the strategy in force (market clusters). */
  marketWeights(): Record<string, unknown>;
  /** Counts a proposal this node made while it is pending. */
  trackProposal<T>(proposal: Promise<T>): Promise<T>;
  /** Signs this node's own market transactions, when its configuration names a participant key. */
  readonly signer: ParticipantSigner | undefined;
  /** Tells a member it was removed (best effort). */
  notifyRemoved(member: string, clientUrl: string | undefined): void;
}

/** A configuration in the protocol's JSON form. */
export function clusterConfigJSON(config: ClusterConfig): Record<string, unknown> {
  const incoming = configurationToJSON(config.incoming);
  return { voters: incoming.voters, learners: incoming.learners, outgoing: config.outgoing === undefined ? null : configurationToJSON(config.outgoing) };
}

/** An engine or market error as the client API answers it. */
export function apiErrorOf(error: unknown, leader: LeaderHint | undefined): ApiError {
  if (error instanceof ApiError) return error;
  const hint = leader === undefined ? {} : { leader };
  if (error instanceof NotLeaderError) {
    return error.leader === undefined ? noLeader(undefined, { cause: error }) : noLeader(leader ?? { id: error.leader }, { message: `not the leader; the leader is ${error.leader}`, cause: error });
  }
  if (error instanceof ProposalDroppedError) {
    const reason = error.reason === 'overloaded' ? 'OVERLOADED' : 'LEADER_CHANGING';
    return new ApiError('UNAVAILABLE', `${error.message}; retry (with the same idempotency key)`, { retryAfterMs: RETRY_AFTER_MS, ...hint, reason, cause: error });
  }
  if (error instanceof TimeoutError) return new ApiError('TIMEOUT', `${error.message}; the outcome is unknown: retry with the same idempotency key`, { cause: error });
  if (error instanceof StoppedError || error instanceof AbortError) {
    return new ApiError('UNAVAILABLE', 'the node is stopping', { retryAfterMs: RETRY_AFTER_MS, ...hint, cause: error });
  }
  if (error instanceof ConfigurationError) {
    return /in progress|in flight|still/.test(error.message) ? new ApiError('CONFLICT', error.message, { cause: error }) : new ApiError('BAD_REQUEST', error.message, { cause: error });
  }
  if (error instanceof InvalidArgumentError) return new ApiError('BAD_REQUEST', error.message, { cause: error });
  if (isGreenraftError(error) && ['INVALID_TRANSACTION', 'INVALID_QUANTITY', 'INVALID_ENCODING'].includes(error.code)) {
    return new ApiError('BAD_REQUEST', error.message, { reason: error.code, cause: error });
  }
  return new ApiError('INTERNAL', `unexpected error: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function outcomeValue(applied: AppliedEntry): Record<string, unknown> {
  const outcome = applied.outcome;
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message, outcome.reason === undefined ? {} : { reason: outcome.reason });
  return (outcome.value ?? {}) as Record<string, unknown>;
}

/** The handler of one server. */
export class ApiHandler {
  readonly #host: HandlerHost;
  /** One membership, weight or scoring change at a time, from this node. */
  #changing = false;
  /** This node's own transactions, signed once per (client, idempotency key), so a retry resends the same bytes. */
  readonly #ownSigned = new Map<string, SignedTransaction>();

  constructor(host: HandlerHost) {
    this.#host = host;
  }

  /**
   * Serves one request.
   * @throws {@link ApiError} for every failure, with its code and status.
   */
  async handle(request: ApiRequest, context: RequestContext): Promise<unknown> {
    const { requestTimeoutMs, leaderWaitMs } = this.#host.config.client;
    const start = performance.now();
    const deadline = context.deadline ?? start + requestTimeoutMs;
    const timed: RequestContext = { ...context, deadline };
    // A read, a write or a one-step cluster change that meets a leader change waits for the next
    // leader (as long as the leader wait and its deadline allow) and is tried again; one forwarded
    // here is not, since the node it came from waits instead, and neither is a membership change,
    // which may have gone half-way.
    const held = !context.forwarded && (!isClusterOp(request.op) || ONE_STEP_CLUSTER_OPS.has(request.op));
    const holdUntil = held ? Math.min(start + leaderWaitMs, deadline) : start;
    for (let pause = 25; ; pause = Math.min(2 * pause, RETRY_AFTER_MS)) {
      try {
        return await this.#dispatch(request, timed);
      } catch (error) {
        const left = holdUntil - performance.now();
        if (!isLeaderMoving(error) || left <= 0 || isAborted(context) || this.#host.unavailable() !== undefined) throw error;
        // The next leader, or a short pause (a stale leader hint, a hand-over that was given up).
        await this.#host.nextLeader(Math.min(left, pause), context.signal);
        if (isAborted(context) || (performance.now() >= holdUntil && this.#host.leaderHint() === undefined)) throw error;
      }
    }
  }

  /** The time left of the request's deadline, at least 1 ms. */
  #timeLeft(context: RequestContext): number {
    const { requestTimeoutMs } = this.#host.config.client;
    return Math.max(1, Math.ceil((context.deadline ?? performance.now() + requestTimeoutMs) - performance.now()));
  }

  async #dispatch(request: ApiRequest, context: RequestContext): Promise<unknown> {
    const unavailable = this.#host.unavailable();
    if (unavailable !== undefined && request.op !== 'cluster.status') throw unavailable;
    switch (request.op) {
      case 'put':
      case 'cas':
      case 'delete':
        return this.#kvWrite(request, context);
      case 'get':
        return this.#kvRead(request, context);
      case 'propose':
        return this.#proposeCommand(request, context);
      case 'market.submit':
        return this.#marketSubmit(request, context);
      case 'market.submitOwn':
        return this.#marketSubmitOwn(request, context);
      case 'market.query':
        return this.#marketQuery(request, context);
      case 'cluster.status':
        return this.#host.status();
      case 'cluster.addMember':
      case 'cluster.removeMember':
      case 'cluster.setWeights':
      case 'cluster.setScoring':
        return this.#onLeader(request, context, () => this.#exclusive(() => this.#change(request)));
      case 'cluster.transferLeader':
        return this.#onLeader(request, context, () => this.#transfer(request.to));
    }
  }

  // ─────────────── writes

  #requireKv(): void {
    if (this.#host.state.kind !== 'kv') throw new ApiError('BAD_REQUEST', 'this node runs the market state machine, not the KV store');
  }

  #requireMarket(): NonNullable<ServerStateMachine['market']> {
    const market = this.#host.state.market;
    if (market === undefined) throw new ApiError('BAD_REQUEST', 'this node runs the KV store, not the market state machine');
    return market;
  }

  #checkValue(value: string, field: string): Uint8Array {
    const bytes = encoder.encode(value);
    if (bytes.length > this.#host.config.client.maxValueBytes) {
      throw new ApiError('TOO_LARGE', `${field} is ${bytes.length} bytes, above maxValueBytes (${this.#host.config.client.maxValueBytes})`);
    }
    return bytes;
  }

  async #kvWrite(request: KvWriteRequest, context: RequestContext): Promise<Record<string, unknown>> {
    this.#requireKv();
    const session = request.idempotencyKey === undefined ? {} : { c: context.clientId, k: request.idempotencyKey };
    let header: EntryHeader;
    let payload: Uint8Array | undefined;
    if (request.op === 'put') {
      header = { op: 'kv.put', key: request.key, ...session };
      payload = this.#checkValue(request.value, 'value');
    } else if (request.op === 'cas') {
      if (request.from !== null) this.#checkValue(request.from, 'from');
      header = { op: 'kv.cas', key: request.key, from: request.from, ...session };
      payload = this.#checkValue(request.to, 'to');
    } else header = { op: 'kv.delete', key: request.key, ...session };
    return this.#write(request, context, header, payload);
  }

  /**
   * Proposes the entry of a write on the leader and answers with its outcome's value and index,
   * or forwards the request to the leader.
   */
  #write(request: ApiRequest, context: RequestContext, header: EntryHeader, payload?: Uint8Array): Promise<Record<string, unknown>> {
    return this.#onLeader<Record<string, unknown>>(request, context, async () => {
      const applied = await this.#applyOnLeader(header, payload, context);
      return { ...outcomeValue(applied), index: applied.index };
    });
  }

  async #applyOnLeader(header: EntryHeader, payload: Uint8Array | undefined, context: RequestContext): Promise<AppliedEntry> {
    // A key this leader already applied is answered from its session, without a new entry.
    const session = 'c' in header && 'k' in header ? { client: header.c, key: header.k } : undefined;
    if (session?.client !== undefined && session.key !== undefined) {
      const known = this.#host.state.sessions.lookup(session.client, session.key);
      if (known !== undefined) {
        if (known.fingerprint === entryFingerprint({ header, payload: payload ?? new Uint8Array(0) })) {
          return { index: known.index, duplicate: true, op: header.op, outcome: known.outcome };
        }
        throw new ApiError('CONFLICT', `idempotency key ${JSON.stringify(session.key)} was used by client ${JSON.stringify(session.client)} for another request`);
      }
    }
    return this.#propose(encodeEntry(header, payload), context);
  }

  async #propose(data: Uint8Array, context: RequestContext): Promise<AppliedEntry> {
    const options = { timeoutMs: this.#timeLeft(context), ...(context.signal === undefined ? {} : { signal: context.signal }) };
    const { result } = await this.#host.trackProposal(this.#host.node.propose(data, options));
    return result;
  }

  /**
   * Runs `body` if this node leads; otherwise forwards the request (once: a forwarded request
   * that finds no leader here fails with UNAVAILABLE and the leader's hint).
   */
  async #onLeader<T = unknown>(request: ApiRequest, context: RequestContext, body: () => Promise<T>): Promise<T> {
    const status = this.#host.node.status();
    if (status.role === 'leader') {
      try {
        return await body();
      } catch (error) {
        // Lost leadership between the check and the proposal: forward to the new leader, if one is known.
        if (error instanceof NotLeaderError && !context.forwarded && error.leader !== undefined && error.leader !== this.#host.config.id) {
          return this.#host.forward(request, context) as Promise<T>;
        }
        // A write or change under way when the node stopped (or the client left) may still commit.
        if (error instanceof StoppedError || error instanceof AbortError) throw outcomeUnknown(`${request.op} was under way when ${error instanceof StoppedError ? 'the node stopped' : 'it was aborted'}`, error);
        throw apiErrorOf(error, this.#host.leaderHint());
      }
    }
    const leader = this.#host.leaderHint();
    if (context.forwarded || leader === undefined || leader.id === this.#host.config.id) throw noLeader(leader);
    return this.#host.forward(request, context) as Promise<T>;
  }

  /**
   * `propose`: the command, checked by the running state machine's schema, goes through the
   * operation it stands for (put, cas, delete or market.submit), so it shares that operation's
   * checks, session and forwarding; the answer is that operation's, as `{ index, result }`.
   */
  async #proposeCommand(request: Extract<ApiRequest, { op: 'propose' }>, context: RequestContext): Promise<unknown> {
    const { command, idempotencyKey } = request;
    let answer: Record<string, unknown>;
    if (this.#host.state.kind === 'kv') {
      answer = await this.#kvWrite(kvCommandRequest(command, idempotencyKey), context);
    } else {
      if (!Object.hasOwn(command, 'transaction') && typeof command.type === 'string') {
        throw new ApiError('BAD_REQUEST', 'propose: command.transaction: this node runs the market state machine: a command is a signed transaction ({ transaction, signature })');
      }
      const submit: Extract<ApiRequest, { op: 'market.submit' }> = { op: 'market.submit', transaction: command, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) };
      answer = await this.#marketSubmit(submit, context, 'propose: command: ');
    }
    const { index, ...result } = answer;
    return { index, result };
  }

  // ─────────────── reads

  /** Waits until this node may serve a read at `level` from its own state; false when the read must go to the leader. */
  async #readable(level: Consistency, context: RequestContext): Promise<boolean> {
    if (level === 'stale') return true;
    const node = this.#host.node;
    const options = { timeoutMs: this.#timeLeft(context), ...(context.signal === undefined ? {} : { signal: context.signal }) };
    if (level === 'lease') {
      if (node.status().role === 'leader') {
        if (this.#host.leaseHolds()) return true;
      } else if (!context.forwarded && this.#host.leaderHint() !== undefined) return false;
    }
    try {
      await node.readBarrier(options);
      return true;
    } catch (error) {
      const leader = this.#host.leaderHint();
      // The follower could not get a read index: the leader can still serve the read itself.
      if (error instanceof NotLeaderError && !context.forwarded && leader !== undefined && leader.id !== this.#host.config.id) return false;
      throw apiErrorOf(error, leader);
    }
  }

  async #kvRead(request: Extract<ApiRequest, { op: 'get' }>, context: RequestContext): Promise<unknown> {
    this.#requireKv();
    if (!(await this.#readable(request.consistency, context))) return this.#host.forward(request, context);
    const stored = this.#host.state.kv.get(request.key);
    return { value: stored?.value ?? null, index: stored?.index ?? 0, readIndex: this.#host.state.appliedIndex };
  }

  // ─────────────── market

  /** `problemPrefix` says where a malformed transaction sits in the request (`propose: command: `). */
  async #marketSubmit(request: Extract<ApiRequest, { op: 'market.submit' }>, context: RequestContext, problemPrefix = ''): Promise<Record<string, unknown>> {
    const market = this.#requireMarket();
    let signed: SignedTransaction;
    try {
      signed = parseSignedTransaction(request.transaction);
    } catch (error) {
      const apiError = apiErrorOf(error, undefined);
      if (problemPrefix === '') throw apiError;
      throw new ApiError(apiError.code, `${problemPrefix}${apiError.message}`, { ...(apiError.reason === undefined ? {} : { reason: apiError.reason }), cause: error });
    }
    // Checked before proposing, so a bad signature never reaches the log; the market checks again on apply.
    const tx = signed.transaction;
    const options = { marketId: market.marketId };
    const registered = market.node(tx.signer);
    const key = tx.type === 'registerNode' ? tx.publicKey : registered?.publicKey;
    if (key !== undefined && !verifyTransactionSignature(signed, key, options)) {
      throw new ApiError('REJECTED', `the signature of ${tx.signer}'s ${tx.type} does not verify`, { reason: 'INVALID_SIGNATURE' });
    }
    const isLeader = this.#host.node.status().role === 'leader';
    if (isLeader && registered === undefined && tx.type !== 'registerNode') {
      throw new ApiError('REJECTED', `unknown node ${tx.signer}: a participant registers first`, { reason: 'UNKNOWN_NODE' });
    }
    const session = request.idempotencyKey === undefined ? {} : { c: context.clientId, k: request.idempotencyKey };
    if (isLeader && registered !== undefined && tx.nonce <= registered.lastNonce && request.idempotencyKey === undefined) {
      throw new ApiError('REJECTED', `nonce ${tx.nonce} of ${tx.signer} is not above its last one (${registered.lastNonce})`, { reason: 'REPLAYED_NONCE' });
    }
    return this.#write(request, context, { op: 'market', ...session }, encodeTransactions([signed]));
  }

  async #marketSubmitOwn(request: Extract<ApiRequest, { op: 'market.submitOwn' }>, context: RequestContext): Promise<unknown> {
    this.#requireMarket();
    const signer = this.#host.signer;
    if (signer === undefined) throw new ApiError('BAD_REQUEST', 'this node has no participant key (market.participantKeyFile) to sign with');
    const cacheKey = request.idempotencyKey === undefined ? undefined : `${context.clientId}\0${request.idempotencyKey}`;
    let signed = cacheKey === undefined ? undefined : this.#ownSigned.get(cacheKey);
    if (signed === undefined) {
      try {
        signed = signer.sign(request.transaction as unknown as UnsignedTransaction);
      } catch (error) {
        throw apiErrorOf(error, undefined);
      }
      if (cacheKey !== undefined) {
        if (this.#ownSigned.size >= 1024) this.#ownSigned.delete(this.#ownSigned.keys().next().value as string);
        this.#ownSigned.set(cacheKey, signed);
      }
    }
    const submit: Extract<ApiRequest, { op: 'market.submit' }> = {
      op: 'market.submit',
      transaction: signed,
      ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
    };
    return this.#marketSubmit(submit, context);
  }

  async #marketQuery(request: Extract<ApiRequest, { op: 'market.query' }>, context: RequestContext): Promise<unknown> {
    const market = this.#requireMarket();
    if (!(await this.#readable(request.consistency, context))) return this.#host.forward(request, context);
    const state = this.#host.state;
    switch (request.what) {
      case 'balances': {
        const nodes: Record<string, number> = {};
        for (const node of market.nodes()) nodes[node.id] = node.balance;
        return { unit: 'milli-yuan', nodes, grid: market.gridBalance() };
      }
      case 'nodes':
        return { nodes: market.nodes() };
      case 'contracts': {
        if (request.id !== undefined) {
          const contract = market.contract(request.id);
          if (contract === undefined) throw new ApiError('NOT_FOUND', `no contract ${request.id}`);
          return { contract };
        }
        return { contracts: state.contractIds.map((id) => market.contract(id)).filter((contract) => contract !== undefined) };
      }
      case 'certificates': {
        const holdings: Record<string, number> = {};
        for (const node of market.nodes()) holdings[node.id] = market.greenCertificates(node.id);
        return { holdings, offers: market.offers() };
      }
      case 'weights':
        return this.#host.marketWeights();
      case 'carbon': {
        const nodes: Record<string, unknown> = {};
        for (const node of market.nodes()) nodes[node.id] = { cycle: node.carbonCycle, settlement: node.carbonSettlement };
        return { round: market.round(), nodes };
      }
      case 'ledger': {
        const blocks = market.ledger();
        const from = request.from ?? 1;
        const limit = request.limit ?? 100;
        const decoder = new TextDecoder();
        return {
          height: blocks.length,
          blocks: blocks.slice(from - 1, from - 1 + limit).map((block) => ({
            header: block.header,
            hash: block.hash,
            transactions: block.transactions.map((bytes) => JSON.parse(decoder.decode(bytes)) as unknown),
          })),
        };
      }
      case 'head':
        return { ...market.ledgerHead(), round: market.round(), serverAppliedIndex: state.appliedIndex };
    }
  }

  // ─────────────── cluster changes (on the leader)

  async #exclusive<T>(body: () => Promise<T>): Promise<T> {
    if (this.#changing) throw new ApiError('CONFLICT', 'another membership, weight or scoring change is in progress on this node');
    this.#changing = true;
    try {
      return await body();
    } finally {
      this.#changing = false;
    }
  }

  #adminOptions() {
    return { timeoutMs: this.#host.config.client.adminTimeoutMs };
  }

  async #change(request: Extract<ApiRequest, { op: 'cluster.addMember' | 'cluster.removeMember' | 'cluster.setWeights' | 'cluster.setScoring' }>): Promise<unknown> {
    const node = this.#host.node;
    const status = node.status();
    if (request.op !== 'cluster.setScoring' && status.config.outgoing !== undefined) {
      throw new ApiError('CONFLICT', 'a configuration change is still in progress; retry once it completes', { retryAfterMs: RETRY_AFTER_MS });
    }
    const current = status.config.incoming;
    switch (request.op) {
      case 'cluster.addMember': {
        if (membersOf(status.config).has(request.member)) throw new ApiError('CONFLICT', `${request.member} is already a member`);
        checkUrl(request.peerUrl, ['ws:', 'wss:'], 'peerUrl');
        checkUrl(request.clientUrl, ['http:', 'https:'], 'clientUrl');
        if (this.#host.config.policy === 'classic' && request.weight !== 1 && !request.learner) {
          throw new ApiError('BAD_REQUEST', 'weight: a classic cluster gives every voter weight 1; use policy "weighted"');
        }
        // The addresses first, so every node can reach the new member before it is in any configuration.
        await this.#proposeSystem({ op: 'member.put', id: request.member, peerUrl: request.peerUrl, clientUrl: request.clientUrl });
        const asLearner = configuration(current.voters, [...current.learners, request.member]);
        let final = await node.changeConfiguration(asLearner, this.#adminOptions());
        if (!request.learner) {
          // A voter joins as a learner first and is promoted once it caught up (Raft thesis §4.2.1), so it never stalls commits.
          await this.#caughtUp(request.member);
          const voters = new Map(final.incoming.voters);
          voters.set(request.member, request.weight);
          const learners = [...final.incoming.learners].filter((id) => id !== request.member);
          final = await node.changeConfiguration(configuration(voters, learners), this.#adminOptions());
        }
        return clusterConfigJSON(final);
      }
      case 'cluster.removeMember': {
        if (!membersOf(status.config).has(request.member)) throw new ApiError('NOT_FOUND', `${request.member} is not a member`);
        const voters = new Map(current.voters);
        voters.delete(request.member);
        if (voters.size === 0) throw new ApiError('BAD_REQUEST', 'cannot remove the last voter');
        const learners = [...current.learners].filter((id) => id !== request.member);
        const clientUrl = this.#host.directory().get(request.member)?.clientUrl;
        const final = await node.changeConfiguration(configuration(voters, learners), this.#adminOptions());
        await this.#proposeSystem({ op: 'member.remove', id: request.member });
        this.#host.notifyRemoved(request.member, clientUrl);
        return clusterConfigJSON(final);
      }
      case 'cluster.setWeights': {
        if (this.#host.config.policy !== 'weighted') throw new ApiError('BAD_REQUEST', 'weights: this cluster runs classic Raft (every weight 1); use policy "weighted"');
        const voters = new Map(current.voters);
        for (const [id, weight] of Object.entries(request.weights)) {
          if (!voters.has(id)) throw new ApiError('BAD_REQUEST', `weights.${id}: not a voter`);
          voters.set(id, weight);
        }
        const tolerate = this.#host.config.weighted?.tolerateFailures;
        if (!satisfiesFaultToleranceGuard(voters, tolerate)) {
          throw new ApiError('BAD_REQUEST', `weights: the ${tolerate ?? 'default number of'} heaviest voters would weigh half the total or more (the fault-tolerance guard)`);
        }
        const target: Configuration = configuration(voters, current.learners);
        return clusterConfigJSON(await node.changeConfiguration(target, this.#adminOptions()));
      }
      case 'cluster.setScoring': {
        this.#requireMarket();
        const selection = { name: request.name, version: request.version, ...(request.params === undefined ? {} : { params: request.params }) };
        try {
          this.#host.scoring.strategy(selection);
        } catch (error) {
          throw new ApiError('BAD_REQUEST', `scoring: ${(error as Error).message}`);
        }
        const applied = await this.#proposeSystem({ op: 'scoring.set', ...selection });
        return { ...outcomeValue(applied), index: applied.index };
      }
    }
  }

  async #proposeSystem(header: EntryHeader): Promise<AppliedEntry> {
    const { result } = await this.#host.trackProposal(this.#host.node.propose(encodeEntry(header), this.#adminOptions()));
    if (!result.outcome.ok) throw new ApiError(result.outcome.code, result.outcome.message);
    return result;
  }

  /** Waits until `member` has every entry the leader had when asked, or the admin deadline passes. */
  async #caughtUp(member: string): Promise<void> {
    const node = this.#host.node;
    const target = node.status().lastIndex;
    const deadline = performance.now() + this.#host.config.client.adminTimeoutMs;
    for (;;) {
      const status = node.status();
      if (status.role !== 'leader') throw new NotLeaderError(status.leader);
      if ((status.progress?.get(member)?.match ?? 0) >= target) return;
      if (performance.now() >= deadline) throw new ApiError('TIMEOUT', `${member} did not catch up within ${this.#host.config.client.adminTimeoutMs} ms; it stays a learner`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async #transfer(to: string): Promise<unknown> {
    const status = this.#host.node.status();
    if (!status.config.incoming.voters.has(to) && !(status.config.outgoing?.voters.has(to) ?? false)) throw new ApiError('BAD_REQUEST', `to: ${to} is not a voter`);
    await this.#host.node.transferLeadership(to, { timeoutMs: this.#host.config.client.requestTimeoutMs });
    return { leader: to };
  }
}

function checkUrl(text: string, protocols: readonly string[], field: string): void {
  let ok = false;
  try {
    const url = new URL(text);
    ok = protocols.includes(url.protocol) && url.port.length > 0;
  } catch {
    ok = false;
  }
  if (!ok) throw new ApiError('BAD_REQUEST', `${field}: expected a ${protocols.map((protocol) => `${protocol}//`).join(' or ')} URL with a port, got ${JSON.stringify(text)}`);
}
