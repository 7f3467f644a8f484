/**
 * One greenraft node as a process: the configuration composed into a WAL storage, a WebSocket
 * peer transport, the server's state machine (KV or market), a classic or weighted Raft node,
 * the client API (WebSocket and HTTP), metrics, logs, health, and a graceful lifecycle.
 */
import { readFile } from 'node:fs/promises';
import { type Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  type ConsensusNode,
  InvalidMessageError,
  type NodeId,
  type Role,
  TransportError,
  configuration,
  members as membersOf,
} from '@greenraft/consensus';
import { createRaftNode } from '@greenraft/raft';
import { type WalStorage, walStorage } from '@greenraft/storage-wal';
import { type WebSocketTransport, websocketTransport } from '@greenraft/transport-websocket';
import { toVoteWeights } from '@greenraft/weight-scoring';
import { type WeightedRaftNode, createWeightedRaftNode } from '@greenraft/weighted-raft';
import { EventEmitter } from 'eventemitter3';
import type { DestinationStream, Logger } from 'pino';
import { type ResolvedSecrets, type ServerConfig, type ServerConfigInput, parseServerConfig, readSecrets } from './config.js';
import { ApiError, type LeaderHint, RETRY_AFTER_MS, noLeader } from './errors.js';
import { Forwarder, verifyForwardToken } from './forward.js';
import { Gateway } from './gateway.js';
import { ApiHandler, type HandlerHost, type RequestContext, clusterConfigJSON } from './handler.js';
import { HttpApi } from './http-api.js';
import { createServerLogger } from './logger.js';
import { MarketWeighting, ParticipantSigner, transferTarget } from './market-weights.js';
import { ServerMetrics } from './metrics.js';
import { type ApiRequest, isClusterOp } from './protocol.js';
import { ScoringRegistry } from './scoring.js';
import { type AppliedEntry, type MemberAddresses, ServerStateMachine } from './state-machine.js';
import { WebSocketApi } from './ws-api.js';

/** Where a server is in its life. */
export type ServerPhase = 'created' | 'listening' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** The URLs a server listens on, once it does. */
export interface ServerAddresses {
  /** The peer endpoint: `ws://HOST:PORT` (or `wss://`). */
  readonly peerUrl: string;
  /** The client API: `http://HOST:PORT` (or `https://`); its WebSocket protocol is at `/v1/ws`. */
  readonly clientUrl: string;
}

/** The events of a {@link GreenraftServer}. */
export interface ServerEvents {
  /** The node started: storage open, transport and client API up, the engine running. */
  ready: (addresses: ServerAddresses) => void;
  /** This node learned of a new leader, or lost it. */
  leaderChange: (event: { readonly leader: NodeId | undefined; readonly term: number }) => void;
  /** A configuration change removed this node: it no longer takes part (it answers UNAVAILABLE). */
  removed: () => void;
  /** The node stopped for good after a failure it cannot go on from (storage, state machine, a broken invariant). */
  fatal: (error: Error) => void;
  /** `stop()` finished. */
  stopped: () => void;
}

/** Options of {@link createServer} besides the configuration. */
export interface ServerOptions {
  /**
   * Where log lines go (a pino destination stream).
   * @default stdout: JSON lines, or pretty ones on a terminal (`log.format`)
   */
  logDestination?: DestinationStream;
}

/** The state a status answer and a `status` event report. */
export type ServerStatus = Record<string, unknown>;

/**
 * One greenraft node. Create it with {@link createServer}; `start()` runs it, `stop()` stops it
 * gracefully (a leader hands leadership over first, requests in flight finish or fail with
 * `UNAVAILABLE`, storage is closed).
 */
