/** The calls and results of {@link GreenraftClient}, as docs/client-protocol.md defines them. */
import type { LeaderHint } from './errors.js';
import type { JsonValue } from './protocol.js';

/**
 * How fresh a read must be: `linearizable` (a ReadIndex round through the leader), `lease` (the
 * leader's lease, no round; correct only under bounded clock drift), `stale` (the connected node's
 * applied state, possibly behind).
 */
export type Consistency = 'linearizable' | 'lease' | 'stale';

/** The consistency levels, in order of strength. */
export const CONSISTENCY_LEVELS: readonly Consistency[] = ['linearizable', 'lease', 'stale'];

/** Options of every call. */
export interface CallOptions {
  /** Aborts the call; it rejects with `AbortError` (saying whether a write may have been applied). */
  signal?: AbortSignal;
  /**
   * The call's deadline across its retries; then it rejects with `TimeoutError`.
   * @default the client's `timeoutMs` (15000)
   */
  timeoutMs?: number;
}

/** Options of a write. */
export interface WriteOptions extends CallOptions {
  /**
   * The write's idempotency key (at most 128 bytes), scoped to the client's `clientId`: every
   * attempt carries it, so the nodes apply the write once and answer every retry with the first
   * result. Give one to retry a write across calls or restarts (with a stable `clientId`).
   * @default a fresh key per call
   */
  idempotencyKey?: string;
}

/** Options of {@link GreenraftClient.get}. */
export interface GetOptions extends CallOptions {
  /** @default 'linearizable' */
  consistency?: Consistency;
}

/** What `get` answers. */
export interface GetResult {
  /** The value, or `null` when the key is absent. */
  value: string | null;
  /** The log index of the key's last write (0 when absent). */
  index: number;
}

/** What `put` answers: the log index of the write. */
export interface PutResult {
  index: number;
}

/** What `cas` answers. */
export interface CasResult {
  /** Whether the value was `from` and is now `to`. */
  swapped: boolean;
  index: number;
}

/** What `delete` answers. */
export interface DeleteResult {
  /** Whether the key was present. */
  deleted: boolean;
  index: number;
}

/** What a market transaction's submission answers: its log index, the market's receipt, the block it landed in. */
export interface SubmitResult {
  index: number;
  /** The market's receipt: `hash`, `type`, `signer`, `nonce`, and `contractId`, `offerId` or `round` for what it created or settled. */
  receipt: JsonValue;
  /** The ledger block the transaction formed, as the node answers it. */
  block?: JsonValue;
}

/** A KV store command for {@link GreenraftClient.propose}: set `key` to `value` (as `put`). */
export interface PutCommand {
  type: 'put';
  /** 1 to 512 bytes of UTF-8, without `/`. */
  key: string;
  value: string;
}

/** A KV store command for {@link GreenraftClient.propose}: set `key` to `to` if it holds `from` (`null`: if it is absent), as `cas`. */
export interface CasCommand {
  type: 'cas';
  key: string;
  from: string | null;
  to: string;
}

/** A KV store command for {@link GreenraftClient.propose}: remove `key` (as `delete`). */
export interface DeleteCommand {
  type: 'delete';
  key: string;
}

/** The commands of a KV cluster. */
export type KvCommand = PutCommand | CasCommand | DeleteCommand;

/**
 * The command of a market cluster: a signed transaction (a `SignedTransaction` of
 * `@greenraft/power-market`, as `marketClient` makes it), as `market.submit` takes it. The node
 * checks its signature before it reaches the log.
 */
export interface MarketCommand {
  readonly transaction: { readonly type: string; readonly signer: string; readonly nonce: number };
  /** The ed25519 signature, 86 characters of base64url. */
  readonly signature: string;
}

/** A state machine command for {@link GreenraftClient.propose}: a KV command on a KV cluster, a signed transaction on a market cluster. */
export type ProposeCommand = KvCommand | MarketCommand;

