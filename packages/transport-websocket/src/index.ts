/**
 * The greenraft peer `Transport` (from `@greenraft/consensus`) over WebSocket, for clusters of
 * separate processes and hosts: `ws` with `bufferutil`, binary msgpack frames checked against the
 * one message schema before the node sees them, peers authenticated by an HMAC challenge–response
 * on the cluster secret with their node id bound to the connection, optional TLS and mutual TLS
 * with certificate reload, two lanes per peer so votes and heartbeats never wait behind log data,
 * bounded queues that drop and count rather than grow, reconnection with jittered exponential
 * backoff, ping/pong round-trip times, and counters a server can export.
 *
 * @example
 * ```ts
 * import { type ApplyInput, type StateMachine, configuration } from '@greenraft/consensus';
 * import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
 * import { websocketTransport } from '@greenraft/transport-websocket';
 *
 * // A replicated meter-reading ledger: apply returns how many readings it holds.
 * class MeterLedger implements StateMachine<number> {
 *   readings: string[] = [];
 *   apply({ data }: ApplyInput): number {
 *     this.readings.push(new TextDecoder().decode(data));
 *     return this.readings.length;
 *   }
 *   snapshot(): Uint8Array {
 *     return new TextEncoder().encode(JSON.stringify(this.readings));
 *   }
 *   restore(data: Uint8Array): void {
 *     this.readings = JSON.parse(new TextDecoder().decode(data)) as string[];
 *   }
 * }
 *
 * const ids = ['n1', 'n2', 'n3'];
 * const secret = 'a long random secret that only the members share'; // at least 16 bytes
 * const transports = ids.map((id) => websocketTransport({ id, clusterId: 'grid-east', secret }));
 * // Port 0 lets the OS pick each endpoint's port; then every node learns every URL.
 * const peers = Object.fromEntries(await Promise.all(transports.map(async (t) => [t.localId, await t.listen()])));
 * for (const transport of transports) transport.setPeers(peers);
 *
 * const nodes = transports.map((transport) =>
 *   createRaftNode({
 *     id: transport.localId,
 *     transport,
 *     storage: memoryStorage(),
 *     stateMachine: new MeterLedger(),
 *     bootstrap: configuration(ids),
 *     ...transport.nodeLimits(), // append and snapshot sizes that fit the transport's frames and queues
 *   }),
 * );
 * const elected = new Promise<RaftNode<number>>((resolve) => {
 *   for (const node of nodes) node.on('stateChange', ({ to }) => to === 'leader' && resolve(node));
 * });
 * await Promise.all(nodes.map((node) => node.start()));
 *
 * const leader = await elected;
 * const { result } = await leader.propose(new TextEncoder().encode('meter-7: 12.5 kWh'));
 * console.log(result); // 1: the ledger holds one reading
 * const follower = transports.find((t) => t.localId !== leader.id)!;
 * console.log(follower.stats().peers[leader.id]!.messagesReceived > 0); // true
 *
 * await Promise.all(nodes.map((node) => node.stop())); // stops the transports too
 * ```
 *
 * @packageDocumentation
 */
export { websocketTransport } from './transport.js';
export type { NodeLimits, WebSocketTransport } from './transport.js';
export type { PemSource, ReconnectInit, TlsInit, TransportLogger, WebSocketTransportInit } from './options.js';
export { DROP_REASONS, HANDSHAKE_FAILURE_REASONS } from './stats.js';
export type { DropReason, HandshakeFailureReason, PeerStats, WebSocketTransportStats } from './stats.js';
