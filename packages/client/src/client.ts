import { InvalidArgumentError, integerOption, isGreenraftError } from '@greenraft/consensus';
import { AttemptFailure, Connection, otherLeader } from './connection.js';
import {
  abortError,
  ClientClosedError,
  errorFromAnswer,
  type LeaderHint,
  ProtocolError,
  TooLargeError,
  TooManyRequestsError,
  timeoutError,
  UnavailableError,
} from './errors.js';
import { type ClientInit, type ResolvedClientInit, randomHex, resolveClientInit, utf8Length } from './options.js';
import { checkResult, type JsonValue, websocketUrl } from './protocol.js';
import { Slots } from './slots.js';
import { SubscriptionQueue } from './subscription.js';
import {
  type AdminCalls,
  type CallOptions,
  type CasResult,
  type ClientStats,
  type CommandResult,
  CONSISTENCY_LEVELS,
  type ClusterStatus,
  type DeleteResult,
  type GetOptions,
  type GetResult,
  type GreenraftClient,
  MARKET_QUERIES,
  type MarketCalls,
  type MarketQuery,
  type MarketQueryOptions,
  type MemberInit,
  type ProposeCommand,
  type ProposeResult,
  type PutResult,
  type SubmitResult,
  type SubscribeOptions,
  type Subscription,
  SUBSCRIPTION_TOPICS,
  type SubscriptionTopic,
  type WriteOptions,
} from './types.js';
import { type SocketFactory, socketFactory } from './websocket.js';

/** Answer codes after which the same request may succeed on a retry. */
const RETRYABLE = new Set(['UNAVAILABLE', 'TOO_MANY_REQUESTS', 'TIMEOUT', 'NOT_LEADER']);

/** How long a leader URL that could not be reached is not followed again. */
const HINT_COOLDOWN_MS = 5000;

/** What one call sends and how its result is checked. */
interface CallSpec {
  readonly op: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** A write: its outcome may be unknown after a failure. */
  readonly write: boolean;
  /**
   * A write that carries an idempotency key, so any attempt may be retried. A write without one
   * (a membership or weight change) is retried only when it surely did not reach a node.
   */
  readonly keyed?: boolean;
  /** What to check in the result: a string says what is wrong. */
  readonly check: (result: unknown) => string | undefined;
  /** For messages: `put meter-7`. */
  readonly context: string;
}

function now(): number {
  return Date.now();
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidArgumentError(`key must be a string, not ${typeof key}`);
  const bytes = utf8Length(key);
  if (bytes < 1 || bytes > 512) throw new InvalidArgumentError(`key must be 1 to 512 bytes of UTF-8, not ${bytes}`);
  if (key.includes('/')) throw new InvalidArgumentError(`key must not contain '/': ${JSON.stringify(key)}`);
}

function checkCallOptions(options: CallOptions | undefined, fallbackTimeoutMs: number): { signal: AbortSignal | undefined; timeoutMs: number } {
  if (options === undefined) return { signal: undefined, timeoutMs: fallbackTimeoutMs };
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  const { signal, timeoutMs } = options;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean')) throw new InvalidArgumentError('signal must be an AbortSignal');
  if (timeoutMs !== undefined) integerOption('timeoutMs', timeoutMs, { min: 1, max: 3_600_000 });
  return { signal, timeoutMs: timeoutMs ?? fallbackTimeoutMs };
}

const WRITE_RESULT = { index: 'number' } as const;

class Client implements GreenraftClient {
  readonly clientId: string;
  readonly market: MarketCalls;
  readonly admin: AdminCalls;
  private readonly init: ResolvedClientInit;
  private readonly factory: SocketFactory;
  private readonly slots: Slots;
  /** Fires on close(): stops dials in progress. */
  private readonly closing = new AbortController();
  /** Wakes every retry sleeping its backoff, on close(). */
  private readonly sleepers = new Set<() => void>();
  /** Keys are `<session>-<n>`: a fresh session per client, so a reused `clientId` never meets old keys. */
  private readonly keySession = randomHex(6);
  private keySequence = 0;
  private current: Connection | undefined;
  private dialing: Promise<Connection> | undefined;
  private readonly connections = new Set<Connection>();
  private cursor = 0;
  private leaderUrl: string | undefined;
  private lastLeader: LeaderHint | undefined;
  private readonly unreachableLeaders = new Map<string, number>();
  private readonly subscriptions = new Set<SubscriptionQueue>();
  private subscribedOn: Connection | undefined;
  private resubscribing = false;
  private closed = false;
  private counters = { connections: 0, retries: 0, strayFrames: 0 };