export interface GreenraftServer extends EventEmitter<ServerEvents> {
  readonly id: NodeId;
  /** The validated configuration, defaults filled in. */
  readonly config: ServerConfig;
  readonly phase: ServerPhase;
  /** The URLs it listens on, once listening. */
  readonly addresses: ServerAddresses | undefined;
  /**
   * Opens storage and binds the peer endpoint and the client API, without starting the engine
   * (idempotent; `start()` calls it). With port 0 in the configuration, call it first to learn
   * the ports the OS picked, then tell every node with {@link GreenraftServer.setPeers}.
   */
  listen(): Promise<ServerAddresses>;
  /**
   * Replaces the founding peer map of the configuration (every member's URLs) before `start()`,
   * for clusters whose ports are known only once each node listens; members added or removed at
   * run time still come from the log. Throws `ConfigError` for a bad map.
   */
  setPeers(peers: Readonly<Record<NodeId, { peerUrl: string; clientUrl: string }>>): void;
  /** Starts the node: listens, loads storage, restores the state machine, starts the engine. */
  start(): Promise<void>;
  /** Stops gracefully. Idempotent. */
  stop(): Promise<void>;
  /** Reads the peer and client TLS files again (certificate rotation without a restart). */
  reloadTls(): Promise<void>;
  /** The node's state, as `GET /v1/cluster/status` answers. */
  status(): ServerStatus;
  /** Whether `/readyz` answers 200 now, and each check. */
  readiness(): { ready: boolean; checks: Record<string, unknown> };
  /** The Prometheus text `/metrics` serves. */
  metrics(): Promise<string>;
}

type AnyNode = ConsensusNode<AppliedEntry> & { on: WeightedRaftNode<AppliedEntry>['on'] };

function urlWithPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.origin;
}

