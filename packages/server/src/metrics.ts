/**
 * The server's Prometheus metrics (prom-client), with etcd-like names: one registry per server,
 * so several servers in one process (tests, embedding) never share counters. Gauges and counters
 * that mirror another component's state are read when Prometheus scrapes.
 */
import type { WebSocketTransportStats } from '@greenraft/transport-websocket';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read at scrape time. */
export interface MetricsSource {
  transportStats(): WebSocketTransportStats | undefined;
  /** Voters of the configuration in effect (incoming half) and their weights. */
  voterWeights(): ReadonlyMap<string, number>;
  term(): number;
  commitIndex(): number;
  appliedIndex(): number;
  sessions(): number;
}

/** The metrics of one server. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly leaderChanges: Counter;
  readonly proposalsCommitted: Counter;
  readonly proposalsApplied: Counter;
  readonly proposalsPending: Gauge;
  readonly proposalsFailed: Counter<'reason'>;
  readonly walFsync: Histogram;
  readonly clientRequests: Counter<'op' | 'code'>;
  readonly clientInFlight: Gauge;
  readonly clientConnections: Gauge<'protocol'>;
  readonly forwarded: Counter<'op'>;
  readonly eventsDropped: Counter<'topic'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.hasLeader = new Gauge({ name: 'greenraft_server_has_leader', help: '1 when this node knows a leader, else 0', registers });
    this.isLeader = new Gauge({ name: 'greenraft_server_is_leader', help: '1 when this node is the leader, else 0', registers });
    this.leaderChanges = new Counter({ name: 'greenraft_server_leader_changes_seen_total', help: 'Leader changes this node has seen', registers });
    this.proposalsCommitted = new Counter({ name: 'greenraft_server_proposals_committed_total', help: 'Log entries this node has seen committed', registers });
    this.proposalsApplied = new Counter({ name: 'greenraft_server_proposals_applied_total', help: 'Log entries this node has applied to its state machine', registers });
    this.proposalsPending = new Gauge({ name: 'greenraft_server_proposals_pending', help: 'Proposals this node made that are not settled yet', registers });
    this.proposalsFailed = new Counter({
      name: 'greenraft_server_proposals_failed_total',
      help: 'Proposals this node made that failed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.walFsync = new Histogram({
      name: 'greenraft_disk_wal_fsync_duration_seconds',
      help: 'Write-ahead log fsync latency, as the WAL measured it',
      buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192],
      registers,
    });
    new Gauge({ name: 'greenraft_server_term', help: 'The current Raft term', registers, collect() { this.set(source.term()); } });
    new Gauge({ name: 'greenraft_server_commit_index', help: 'The highest log index known committed', registers, collect() { this.set(source.commitIndex()); } });
    new Gauge({ name: 'greenraft_server_applied_index', help: 'The highest log index applied to the state machine', registers, collect() { this.set(source.appliedIndex()); } });
    new Gauge({ name: 'greenraft_server_sessions', help: 'Idempotency keys remembered (client sessions)', registers, collect() { this.set(source.sessions()); } });
    new Gauge({
      name: 'greenraft_server_weight',
      help: 'The vote weight of each voter in the configuration in effect',
      labelNames: ['voter'],
      registers,
      collect() {
        this.reset();
        for (const [voter, weight] of source.voterWeights()) this.set({ voter }, weight);
      },
    });
    new Gauge({
      name: 'greenraft_network_peer_round_trip_time_seconds',
      help: 'Smoothed round-trip time to each peer (ping/pong on the control lane)',
      labelNames: ['To'],
      registers,
      collect() {
        this.reset();
        const stats = source.transportStats();
        for (const [peer, peerStats] of Object.entries(stats?.peers ?? {})) {
          if (peerStats.smoothedRttMs !== undefined) this.set({ To: peer }, peerStats.smoothedRttMs / 1000);
        }
      },
    });
    // Counters mirroring the transport's own: each scrape adds what grew since the last one.
    const mirrored = (name: string, help: string, label: string, read: (stats: WebSocketTransportStats) => Iterable<[string, number]>) => {
      const seen = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          const stats = source.transportStats();
          if (stats === undefined) return;
          for (const [key, value] of read(stats)) {
            const delta = value - (seen.get(key) ?? 0);
            if (delta > 0) this.inc({ [label]: key }, delta);
            seen.set(key, value);
          }
        },
      });
    };
    mirrored('greenraft_network_peer_sent_bytes_total', 'Bytes of Raft messages sent to each peer', 'To', (stats) =>
      Object.entries(stats.peers).map(([peer, s]) => [peer, s.bytesSent] as [string, number]),
    );
    mirrored('greenraft_network_peer_received_bytes_total', 'Bytes received from each peer', 'From', (stats) =>
      Object.entries(stats.peers).map(([peer, s]) => [peer, s.bytesReceived] as [string, number]),
    );
    mirrored('greenraft_network_dropped_messages_total', 'Raft messages the transport dropped, by reason', 'reason', (stats) => Object.entries(stats.drops));
    mirrored('greenraft_network_handshake_failures_total', 'Peer handshakes refused or failed, by reason', 'reason', (stats) => Object.entries(stats.handshakeFailures));
    this.clientRequests = new Counter({ name: 'greenraft_server_client_requests_total', help: 'Client API requests answered, by operation and code', labelNames: ['op', 'code'], registers });
    this.clientInFlight = new Gauge({ name: 'greenraft_server_client_requests_in_flight', help: 'Client API requests in flight on this node', registers });
    this.clientConnections = new Gauge({ name: 'greenraft_server_client_connections', help: 'Open client connections', labelNames: ['protocol'], registers });
    this.forwarded = new Counter({ name: 'greenraft_server_forwarded_requests_total', help: 'Requests this node forwarded to the leader', labelNames: ['op'], registers });
    this.eventsDropped = new Counter({ name: 'greenraft_server_subscription_events_dropped_total', help: 'Subscription events dropped (rate or backpressure)', labelNames: ['topic'], registers });
    this.hasLeader.set(0);
    this.isLeader.set(0);
  }
}