  constructor(init: ResolvedClientInit) {
    this.init = init;
    this.clientId = init.clientId;
    this.factory = socketFactory(init.WebSocket, init.maxResponseBytes);
    this.slots = new Slots(init.maxInFlight, init.maxQueued);
    this.market = {
      submit: (transaction, options) => this.submit(transaction, options),
      query: (what, options) => this.marketQuery(what, options),
      submitOwn: (transaction, options) => this.submitOwn(transaction, options),
    };
    this.admin = {
      addMember: (member, options) => this.addMember(member, options),
      removeMember: async (member, options) => {
        if (typeof member !== 'string' || member === '') throw new InvalidArgumentError('member must be a node id');
        return this.call({ op: 'cluster.removeMember', fields: { member }, write: true, check: anyObject, context: `remove member ${member}` }, options) as Promise<JsonValue>;
      },
      setWeights: (weights, options) => this.setWeights(weights, options),
      transferLeader: async (to, options) => {
        if (typeof to !== 'string' || to === '') throw new InvalidArgumentError('to must be a node id');
        return this.call({ op: 'cluster.transferLeader', fields: { to }, write: true, check: anyObject, context: `transfer leadership to ${to}` }, options) as Promise<JsonValue>;
      },
      setScoring: (name, version, params, options) => this.setScoring(name, version, params, options),
    };
  }

  async get(key: string, options?: GetOptions): Promise<GetResult> {
    checkKey(key);
    const consistency = options?.consistency ?? 'linearizable';
    if (!CONSISTENCY_LEVELS.includes(consistency)) throw new InvalidArgumentError(`consistency must be one of ${CONSISTENCY_LEVELS.join(', ')}, not '${String(consistency)}'`);
    const result = (await this.call(
      {
        op: 'get',
        fields: { key, consistency },
        write: false,
        check: (r) => checkResult(r, { value: 'string|null', index: 'number' }, 'get'),
        context: `get ${key}`,
      },
      options,
    )) as { value?: string | null; index: number };
    return { value: result.value ?? null, index: result.index };
  }

  async put(key: string, value: string, options?: WriteOptions): Promise<PutResult> {
    checkKey(key);
    this.checkValue(value, 'value');
    const result = (await this.call({ op: 'put', fields: { key, value }, write: true, keyed: true, check: (r) => checkResult(r, WRITE_RESULT, 'put'), context: `put ${key}` }, options)) as PutResult;
    return { index: result.index };
  }

  async cas(key: string, from: string | null, to: string, options?: WriteOptions): Promise<CasResult> {
    checkKey(key);
    if (from !== null) this.checkValue(from, 'from');
    this.checkValue(to, 'to');
    const result = (await this.call(
      { op: 'cas', fields: { key, from, to }, write: true, keyed: true, check: (r) => checkResult(r, { swapped: 'boolean', index: 'number' }, 'cas'), context: `cas ${key}` },
      options,
    )) as CasResult;
    return { swapped: result.swapped, index: result.index };
  }

  async delete(key: string, options?: WriteOptions): Promise<DeleteResult> {
    checkKey(key);
    const result = (await this.call(
      { op: 'delete', fields: { key }, write: true, keyed: true, check: (r) => checkResult(r, { deleted: 'boolean', index: 'number' }, 'delete'), context: `delete ${key}` },
      options,
    )) as DeleteResult;
    return { deleted: result.deleted, index: result.index };
  }