/** What applying a command gave, by command: what `cas`, `delete` and `market.submit` answer, without the index. */
export type CommandResult<C extends ProposeCommand = ProposeCommand> = C extends PutCommand
  ? Record<string, never>
  : C extends CasCommand
    ? { swapped: boolean }
    : C extends DeleteCommand
      ? { deleted: boolean }
      : C extends MarketCommand
        ? { receipt: JsonValue; block?: JsonValue }
        : { [field: string]: JsonValue };

/** What {@link GreenraftClient.propose} answers: the command's log index and the state machine's result of applying it. */
export interface ProposeResult<R = CommandResult> {
  /** The log index the command was applied at (the first one, for a retried idempotency key). */
  index: number;
  /** The applied result: `{}` for put, `{ swapped }` for cas, `{ deleted }` for delete, `{ receipt, block }` for a market transaction. */
  result: R;
}

/** What `market.query` can ask for. */
export type MarketQuery = 'balances' | 'nodes' | 'contracts' | 'certificates' | 'weights' | 'carbon' | 'ledger' | 'head';

/** The market queries, as the protocol lists them. */
export const MARKET_QUERIES: readonly MarketQuery[] = ['balances', 'nodes', 'contracts', 'certificates', 'weights', 'carbon', 'ledger', 'head'];

/** Options of {@link MarketCalls.query}. */
export interface MarketQueryOptions extends CallOptions {
  /** @default 'linearizable' */
  consistency?: Consistency;
  /** `ledger` only: the first block's height (1 is the first block). @default 1 */
  from?: number;
  /** `ledger` only: at most this many blocks (1 to 1000). @default 100 */
  limit?: number;
  /** `contracts` only: one contract, by id (`"<proposer>/<nonce>"`); absent is `NotFoundError`. */
  id?: string;
}

/** A voting configuration: weights of the voters, the learners, and during a joint change the outgoing configuration. */
export interface ClusterConfiguration {
  voters: Record<string, number>;
  learners: string[];
  /** The configuration being left during a joint change (its voters' weights and its learners), else `null`. */
  outgoing: { voters: Record<string, number>; learners: string[] } | null;
}

/** What `status` answers (`cluster.status`); nodes may add fields. */
export interface ClusterStatus {
  /** The node that answered. */
  node: string;
  role: string;
  term: number;
  /** The leader it knows, or `null`. */
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  config: ClusterConfiguration;
  /** Every member's peer and client URL. */
  members: Record<string, { peerUrl: string; clientUrl: string }>;
  [field: string]: unknown;
}

/** A node to add to the cluster (`cluster.addMember`). */
export interface MemberInit {
  /** The new node's id. */
  member: string;
  /** Where the other nodes reach it (`ws://` or `wss://`). */
  peerUrl: string;
  /** Where clients reach it (`http://` or `https://`). */
  clientUrl: string;
  /** @default 1 */
  weight?: number;
  /** Add it as a learner (replicated to, not voting). @default false */
  learner?: boolean;
}

/** The market calls of a client: submit signed transactions, query replicated state. */
export interface MarketCalls {
  /**
   * Submits a signed market transaction (a `SignedTransaction` of `@greenraft/power-market`, as
   * JSON), through the log. Refused transactions reject with `RejectedError`.
   * `@greenraft/client/market` signs and submits in one call.
   */
  submit(transaction: object, options?: WriteOptions): Promise<SubmitResult>;
  /**
   * Asks the connected node to sign `transaction` (a market transaction without `signer` and
   * `nonce`, as JSON) as itself, with its own participant key (`market.participantKeyFile`), and
   * submit it (`market.submitOwn`). The node's key never leaves it: this is how a node's operator
   * trades as that node. Create the client with `followLeader: false` and that node's endpoint
   * only, since the node that answers is the one that signs. A node without a participant key
   * rejects with `BadRequestError`; a refused transaction with `RejectedError`.
   */
  submitOwn(transaction: Readonly<Record<string, unknown>>, options?: WriteOptions): Promise<SubmitResult>;
  /** Reads replicated market state (`balances`, `ledger` blocks, ...), as the node's market answers it. */
  query(what: MarketQuery, options?: MarketQueryOptions): Promise<JsonValue>;
}