class Server extends EventEmitter<ServerEvents> implements GreenraftServer, HandlerHost {
  readonly id: NodeId;
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly #metrics: ServerMetrics;
  readonly state: ServerStateMachine;
  scoring: ScoringRegistry = new ScoringRegistry();
  signer: ParticipantSigner | undefined;
  #phase: ServerPhase = 'created';
  #secrets: ResolvedSecrets | undefined;
  #storage: WalStorage | undefined;
  #transport: WebSocketTransport | undefined;
  #node: AnyNode | undefined;
  #weighting: MarketWeighting | undefined;
  #http: HttpServer | HttpsServer | undefined;
  #ws: WebSocketApi | undefined;
  #gateway: Gateway | undefined;
  #forwarder: Forwarder | undefined;
  #addresses: ServerAddresses | undefined;
  #configPeers: Map<NodeId, MemberAddresses>;
  #listening: Promise<ServerAddresses> | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #role: Role = 'follower';
  #term = 0;
  #leader: NodeId | undefined;
  #lastCommit = 0;
  /** The index of this leader's first entry of its term: once committed, its state is complete (lease reads). */
  #leaderReadyIndex = Number.POSITIVE_INFINITY;
  #removed = false;
  #wasMember = false;
  #statusTimer: ReturnType<typeof setInterval> | undefined;
  /** Snapshots taken here and installed from the leader since start, and the index of the latest. */
  readonly #snapshots = { taken: 0, installed: 0, index: 0 };
  readonly #loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(config: ServerConfig, options: ServerOptions) {
    super();
    this.config = config;
    this.id = config.id;
    this.#configPeers = new Map(Object.entries(config.peers));
    this.logger = createServerLogger({
      node: config.id,
      log: config.log,
      state: () => ({ term: this.#term, role: this.#role }),
      ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    });
    this.#metrics = new ServerMetrics({
      transportStats: () => this.#transport?.stats(),
      voterWeights: () => this.#node?.status().config.incoming.voters ?? new Map(),
      term: () => this.#term,
      commitIndex: () => this.#node?.status().commitIndex ?? 0,
      appliedIndex: () => this.#appliedIndex(),
      sessions: () => this.state.sessions.size,
    });
    this.state = new ServerStateMachine({
      kind: config.stateMachine,
      ...(config.stateMachine === 'market'
        ? {
            market: {
              marketId: config.market?.marketId ?? 'greenraft',
              initialCreditWeight: config.market?.initialCreditWeight ?? 0,
              carbonCycleRounds: config.market?.carbonCycleRounds ?? 365,
              ...(config.market?.prices === undefined ? {} : { prices: config.market.prices }),
            },
          }
        : {}),
    });
  }

  get phase(): ServerPhase {
    return this.#phase;
  }

  get addresses(): ServerAddresses | undefined {
    return this.#addresses;
  }

  get node(): ConsensusNode<AppliedEntry> {
    if (this.#node === undefined) throw new ApiError('UNAVAILABLE', 'the node is starting', { retryAfterMs: RETRY_AFTER_MS });
    return this.#node;
  }

  // ───────────────────────────── lifecycle

  listen(): Promise<ServerAddresses> {
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  async #listen(): Promise<ServerAddresses> {
    const config = this.config;
    this.#secrets = await readSecrets(config);
    if (config.market !== undefined || config.stateMachine === 'market') {
      this.scoring = await ScoringRegistry.load((config.market?.strategies ?? []).map((strategy) => strategy.module));
      if (this.#secrets.participantKeyPem !== undefined) {
        this.signer = new ParticipantSigner(config.id, this.#secrets.participantKeyPem, config.market?.marketId ?? 'greenraft', this.state);
      }
    }
    this.#storage = await walStorage({ directory: config.dataDir, onSync: (event) => this.#metrics.walFsync.observe(event.durationMs / 1000) });
    const recovery = this.#storage.recovery;
    if (recovery.tornTail !== undefined) this.logger.warn({ tornTail: recovery.tornTail }, 'the write-ahead log had a torn tail: an unacknowledged write was dropped');
    const own = this.#configPeers.get(config.id)!;
    const peerListen = new URL(own.peerUrl);
    const peerTls = this.#secrets.peerTls;
    this.#transport = websocketTransport({
      id: config.id,
      clusterId: config.clusterId,
      secret: this.#secrets.clusterSecret,
      host: config.peer.listen?.host ?? peerListen.hostname,
      port: config.peer.listen?.port ?? Number(peerListen.port),
      peers: this.#peerUrls(),
      ...(peerTls === undefined
        ? {}
        : { tls: { cert: peerTls.cert, key: peerTls.key, mutual: peerTls.mutual, ...(peerTls.ca === undefined ? {} : { ca: peerTls.ca }), ...(peerTls.passphrase === undefined ? {} : { passphrase: peerTls.passphrase }) } }),
      ...(config.peer.maxPayload === undefined ? {} : { maxPayload: config.peer.maxPayload }),
      ...(config.peer.maxQueuedMessages === undefined ? {} : { maxQueuedMessages: config.peer.maxQueuedMessages }),
      ...(config.peer.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: config.peer.maxQueuedBytes }),
      ...(config.peer.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: config.peer.handshakeTimeoutMs }),
      ...(config.peer.pingIntervalMs === undefined ? {} : { pingIntervalMs: config.peer.pingIntervalMs }),
      ...(config.peer.pongTimeoutMs === undefined ? {} : { pongTimeoutMs: config.peer.pongTimeoutMs }),
      logger: this.logger.child({ component: 'transport' }),
    });
    const peerUrl = await this.#transport.listen();

    const handler = new ApiHandler(this);
    this.#gateway = new Gateway({
      handler,
      metrics: this.#metrics,
      tokens: this.#secrets.tokens,
      maxInFlightPerConnection: config.client.maxInFlightPerConnection,
      maxInFlightPerNode: config.client.maxInFlightPerNode,
    });
    const httpApi = new HttpApi({
      gateway: this.#gateway,
      registry: this.#metrics.registry,
      logger: this.logger,
      maxRequestBytes: config.client.maxRequestBytes,
      readiness: () => this.readiness(),
    });
    const clientTls = this.#secrets.clientTls;
    const http = clientTls === undefined ? createHttpServer(httpApi.listener) : createHttpsServer({ cert: clientTls.cert, key: clientTls.key, ...(clientTls.ca === undefined ? {} : { ca: clientTls.ca }) }, httpApi.listener);
    http.maxConnections = config.client.maxConnections;
    http.headersTimeout = 10_000;
    http.requestTimeout = config.client.adminTimeoutMs + 10_000;
    http.on('connection', (socket) => {
      this.#metrics.clientConnections.inc({ protocol: 'http' });
      socket.once('close', () => this.#metrics.clientConnections.dec({ protocol: 'http' }));
    });
    http.on('clientError', (_error, socket) => socket.destroy());
    this.#ws = new WebSocketApi({
      gateway: this.#gateway,
      metrics: this.#metrics,
      logger: this.logger,
      maxRequestBytes: config.client.maxRequestBytes,
      maxEventsPerSecond: config.client.maxEventsPerSecond,
      helloResult: () => {
        const leader = this.leaderHint();
        return { node: this.id, leader: leader?.id ?? null, leaderUrl: leader?.url ?? null };
      },
      verifyForwarder: (id, token) => id !== this.id && this.directory().has(id) && verifyForwardToken(this.#secrets!.clusterSecret, config.clusterId, id, token),
      removalNotice: (from) => this.#removalNotice(from),
    });
    this.#ws.attach(http);
    this.#http = http;
    const clientListen = new URL(own.clientUrl);
    const host = config.client.listen?.host ?? clientListen.hostname;
    const port = config.client.listen?.port ?? Number(clientListen.port);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ host, port }, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const bound = (http.address() as AddressInfo).port;
    this.#addresses = { peerUrl, clientUrl: urlWithPort(own.clientUrl, bound) };
    this.#forwarder = new Forwarder({
      nodeId: config.id,
      clusterId: config.clusterId,
      secret: this.#secrets.clusterSecret,
      timeoutMs: config.client.requestTimeoutMs,
      maxPayload: config.client.maxRequestBytes + 1024 * 1024,
      ...(clientTls?.ca === undefined ? {} : { ca: clientTls.ca }),
    });
    if (this.#phase === 'created') this.#phase = 'listening';
    this.logger.info({ peerUrl, clientUrl: this.#addresses.clientUrl, dataDir: config.dataDir }, 'listening');
    return this.#addresses;
  }

  setPeers(peers: Readonly<Record<NodeId, { peerUrl: string; clientUrl: string }>>): void {
    // Checked as the configuration file is: a bad map is a ConfigError naming the field.
    const checked = parseServerConfig({ ...this.config, peers });
    this.#configPeers = new Map(Object.entries(checked.peers));
    this.#transport?.setPeers(this.#peerUrls());
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const addresses = await this.listen();
    if (this.#stopping !== undefined) return;
    this.#phase = 'starting';
    const node = this.#createNode();
    this.#node = node;
    this.#wire(node);
    try {
      await node.start();
    } catch (error) {
      this.#phase = 'failed';
      this.logger.fatal({ err: error }, 'the node could not start');
      throw error;
    }
    const config = node.status().config;
    this.#wasMember = membersOf(config).has(this.id);
    if (!this.#wasMember && config.incoming.voters.size > 0 && !this.config.join) this.#markRemoved();
    if (this.#phase === 'starting') this.#phase = 'running';
    this.#statusTimer = setInterval(() => this.#publishStatus(), this.config.client.statusIntervalMs);
    this.#statusTimer.unref?.();
    this.#loopDelay.enable();
    this.logger.info({ ...addresses, stateMachine: this.config.stateMachine, policy: this.config.policy, join: this.config.join }, 'started');
    this.emit('ready', addresses);
  }

  #createNode(): AnyNode {
    const config = this.config;
    const raft = config.raft;
    const ids = [...this.#configPeers.keys()];
    const common = {
      id: config.id,
      transport: this.#transport!,
      storage: this.#storage!,
      stateMachine: this.state,
      tickMs: raft.tickMs,
      snapshotThreshold: raft.snapshotThreshold,
      proposalTimeoutMs: raft.proposalTimeoutMs,
      maxUncommittedBytes: raft.maxUncommittedBytes,
      preVote: raft.preVote,
      checkQuorum: raft.checkQuorum,
      ...this.#transport!.nodeLimits(),
    };
    if (config.policy === 'classic') {
      return createRaftNode<AppliedEntry>({
        ...common,
        electionTicks: raft.electionTicks ?? 20,
        heartbeatTicks: raft.heartbeatTicks ?? 2,
        ...(config.join ? {} : { bootstrap: configuration(ids) }),
      }) as unknown as AnyNode;
    }
    const weighted = config.weighted ?? { weightResolution: 100, minWeight: 1, electionTimeout: { baseMs: 1000, stepMs: 100, jitterMs: 0 }, preferredLeader: true };
    const founding = config.weights ?? Object.fromEntries(ids.map((id) => [id, 1]));
    if (config.stateMachine === 'market') {
      this.#weighting = new MarketWeighting({
        id: config.id,
        state: this.state,
        registry: this.scoring,
        logger: this.logger,
        signer: this.signer,
        participation: config.market?.participation ?? { enabled: true, intervalMs: 2000, maxPerEntry: 64 },
        timeoutMs: raft.proposalTimeoutMs,
      });
    }
    const node = createWeightedRaftNode<AppliedEntry>({
      ...common,
      ...(raft.electionTicks === undefined ? {} : { electionTicks: raft.electionTicks }),
      ...(raft.heartbeatTicks === undefined ? {} : { heartbeatTicks: raft.heartbeatTicks }),
      ...(config.join ? {} : { weights: founding }),
      ...(weighted.tolerateFailures === undefined ? {} : { tolerateFailures: weighted.tolerateFailures }),
      weightResolution: weighted.weightResolution,
      minWeight: weighted.minWeight,
      electionTimeout: weighted.electionTimeout,
      preferredLeader: weighted.preferredLeader,
      epoch: 0,
      ...(this.#weighting === undefined ? {} : { scoring: this.#weighting.strategy, scoreInputs: this.#weighting.scoreInputs }),
    });
    this.#weighting?.attach(node);
    return node as unknown as AnyNode;
  }

  #wire(node: AnyNode): void {
    node.on('stateChange', ({ to, term }) => {
      this.#role = to;
      this.#term = term;
      this.#metrics.isLeader.set(to === 'leader' ? 1 : 0);
      if (to === 'leader') this.#leaderReadyIndex = node.status().lastIndex;
      this.logger.info({ to }, 'role changed');
    });
    node.on('leaderChange', ({ leader, term }) => {
      const changed = leader !== this.#leader;
      this.#leader = leader;
      this.#term = Math.max(this.#term, term);
      this.#metrics.hasLeader.set(leader === undefined ? 0 : 1);
      if (changed && leader !== undefined) this.#metrics.leaderChanges.inc();
      this.logger.info({ leader: leader ?? null }, leader === undefined ? 'leader lost' : 'leader known');
      const hint = this.leaderHint();
      this.#ws?.publish('leader', { leader: leader ?? null, leaderUrl: hint?.url ?? null, term });
      this.emit('leaderChange', { leader, term });
    });
    node.on('commit', ({ index }) => {
      if (index > this.#lastCommit) this.#metrics.proposalsCommitted.inc(index - this.#lastCommit);
      this.#lastCommit = index;
    });
    node.on('apply', () => this.#metrics.proposalsApplied.inc());
    node.on('commitQuorum', (quorum) => {
      if (this.#ws !== undefined && this.#ws.subscribers('commitQuorum') > 0) this.#ws.publish('commitQuorum', quorum);
    });
    node.on('configChange', ({ index, config }) => {
      const isMember = membersOf(config).has(this.id);
      this.logger.info({ index, config: clusterConfigJSON(config) }, 'configuration changed');
      if (isMember) this.#wasMember = true;
      else if (this.#wasMember && config.outgoing === undefined) this.#markRemoved();
    });
    node.on('snapshot', ({ index, installed }) => {
      if (installed) this.#snapshots.installed++;
      else this.#snapshots.taken++;
      this.#snapshots.index = index;
      this.logger.info({ index, installed }, installed ? 'installed the leader\u2019s snapshot' : 'took a snapshot');
    });
    node.on('error', (error) => {
      if (error instanceof InvalidMessageError || error instanceof TransportError) {
        this.logger.warn({ err: error }, 'dropped a bad message from a peer');
        return;
      }
      if (this.#phase === 'stopping' || this.#phase === 'stopped') return;
      this.#phase = 'failed';
      this.logger.fatal({ err: error }, 'the node stopped after a fatal error');
      this.emit('fatal', error);
    });
    this.state.on('membersChange', () => this.#transport?.setPeers(this.#peerUrls()));
    this.state.on('round', (summary) => this.logger.info({ round: summary.round, voteWeights: summary.voteWeights ? Object.fromEntries(summary.voteWeights) : null }, 'market round settled'));
    this.state.on('applied', (applied) => {
      if ((applied.op === 'market' || applied.op === 'market.participation') && this.#ws !== undefined && this.#ws.subscribers('market') > 0) {
        this.#ws.publish('market', { index: applied.appliedAt, term: applied.term, op: applied.op, duplicate: applied.duplicate, outcome: applied.outcome });
      }
    });
  }

  /**
   * The leader's word that this node was removed. A removed node never receives C(new) (it takes
   * effect on the leader's append, without it), so it cannot see its removal in its own log; it
   * believes the notice only when its log already has it on the way out (outgoing half only).
   */
  #removalNotice(from: NodeId): boolean {
    const config = this.#node?.status().config;
    if (config === undefined || config.incoming.voters.has(this.id) || config.incoming.learners.has(this.id)) return false;
    this.logger.info({ from }, 'told of this node\u2019s removal, which its log confirms');
    this.#markRemoved();
    return true;
  }

  /** Tells `member` it was removed (best effort: a node cut off then never learns, and its pre-votes are refused). */
  notifyRemoved(member: NodeId, clientUrl: string | undefined): void {
    if (clientUrl === undefined || this.#forwarder === undefined) return;
    this.#forwarder.notifyRemoved(clientUrl, 2000).catch((error) => this.logger.warn({ member, err: error }, 'could not tell the removed member'));
  }

  #markRemoved(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.logger.warn({}, 'this node was removed from the cluster: it stops taking part');
    this.#forwarder?.close();
    // Stopping the engine ends this node's participation: no more votes, acknowledgements or campaigns.
    this.#node?.stop().catch(() => undefined);
    this.emit('removed');
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const config = this.config;
    const previous = this.#phase;
    this.#phase = 'stopping';
    this.logger.info({}, 'stopping');
    clearInterval(this.#statusTimer);
    this.#loopDelay.disable();
    await this.#starting?.catch(() => undefined);
    const node = this.#node;
    if (node !== undefined && previous !== 'failed' && !this.#removed) {
      const status = node.status();
      const target = status.role === 'leader' ? transferTarget(status, this.id) : undefined;
      if (target !== undefined) {
        // No point waiting out the deadline once this node stepped down (its peers are stopping too, say).
        let stepDown!: () => void;
        const steppedDown = new Promise<void>((resolve) => {
          stepDown = resolve;
        });
        const onRole = ({ to }: { to: Role }) => {
          if (to !== 'leader') stepDown();
        };
        node.on('stateChange', onRole);
        try {
          const transfer = node.transferLeadership(target, { timeoutMs: config.shutdown.transferTimeoutMs });
          transfer.catch(() => undefined); // it may settle after the race: never an unhandled rejection
          await Promise.race([transfer, steppedDown]);
          this.logger.info({ to: target, leader: this.#leader ?? null }, 'handed leadership over before stopping');
        } catch (error) {
          this.logger.warn({ to: target, err: error }, 'could not hand leadership over before stopping');
        } finally {
          node.off('stateChange', onRole);
        }
      }
    }
    await this.#gateway?.drain(config.shutdown.drainTimeoutMs);
    this.#weighting?.stop();
    this.#forwarder?.close();
    this.#ws?.close();
    if (this.#http !== undefined) {
      const http = this.#http;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
    try {
      if (node !== undefined) await node.stop();
      else await this.#transport?.stop();
    } catch (error) {
      this.logger.warn({ err: error }, 'stopping the engine failed');
    }
    try {
      await this.#storage?.close();
    } catch (error) {
      this.logger.warn({ err: error }, 'closing the storage failed');
    }
    this.#phase = 'stopped';
    this.logger.info({}, 'stopped');
    this.logger.flush?.();
    this.emit('stopped');
  }

  async reloadTls(): Promise<void> {
    if (this.#secrets?.peerTls !== undefined) await this.#transport?.reloadTls();
    const tls = this.config.client.tls;
    if (tls !== undefined && this.#http !== undefined && 'setSecureContext' in this.#http) {
      const [cert, key, ca] = await Promise.all([readFile(tls.certFile, 'utf8'), readFile(tls.keyFile, 'utf8'), tls.caFile === undefined ? undefined : readFile(tls.caFile, 'utf8')]);
      this.#http.setSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }) });
    }
    this.logger.info({}, 'TLS material reloaded');
  }

  // ───────────────────────────── HandlerHost

  unavailable(): ApiError | undefined {
    switch (this.#phase) {
      case 'running':
        return this.#removed ? new ApiError('UNAVAILABLE', 'this node was removed from the cluster') : undefined;
      case 'stopping':
      case 'stopped':
        return new ApiError('UNAVAILABLE', 'the node is stopping', { retryAfterMs: RETRY_AFTER_MS });
      case 'failed':
        return new ApiError('UNAVAILABLE', 'the node stopped after a fatal error', { retryAfterMs: RETRY_AFTER_MS });
      default:
        return new ApiError('UNAVAILABLE', 'the node is starting', { retryAfterMs: RETRY_AFTER_MS });
    }
  }

  directory(): Map<NodeId, MemberAddresses> {
    const directory = new Map(this.#configPeers);
    for (const [id, addresses] of this.state.members) directory.set(id, addresses);
    for (const id of this.state.removed) directory.delete(id);
    if (this.#addresses !== undefined) directory.set(this.id, this.#addresses);
    return directory;
  }

  #peerUrls(): Record<NodeId, string> {
    const urls: Record<NodeId, string> = {};
    for (const [id, addresses] of this.directory()) if (id !== this.id) urls[id] = addresses.peerUrl;
    return urls;
  }

  leaderHint(): LeaderHint | undefined {
    const leader = this.#leader;
    if (leader === undefined) return undefined;
    const url = this.directory().get(leader)?.clientUrl;
    return url === undefined ? { id: leader } : { id: leader, url };
  }

  nextLeader(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off('leaderChange', onLeader);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onLeader = ({ leader }: { readonly leader: NodeId | undefined }) => {
        if (leader !== undefined) done();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.on('leaderChange', onLeader);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async forward(request: ApiRequest, context: RequestContext): Promise<unknown> {
    const leader = this.leaderHint();
    if (leader === undefined || leader.url === undefined || this.#forwarder === undefined) {
      throw noLeader(leader, leader === undefined ? {} : { message: `the leader ${leader.id}'s client URL is unknown` });
    }
    this.#metrics.forwarded.inc({ op: request.op });
    if (isClusterOp(request.op)) return this.#forwarder.forward(leader.url, request, context.clientId, this.config.client.adminTimeoutMs + 1000);
    // A read or write takes what is left of its deadline to the leader, which answers TIMEOUT when
    // it passes; this node's own timer, a second later, only covers a leader that went silent.
    const leftMs = Math.max(1, Math.ceil((context.deadline ?? performance.now() + this.config.client.requestTimeoutMs) - performance.now()));
    return this.#forwarder.forward(leader.url, request, context.clientId, leftMs + 1000, leftMs);
  }

  leaseHolds(): boolean {
    const node = this.#node;
    if (node === undefined) return false;
    const status = node.status();
    if (status.role !== 'leader' || status.commitIndex < this.#leaderReadyIndex || this.#appliedIndex() < status.commitIndex) return false;
    const heard = (id: NodeId) => id === this.id || status.progress?.get(id)?.recentActive === true;
    const quorum = (voters: ReadonlyMap<NodeId, number>) => {
      let total = 0;
      let active = 0;
      for (const [id, weight] of voters) {
        total += weight;
        if (heard(id)) active += weight;
      }
      return 2 * active > total;
    };
    return quorum(status.config.incoming.voters) && (status.config.outgoing === undefined || quorum(status.config.outgoing.voters));
  }

  trackProposal<T>(proposal: Promise<T>): Promise<T> {
    const metrics = this.#metrics;
    metrics.proposalsPending.inc();
    return proposal.then(
      (value) => {
        metrics.proposalsPending.dec();
        return value;
      },
      (error: unknown) => {
        metrics.proposalsPending.dec();
        metrics.proposalsFailed.inc({ reason: (error as { code?: string })?.code ?? 'UNKNOWN' });
        throw error;
      },
    );
  }

  status(): ServerStatus {
    const node = this.#node;
    const status = node?.status();
    const leader = this.leaderHint();
    const directory: Record<string, MemberAddresses> = {};
    for (const [id, addresses] of [...this.directory()].sort(([a], [b]) => (a < b ? -1 : 1))) directory[id] = addresses;
    const market = this.state.market;
    return {
      node: this.id,
      phase: this.#phase,
      role: this.#removed ? 'removed' : (status?.role ?? this.#role),
      term: status?.term ?? this.#term,
      leader: leader?.id ?? null,
      leaderUrl: leader?.url ?? null,
      commitIndex: status?.commitIndex ?? 0,
      appliedIndex: this.#appliedIndex(),
      lastIndex: status?.lastIndex ?? 0,
      config: status === undefined ? null : clusterConfigJSON(status.config),
      members: directory,
      stateMachine: this.config.stateMachine,
      policy: this.config.policy,
      snapshots: { ...this.#snapshots },
      ...(market === undefined
        ? {}
        : {
            scoring: { ...this.state.scoring, available: this.#canScore() },
            market: { round: market.round(), head: market.ledgerHead() },
          }),
    };
  }

  /**
   * The highest log index this node has applied: the engine's count, which includes the entries
   * the state machine never sees (a new leader's no-op, configuration entries), so it reaches the
   * commit index once everything committed is applied.
   */
  #appliedIndex(): number {
    return Math.max(this.#node?.status().appliedIndex ?? 0, this.state.appliedIndex);
  }

  #canScore(): boolean {
    try {
      this.scoring.strategy(this.state.scoring);
      return true;
    } catch {
      return false;
    }
  }

  marketWeights(): Record<string, unknown> {
    const market = this.state.market!;
    const voters = this.#node?.status().config.incoming.voters ?? new Map<NodeId, number>();
    const selection = this.state.scoring;
    const inForce = Object.fromEntries(voters);
    let scores: Record<string, number> | null = null;
    let derived: Record<string, number> | null = null;
    let problem: string | undefined;
    try {
      const strategy = this.scoring.strategy(selection);
      const inputs = this.#weighting?.scoreInputs({ voters }) ?? market.scoreInputs();
      const scored = strategy.score(inputs);
      scores = Object.fromEntries(scored);
      const weighted = this.config.weighted;
      derived = Object.fromEntries(
        toVoteWeights(scored, {
          ...(weighted?.tolerateFailures === undefined ? {} : { tolerateFailures: weighted.tolerateFailures }),
          resolution: weighted?.weightResolution ?? 100,
          minWeight: weighted?.minWeight ?? 1,
        }),
      );
    } catch (error) {
      problem = (error as Error).message;
    }
    return {
      strategy: selection,
      available: this.#canScore(),
      round: market.round(),
      scores,
      derived,
      inForce,
      ...(problem === undefined ? {} : { problem }),
    };
  }

  // ───────────────────────────── health, metrics, events

  readiness(): { ready: boolean; checks: Record<string, unknown> } {
    const status = this.#node?.status();
    const commitIndex = status?.commitIndex ?? 0;
    const appliedIndex = this.#appliedIndex();
    const lag = Math.max(0, commitIndex - appliedIndex);
    const checks = {
      phase: this.#phase,
      storage: this.#storage !== undefined && this.#storage.failure === undefined && this.#phase === 'running',
      leader: this.#leader ?? null,
      removed: this.#removed,
      applied: { commitIndex, appliedIndex, lag, maxApplyLag: this.config.readiness.maxApplyLag },
    };
    const ready = checks.storage && this.#leader !== undefined && !this.#removed && lag <= this.config.readiness.maxApplyLag;
    return { ready, checks };
  }

  metrics(): Promise<string> {
    return this.#metrics.registry.metrics();
  }

  #publishStatus(): void {
    const ws = this.#ws;
    if (ws === undefined || ws.subscribers('status') === 0) return;
    const stats = this.#transport?.stats();
    const peers: Record<string, unknown> = {};
    for (const [id, peer] of Object.entries(stats?.peers ?? {})) peers[id] = { connected: peer.connected, rttMs: peer.smoothedRttMs ?? null };
    let scores: Record<string, number> | null = null;
    if (this.state.market !== undefined) {
      try {
        scores = Object.fromEntries(this.scoring.strategy(this.state.scoring).score(this.state.market.scoreInputs()));
      } catch {
        scores = null;
      }
    }
    const lag = { meanMs: this.#loopDelay.mean / 1e6, maxMs: this.#loopDelay.max / 1e6 };
    this.#loopDelay.reset();
    const config = this.#node?.status().config;
    ws.publish('status', {
      ...this.status(),
      weights: config === undefined ? null : Object.fromEntries(config.incoming.voters),
      scores,
      peers,
      eventLoopLagMs: Number.isFinite(lag.meanMs) ? lag : null,
      inFlight: this.#gateway?.inFlight ?? 0,
      sessions: this.state.sessions.size,
    });
  }
}

/**
 * Creates one greenraft node from its configuration (an object as `loadServerConfig` returns it,
 * or as a file holds it: it is validated either way). Call `start()` to run it.
 *
 * @throws {@link ConfigError} when the configuration is invalid (each issue names its field).
 *
 * @example
 * ```ts
 * import { createServer } from '@greenraft/server';
 *
 * const server = createServer({
 *   id: 'n1',
 *   clusterId: 'grid-east',
 *   dataDir: './data/n1',
 *   clusterSecretFile: './cluster.secret',
 *   peers: { n1: { peerUrl: 'ws://127.0.0.1:7001', clientUrl: 'http://127.0.0.1:7101' } },
 * });
 * await server.start();
 * process.once('SIGTERM', () => void server.stop());
 * ```
 */
export function createServer(config: ServerConfigInput | ServerConfig, options: ServerOptions = {}): GreenraftServer {
  return new Server(parseServerConfig(config), options);
}