  async propose<C extends ProposeCommand>(command: C, options?: WriteOptions): Promise<ProposeResult<CommandResult<C>>> {
    if (typeof command !== 'object' || command === null || Array.isArray(command)) {
      throw new InvalidArgumentError('command must be a state machine command: { type: "put" | "cas" | "delete", … } or a signed market transaction { transaction, signature }');
    }
    const fields = command as unknown as Readonly<Record<string, unknown>>;
    let context = 'propose';
    if (fields.type === 'put' || fields.type === 'cas' || fields.type === 'delete') {
      // The checks put, cas and delete make before sending, so a bad KV command fails the same way.
      checkKey(fields.key);
      if (fields.type === 'put') this.checkValue(fields.value, 'value');
      if (fields.type === 'cas') {
        if (fields.from !== null) this.checkValue(fields.from, 'from');
        this.checkValue(fields.to, 'to');
      }
      context = `propose ${fields.type} ${fields.key}`;
    } else if (typeof fields.transaction === 'object' && fields.transaction !== null && typeof (fields.transaction as { type?: unknown }).type === 'string') {
      context = `propose ${(fields.transaction as { type: string }).type}`;
    }
    // One copy, taken now: every attempt sends the same bytes, whatever the caller does with its object meanwhile.
    let frozen: unknown;
    try {
      frozen = JSON.parse(JSON.stringify(command));
    } catch (error) {
      throw new InvalidArgumentError(`command must be JSON: ${(error as Error).message}`, { cause: error });
    }
    const result = (await this.call(
      { op: 'propose', fields: { command: frozen }, write: true, keyed: true, check: (r) => checkResult(r, { index: 'number', result: 'object' }, 'propose'), context },
      options,
    )) as ProposeResult<CommandResult<C>>;
    return { index: result.index, result: result.result };
  }

  async status(options?: CallOptions): Promise<ClusterStatus> {
    return (await this.call(
      {
        op: 'cluster.status',
        fields: {},
        write: false,
        check: (r) => checkResult(r, { node: 'any', role: 'any', term: 'number' }, 'cluster.status'),
        context: 'status',
      },
      options,
    )) as ClusterStatus;
  }

  async subscribe(topics: readonly SubscriptionTopic[], options: SubscribeOptions = {}): Promise<Subscription> {
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError(`topics must list at least one of ${SUBSCRIPTION_TOPICS.join(', ')}`);
    for (const topic of topics) {
      if (!SUBSCRIPTION_TOPICS.includes(topic)) throw new InvalidArgumentError(`unknown topic '${String(topic)}': expected ${SUBSCRIPTION_TOPICS.join(', ')}`);
    }
    const maxBufferedEvents = integerOption('maxBufferedEvents', options.maxBufferedEvents ?? 1024, { min: 1 });
    const subscription = new SubscriptionQueue([...new Set(topics)], maxBufferedEvents, (closed) => this.unsubscribe(closed));
    this.subscriptions.add(subscription);
    try {
      await this.syncSubscriptions(options);
    } catch (error) {
      this.subscriptions.delete(subscription);
      subscription.end();
      throw error;
    }
    const { signal } = options;
    if (signal !== undefined) {
      if (signal.aborted) subscription.close();
      else signal.addEventListener('abort', () => subscription.close(), { once: true });
    }
    return subscription;
  }

  stats(): ClientStats {
    const connection = this.current?.open ? this.current : undefined;
    return {
      endpoint: connection?.url,
      node: connection?.hello.node,
      leader: this.lastLeader,
      inFlight: this.slots.inFlight,
      queued: this.slots.queued,
      ...this.counters,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const wake of [...this.sleepers]) wake();
    this.slots.refuseAll(new ClientClosedError());
    for (const subscription of this.subscriptions) subscription.end();
    this.subscriptions.clear();
    const closing = [...this.connections].map((connection) => {
      connection.shutdown(1000, 'client closed');
      return connection.socketClosed;
    });
    this.current = undefined;
    // A socket whose close handshake never completes (a stopped node) is not waited for forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(closing), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
  }