/**
 * The administrative calls of a client: membership, weights, leadership, each run by the leader.
 * They carry no idempotency key, so the client sends one again only when the first surely did not
 * reach a node; after a connection lost mid-change the error says the outcome is unknown (check
 * `status()`). One change at a time: another in flight is `ConflictError`.
 */
export interface AdminCalls {
  /** Adds a voter (or learner), which catches up as a learner first; resolves with the new configuration (`{ voters, learners, outgoing }`). */
  addMember(member: MemberInit, options?: CallOptions): Promise<JsonValue>;
  /** Removes a member; resolves with the new configuration. */
  removeMember(member: string, options?: CallOptions): Promise<JsonValue>;
  /** Sets the voters' weights (integers ≥ 0, positive total) by joint consensus (weighted clusters); resolves with the new configuration. */
  setWeights(weights: Readonly<Record<string, number>>, options?: CallOptions): Promise<JsonValue>;
  /** Asks the leader to hand leadership to `to`; resolves with the node's answer (`{ leader }`). */
  transferLeader(to: string, options?: CallOptions): Promise<JsonValue>;
  /**
   * Puts a scoring strategy in force in a market cluster (`cluster.setScoring`): a replicated
   * entry, so every node scores the next weight epochs with it. `name` and `version` name a
   * strategy every node has (built in: `paper` and `uniform`, version `1`); `params` are its
   * parameters. Resolves with the node's answer (`{ scoring, index }`); an unknown strategy is
   * `BadRequestError`.
   */
  setScoring(name: string, version: string, params?: Readonly<Record<string, unknown>>, options?: CallOptions): Promise<JsonValue>;
}

/** The topics `subscribe` takes. */
export type SubscriptionTopic = 'status' | 'commitQuorum' | 'leader' | 'market';

/** The subscription topics, as the protocol lists them. */
export const SUBSCRIPTION_TOPICS: readonly SubscriptionTopic[] = ['status', 'commitQuorum', 'leader', 'market'];

/** One acknowledgement of a commit quorum. */
export interface QuorumAck {
  id: string;
  weight: number;
  latencyMs: number;
}

/** The data of each topic's events. `status` carries what `status()` answers, plus scores and metrics. */
export interface SubscriptionEventMap {
  status: ClusterStatus;
  commitQuorum: { index: number; term: number; acks: QuorumAck[] };
  leader: JsonValue;
  market: JsonValue;
}

/** An event a subscription delivers: its topic and data. */
export type ClientEvent = { [Topic in SubscriptionTopic]: { topic: Topic; data: SubscriptionEventMap[Topic] } }[SubscriptionTopic];

/** Options of {@link GreenraftClient.subscribe}. */
export interface SubscribeOptions extends CallOptions {
  /**
   * Events kept for a consumer that lags; past it the oldest is dropped and counted in
   * {@link Subscription.dropped}.
   * @default 1024
   */
  maxBufferedEvents?: number;
}

/**
 * A live subscription: an async iterator of events, across reconnections (events published while
 * the client reconnects are missed; `status` events carry full state, so the next one catches up).
 * It ends when closed, when the subscribe call's signal fires, when the client closes, or, with
 * an error, when the client cannot reconnect within its attempts.
 */
export interface Subscription extends AsyncIterableIterator<ClientEvent> {
  readonly topics: readonly SubscriptionTopic[];
  /** Events dropped because the consumer lagged more than `maxBufferedEvents`. */
  readonly dropped: number;
  /** Ends the subscription; a pending `next()` resolves `done`. */
  close(): void;
}

/** A snapshot of the client's state. */
export interface ClientStats {
  /** The WebSocket URL the client is connected to, if any. */
  endpoint: string | undefined;
  /** The node it is connected to, if any. */
  node: string | undefined;
  /** The leader last named by a node. */
  leader: LeaderHint | undefined;
  /** Calls holding an in-flight slot. */
  inFlight: number;
  /** Calls waiting for one. */
  queued: number;
  /** Connections opened (greeted) since the client was made. */
  connections: number;
  /** Attempts retried (after a drop, a timeout, `UNAVAILABLE`, ...). */
  retries: number;
  /** Frames that answered nothing in flight (a late or second answer) or were not protocol frames. */
  strayFrames: number;
}

/**
 * The greenraft application client ({@link createClient}): one connection at a time, to the
 * leader when it can, requests pipelined on it; failed attempts retried with the same idempotency
 * key, on another node if need be.
 */
export interface GreenraftClient {
  /** The id that scopes this client's idempotency keys. */
  readonly clientId: string;
  /** Reads a key; `value` is `null` when the key is absent. */
  get(key: string, options?: GetOptions): Promise<GetResult>;
  /** Writes a key. */
  put(key: string, value: string, options?: WriteOptions): Promise<PutResult>;
  /** Writes `to` if the value is `from` (`null`: if the key is absent). */
  cas(key: string, from: string | null, to: string, options?: WriteOptions): Promise<CasResult>;
  /** Deletes a key. */
  delete(key: string, options?: WriteOptions): Promise<DeleteResult>;
  /**
   * Puts one state-machine command in the log and resolves with its applied result, whatever the
   * state machine the cluster runs: a {@link KvCommand} on a KV cluster, a signed market
   * transaction ({@link MarketCommand}) on a market cluster. The command goes through the same
   * path as the specific call (`put`, `cas`, `delete`, `market.submit`): the same checks, the
   * same idempotency key retried on every attempt, so a retried command is applied once and
   * answered with its first result.
   *
   * @throws InvalidArgumentError when `command` is not a JSON object, or a KV command's key is invalid, before anything is sent.
   * @throws TooLargeError when a KV command's value is over `maxValueBytes`.
   * @throws BadRequestError when the cluster's state machine refuses the command's shape (the message names the field, `command.key`, ...).
   * @throws RejectedError when the market refuses the transaction (`reason`: `INVALID_SIGNATURE`, `UNKNOWN_NODE`, ...).
   * @throws ConflictError when the idempotency key was used for another request.
   *
   * @example
   * ```ts
   * import { createClient } from '@greenraft/client';
   *
   * const client = createClient({ endpoints: ['http://127.0.0.1:7001'] }); // a KV cluster
   * await client.propose({ type: 'put', key: 'meter-7', value: '12.5' });
   * const { index, result } = await client.propose({ type: 'cas', key: 'meter-7', from: '12.5', to: '13.0' }, { idempotencyKey: 'meter-7-cas-1' });
   * console.log(result.swapped, index > 0); // true true
   * await client.close();
   * ```
   */
  propose<C extends ProposeCommand>(command: C, options?: WriteOptions): Promise<ProposeResult<CommandResult<C>>>;
  /** The connected node's view of the cluster. */
  status(options?: CallOptions): Promise<ClusterStatus>;
  /** Market transactions and queries. */
  readonly market: MarketCalls;
  /** Membership, weights and leadership. */
  readonly admin: AdminCalls;
  /** Subscribes to events; resolves once the node confirmed the topics. */
  subscribe(topics: readonly SubscriptionTopic[], options?: SubscribeOptions): Promise<Subscription>;
  /** The client's state now. */
  stats(): ClientStats;
  /**
   * Closes the connection: calls in flight reject with `ClientClosedError` (saying whether a write
   * may have been applied), subscriptions end, later calls reject. Resolves once the socket closed.
   */
  close(): Promise<void>;
}