  private checkValue(value: unknown, name: string): asserts value is string {
    if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be a string, not ${value === null ? 'null' : typeof value}`);
    const bytes = utf8Length(value);
    if (bytes > this.init.maxValueBytes) throw new TooLargeError(`${name} is ${bytes} bytes; the bound is ${this.init.maxValueBytes} (maxValueBytes)`);
  }

  private async submit(transaction: object, options?: WriteOptions): Promise<SubmitResult> {
    if (typeof transaction !== 'object' || transaction === null || Array.isArray(transaction)) throw new InvalidArgumentError('transaction must be a signed transaction object');
    return this.call(
      {
        op: 'market.submit',
        fields: { transaction },
        write: true,
        keyed: true,
        check: (r) => checkResult(r, { index: 'number', receipt: 'any' }, 'market.submit'),
        context: 'market transaction',
      },
      options,
    ) as Promise<SubmitResult>;
  }

  private async submitOwn(transaction: Readonly<Record<string, unknown>>, options?: WriteOptions): Promise<SubmitResult> {
    if (typeof transaction !== 'object' || transaction === null || Array.isArray(transaction)) throw new InvalidArgumentError('transaction must be an unsigned transaction object');
    if (typeof transaction.type !== 'string') throw new InvalidArgumentError('transaction.type must name a market transaction');
    if ('signer' in transaction || 'nonce' in transaction) throw new InvalidArgumentError('transaction must not carry signer or nonce: the node signs as itself, with its next nonce');
    return this.call(
      {
        op: 'market.submitOwn',
        fields: { transaction },
        write: true,
        keyed: true,
        check: (r) => checkResult(r, { index: 'number', receipt: 'any' }, 'market.submitOwn'),
        context: `own ${transaction.type}`,
      },
      options,
    ) as Promise<SubmitResult>;
  }

  private async marketQuery(what: MarketQuery, options: MarketQueryOptions = {}): Promise<JsonValue> {
    if (!MARKET_QUERIES.includes(what)) throw new InvalidArgumentError(`unknown market query '${String(what)}': expected ${MARKET_QUERIES.join(', ')}`);
    const fields: Record<string, unknown> = { what };
    if (options.consistency !== undefined) {
      if (!CONSISTENCY_LEVELS.includes(options.consistency)) throw new InvalidArgumentError(`consistency must be one of ${CONSISTENCY_LEVELS.join(', ')}`);
      fields.consistency = options.consistency;
    }
    for (const [name, min, max] of [
      ['from', 1, Number.MAX_SAFE_INTEGER],
      ['limit', 1, 1000],
    ] as const) {
      const value = options[name];
      if (value === undefined) continue;
      if (what !== 'ledger') throw new InvalidArgumentError(`${name} applies to the ledger query only`);
      fields[name] = integerOption(name, value, { min, max });
    }
    if (options.id !== undefined) {
      if (what !== 'contracts' || typeof options.id !== 'string' || options.id === '') throw new InvalidArgumentError('id names one contract, for the contracts query only');
      fields.id = options.id;
    }
    return this.call({ op: 'market.query', fields, write: false, check: (r) => (r === undefined ? 'the market.query answer has no result' : undefined), context: `market ${what}` }, options) as Promise<JsonValue>;
  }

  private async addMember(member: MemberInit, options?: CallOptions): Promise<JsonValue> {
    if (typeof member !== 'object' || member === null) throw new InvalidArgumentError('addMember takes { member, peerUrl, clientUrl, weight?, learner? }');
    const { member: id, peerUrl, clientUrl, weight = 1, learner = false } = member;
    if (typeof id !== 'string' || id === '') throw new InvalidArgumentError('member must be a node id');
    for (const [name, url] of [
      ['peerUrl', peerUrl],
      ['clientUrl', clientUrl],
    ] as const) {
      if (typeof url !== 'string' || !URL.canParse(url)) throw new InvalidArgumentError(`${name} must be a URL, not ${String(url)}`);
    }
    integerOption('weight', weight, { min: 0 });
    if (typeof learner !== 'boolean') throw new InvalidArgumentError('learner must be a boolean');
    return this.call(
      { op: 'cluster.addMember', fields: { member: id, peerUrl, clientUrl, weight, learner }, write: true, check: anyObject, context: `add member ${id}` },
      options,
    ) as Promise<JsonValue>;
  }

  private async setWeights(weights: Readonly<Record<string, number>>, options?: CallOptions): Promise<JsonValue> {
    if (typeof weights !== 'object' || weights === null || Object.keys(weights).length === 0) throw new InvalidArgumentError('weights must map at least one voter to its weight');
    let total = 0;
    for (const [id, weight] of Object.entries(weights)) {
      total += integerOption(`weights.${id}`, weight, { min: 0 });
    }
    if (total <= 0) throw new InvalidArgumentError('weights must have a positive total');
    return this.call({ op: 'cluster.setWeights', fields: { weights: { ...weights } }, write: true, check: anyObject, context: 'set weights' }, options) as Promise<JsonValue>;
  }

  private async setScoring(name: string, version: string, params: Readonly<Record<string, unknown>> | undefined, options?: CallOptions): Promise<JsonValue> {
    if (typeof name !== 'string' || name === '' || utf8Length(name) > 128) throw new InvalidArgumentError('name must name a scoring strategy (1 to 128 bytes)');
    if (typeof version !== 'string' || version === '' || utf8Length(version) > 64) throw new InvalidArgumentError('version must be a string of 1 to 64 bytes');
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) throw new InvalidArgumentError('params must be an object: the parameters of the strategy');
    const fields = params === undefined ? { name, version } : { name, version, params: { ...params } };
    return this.call({ op: 'cluster.setScoring', fields, write: true, check: anyObject, context: `set scoring ${name}@${version}` }, options) as Promise<JsonValue>;
  }

  /** One call: attempts until a result, a definite error, the deadline, the signal or the attempt bound. */
  private async call(spec: CallSpec, options: WriteOptions | undefined): Promise<unknown> {
    const { signal, timeoutMs } = checkCallOptions(options, this.init.timeoutMs);
    let key: string | undefined;
    if (spec.keyed === true) {
      key = options?.idempotencyKey ?? `${this.keySession}-${++this.keySequence}`;
      if (typeof key !== 'string' || key === '' || utf8Length(key) > 128) throw new InvalidArgumentError('idempotencyKey must be a string of 1 to 128 bytes');
    }
    const frame = key === undefined ? { op: spec.op, ...spec.fields } : { op: spec.op, ...spec.fields, idempotencyKey: key };
    return this.attempts(spec, timeoutMs, signal, key, (connection, attemptMs) => connection.request(frame, attemptMs, signal));
  }

  /**
   * The retry loop of every call: `run` sends one attempt on a connection. What may be retried
   * (a dropped or stuck connection, `UNAVAILABLE`, `TOO_MANY_REQUESTS`, `TIMEOUT`, `NOT_LEADER`)
   * is, after a jittered backoff or the node's `retryAfterMs`, within the deadline and
   * `retry.maxAttempts`; a write keeps its idempotency key across attempts.
   */
  private async attempts(
    spec: CallSpec,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    key: string | undefined,
    run: (connection: Connection, attemptMs: number) => Promise<unknown>,
  ): Promise<unknown> {
    // Whether some attempt may have been applied: it reached a node and no answer said it was not.
    let uncertain = false;
    const info = () => ({ outcomeUnknown: spec.write && uncertain, ...(key === undefined ? {} : { idempotencyKey: key }) });
    const unknownNote = () => {
      if (!spec.write) return '';
      if (!uncertain) return '; the write was not applied';
      return key === undefined ? '; the change may have been applied: check the cluster status before retrying' : `; the write may have been applied: retry with idempotency key '${key}'`;
    };
    let problem: string | undefined;
    const timedOut = (cause?: unknown) =>
      timeoutError(`${spec.context} did not finish within ${timeoutMs} ms${problem === undefined ? '' : ` (last: ${problem})`}${unknownNote()}`, info(), cause);
    const aborted = (cause?: unknown) => abortError(`${spec.context} was aborted${unknownNote()}`, info(), cause ?? signal?.reason);
    const closedError = () => new ClientClosedError(`the client was closed before ${spec.context} finished${unknownNote()}`, info());
    if (this.closed) throw closedError();
    if (signal?.aborted) throw aborted();
    const deadline = now() + timeoutMs;

    if (!this.slots.tryAcquire()) {
      try {
        await this.slots.acquire((cancel) => {
          const timer = setTimeout(() => cancel(timedOut()), timeoutMs);
          const onAbort = () => cancel(aborted());
          signal?.addEventListener('abort', onAbort, { once: true });
          return () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
          };
        });
      } catch (error) {
        if (isGreenraftError(error, 'CLIENT_CLOSED')) throw closedError();
        throw error;
      }
    }
    try {
      let lastCode: string | undefined;
      for (let attempt = 1; ; attempt++) {
        if (this.closed) throw closedError();
        const remaining = deadline - now();
        if (remaining <= 0) throw timedOut();
        let retryAfterMs: number | undefined;
        try {
          const connection = await this.connection(deadline, signal);
          try {
            const result = await run(connection, Math.min(this.init.attemptTimeoutMs, remaining));
            const wrong = spec.check(result);
            if (wrong !== undefined) throw new AttemptFailure('protocol', true, `${connection.url}: ${wrong}`);
            return result;
          } catch (failure) {
            if (failure instanceof AttemptFailure && failure.kind === 'timeout') this.retire(connection);
            if (failure instanceof AttemptFailure && failure.kind === 'answer' && failure.wire?.leader !== undefined) this.noteLeader(failure.wire.leader, connection);
            throw failure;
          }
        } catch (failure) {
          if (!(failure instanceof AttemptFailure)) throw failure;
          const wire = failure.kind === 'answer' ? failure.wire! : undefined;
          // An answer says what happened, except TIMEOUT, and UNAVAILABLE from a node that stopped or lost leadership mid-write.
          if (wire === undefined ? failure.sent : wire.code === 'TIMEOUT' || (wire.code === 'UNAVAILABLE' && key !== undefined)) uncertain = true;
          if (this.closed) throw closedError();
          // A change without an idempotency key is not sent again once it may have been applied: it could apply twice, or fail misleadingly.
          const once = spec.write && key === undefined && uncertain;
          switch (failure.kind) {
            case 'aborted':
              throw aborted();
            case 'protocol':
              throw new ProtocolError(`${spec.context}: ${failure.message}${unknownNote()}`, info());
            case 'timeout':
              if (now() >= deadline || once) throw timedOut(failure);
              problem = failure.message;
              lastCode = 'TIMEOUT';
              break;
            case 'lost':
              if (once) throw new UnavailableError(`${spec.context}: ${failure.message}${unknownNote()}`, info());
              problem = failure.message;
              lastCode = undefined;
              break;
            case 'answer': {
              if (!RETRYABLE.has(wire!.code) || once) throw errorFromAnswer(wire!, spec.context, info());
              problem = `${wire!.code}: ${wire!.message}`;
              lastCode = wire!.code;
              retryAfterMs = wire!.retryAfterMs;
              break;
            }
          }
        }
        if (attempt >= this.init.retry.maxAttempts) {
          const message = `${spec.context} failed after ${attempt} attempts; last: ${problem}${unknownNote()}`;
          if (lastCode === 'TOO_MANY_REQUESTS') throw new TooManyRequestsError(message, info());
          if (lastCode === 'TIMEOUT') throw timeoutError(message, info());
          throw new UnavailableError(message, { ...info(), ...(this.lastLeader === undefined ? {} : { leader: this.lastLeader }) });
        }
        this.counters.retries++;
        const wait = Math.min(retryAfterMs ?? this.backoff(attempt), deadline - now());
        if (wait > 0) {
          const woke = await this.sleep(wait, signal);
          if (woke === 'aborted') throw aborted();
        }
      }
    } finally {
      this.slots.release();
    }
  }

  private backoff(attempt: number): number {
    const { initialDelayMs, maxDelayMs, multiplier, jitter } = this.init.retry;
    return Math.min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1)) * (1 + jitter * Math.random());
  }

  /** Sleeps `ms`; wakes early when `signal` fires or the client closes. */
  private sleep(ms: number, signal: AbortSignal | undefined): Promise<'slept' | 'aborted' | 'closed'> {
    return new Promise((resolve) => {
      const done = (how: 'slept' | 'aborted' | 'closed') => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.sleepers.delete(onClose);
        resolve(how);
      };
      const onAbort = () => done('aborted');
      const onClose = () => done('closed');
      const timer = setTimeout(() => done('slept'), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      // A set rather than listeners on one signal: hundreds of calls may back off at once.
      this.sleepers.add(onClose);
    });
  }

  /** The open connection, or one dial (shared by every call waiting for it), bounded by this caller's deadline and signal. */
  private connection(deadline: number, signal: AbortSignal | undefined): Promise<Connection> {
    const current = this.current;
    if (current?.open && !current.retiring) return Promise.resolve(current);
    if (this.dialing === undefined) {
      const dial = this.dial();
      this.dialing = dial;
      const clear = () => {
        if (this.dialing === dial) this.dialing = undefined;
      };
      dial.then(clear, clear);
    }
    const dialing = this.dialing;
    return new Promise<Connection>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(
        () => {
          done();
          reject(new AttemptFailure('timeout', false, 'no connection within the deadline'));
        },
        Math.max(0, deadline - now()),
      );
      const onAbort = () => {
        done();
        reject(new AttemptFailure('aborted', false, 'aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      dialing.then(
        (connection) => {
          done();
          resolve(connection);
        },
        (failure) => {
          done();
          reject(failure);
        },
      );
    });
  }

  /** Opens a connection to the hinted leader or the next endpoint; from a follower, moves to the leader it names. */
  private async dial(): Promise<Connection> {
    const hinted = this.leaderUrl !== undefined && !this.unreachable(this.leaderUrl) ? this.leaderUrl : undefined;
    this.leaderUrl = undefined;
    const url = hinted ?? this.init.endpoints[this.cursor++ % this.init.endpoints.length]!;
    let connection: Connection;
    try {
      connection = await this.open(url);
    } catch (failure) {
      if (hinted !== undefined) this.unreachableLeaders.set(hinted, now() + HINT_COOLDOWN_MS);
      throw failure;
    }
    if (connection.hello.leader !== undefined) this.lastLeader = connection.hello.leader;
    const leader = otherLeader(connection);
    const leaderWs = leader?.url === undefined ? undefined : websocketUrl(leader.url);
    if (this.init.followLeader && leaderWs !== undefined && leaderWs !== url && !this.unreachable(leaderWs)) {
      try {
        const moved = await this.open(leaderWs);
        connection.shutdown(1000, 'following the leader');
        return this.adopt(moved);
      } catch (failure) {
        // The follower still forwards: keep it rather than fail the dial.
        if (failure instanceof AttemptFailure && failure.kind === 'answer') {
          connection.shutdown(1000, 'the leader refused the client');
          throw failure;
        }
        this.unreachableLeaders.set(leaderWs, now() + HINT_COOLDOWN_MS);
      }
    }
    return this.adopt(connection);
  }

  private open(url: string): Promise<Connection> {
    return Connection.open({
      factory: this.factory,
      url,
      clientId: this.clientId,
      token: this.init.token,
      timeoutMs: this.init.connectTimeoutMs,
      signal: this.closing.signal,
      events: {
        event: (connection, event, data) => this.deliver(connection, event, data),
        closed: (connection) => this.closedConnection(connection),
      },
      onStray: () => this.counters.strayFrames++,
    }).then((connection) => {
      this.connections.add(connection);
      // Closed while the hello was in flight: nobody is told twice, so forget it here.
      if (!connection.open) this.connections.delete(connection);
      return connection;
    });
  }

  private adopt(connection: Connection): Connection {
    if (this.closed) {
      connection.shutdown(1000, 'client closed');
      throw new AttemptFailure('lost', false, 'the client is closed');
    }
    this.counters.connections++;
    this.current = connection;
    if (this.subscriptions.size > 0 && this.subscribedOn !== connection) this.resubscribe();
    return connection;
  }

  private unreachable(url: string): boolean {
    const until = this.unreachableLeaders.get(url);
    if (until === undefined) return false;
    if (until > now()) return true;
    this.unreachableLeaders.delete(url);
    return false;
  }

  /** A node named the leader in an error: next attempts go there, and this connection takes no more requests. */
  private noteLeader(leader: LeaderHint, connection: Connection): void {
    this.lastLeader = leader;
    if (!this.init.followLeader || leader.url === undefined || leader.id === connection.hello.node) return;
    const url = websocketUrl(leader.url);
    if (url === undefined || url === connection.url || this.unreachable(url)) return;
    this.leaderUrl = url;
    this.retire(connection);
  }

  /** This connection takes no new requests; the ones in flight finish on it. */
  private retire(connection: Connection): void {
    if (this.current === connection) this.current = undefined;
    if (!connection.retiring) connection.retire();
  }

  private closedConnection(connection: Connection): void {
    this.connections.delete(connection);
    if (this.current === connection) this.current = undefined;
    if (this.subscribedOn === connection) {
      this.subscribedOn = undefined;
      this.resubscribe();
    }
  }

  private deliver(connection: Connection, event: string, data: unknown): void {
    if (connection !== this.subscribedOn) return;
    for (const subscription of this.subscriptions) subscription.push(event, data);
  }

  /** The union of every open subscription's topics. */
  private topics(): SubscriptionTopic[] {
    const topics = new Set<SubscriptionTopic>();
    for (const subscription of this.subscriptions) for (const topic of subscription.topics) topics.add(topic);
    return [...topics];
  }

  /** Subscribes the current connection (opening one if need be) to every open subscription's topics. */
  private async syncSubscriptions(options: CallOptions): Promise<void> {
    const { signal, timeoutMs } = checkCallOptions(options, this.init.timeoutMs);
    const spec: CallSpec = { op: 'subscribe', fields: {}, write: false, check: anyObject, context: 'subscribe' };
    await this.attempts(spec, timeoutMs, signal, undefined, async (connection, attemptMs) => {
      const result = await connection.request({ op: 'subscribe', topics: this.topics() }, attemptMs, signal);
      if (connection.open) this.subscribedOn = connection;
      return result;
    });
  }

  /** After the subscribed connection closed: subscribe again on a new one, in the background; subscriptions fail if that fails. */
  private resubscribe(): void {
    if (this.resubscribing || this.closed || this.subscriptions.size === 0) return;
    this.resubscribing = true;
    this.syncSubscriptions({}).then(
      () => {
        this.resubscribing = false;
        if (this.subscribedOn === undefined || this.subscribedOn !== this.current) this.resubscribe();
      },
      (error: unknown) => {
        this.resubscribing = false;
        if (this.closed) return;
        for (const subscription of this.subscriptions) subscription.fail(error instanceof Error ? error : new Error(String(error)));
        this.subscriptions.clear();
      },
    );
  }

  private unsubscribe(subscription: SubscriptionQueue): void {
    const before = this.topics();
    if (!this.subscriptions.delete(subscription) || this.closed) return;
    const connection = this.subscribedOn;
    if (connection === undefined || !connection.open) return;
    const after = new Set(this.topics());
    const unneeded = before.filter((topic) => !after.has(topic));
    if (after.size === 0) this.subscribedOn = undefined;
    if (unneeded.length === 0) return;
    // Best effort: the answer is not waited for, and a failure only means events to ignore.
    connection.request({ op: 'unsubscribe', topics: unneeded }, this.init.attemptTimeoutMs).catch(() => {});
  }
}

function anyObject(result: unknown): string | undefined {
  return typeof result === 'object' && result !== null ? undefined : 'the answer has no result object';
}

/**
 * Creates a client of a greenraft cluster. It connects on the first call, to the first endpoint
 * (or the leader it names), and reconnects by itself; `close()` it when done.
 *
 * @param init - the endpoints, and optional identity, token, deadlines, retry and bounds.
 * @throws InvalidArgumentError when an option is unknown or out of range.
 *
 * @example
 * ```ts
 * import { createClient } from '@greenraft/client';
 *
 * const client = createClient({ endpoints: ['http://127.0.0.1:7001', 'http://127.0.0.1:7002'] });
 * await client.put('meter-7', '12.5');
 * console.log((await client.get('meter-7')).value); // '12.5'
 * await client.close();
 * ```
 */
export function createClient(init: ClientInit): GreenraftClient {
  return new Client(resolveClientInit(init));
}
