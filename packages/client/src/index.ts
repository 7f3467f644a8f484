/**
 * The application client of a greenraft cluster, for Node 20+ and browsers: it speaks the client
 * WebSocket protocol of `@greenraft/server` (docs/client-protocol.md), connects to any node and
 * follows the leader, pipelines requests on one connection, fails over across endpoints with
 * jittered backoff, and retries a failed attempt (a dropped connection, a timeout, `UNAVAILABLE`)
 * with the same idempotency key, so a retried write is applied once. Every call takes an
 * `AbortSignal` and a deadline and rejects with a typed error that says, for a write, whether it
 * may have been applied. Market helpers that sign transactions are in `@greenraft/client/market`.
 *
 * @example
 * ```ts
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createClient, isOutcomeUnknown } from '@greenraft/client';
 * import { createServer } from '@greenraft/server';
 *
 * // Three nodes on loopback (port 0: the OS picks). A real deployment runs `greenraft cluster`,
 * // or one `greenraft node --config FILE` per host, and the client only needs their client URLs.
 * const dataDir = mkdtempSync(join(tmpdir(), 'greenraft-client-'));
 * const ids = ['n1', 'n2', 'n3'];
 * const servers = ids.map((id) =>
 *   createServer({
 *     id,
 *     clusterId: 'example',
 *     dataDir: join(dataDir, id),
 *     clusterSecret: 'an example secret, 16 characters or more',
 *     peers: { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } },
 *     log: { level: 'error' },
 *   }),
 * );
 * const addresses = await Promise.all(servers.map((server) => server.listen()));
 * for (const server of servers) server.setPeers(Object.fromEntries(ids.map((id, i) => [id, addresses[i]!])));
 * await Promise.all(servers.map((server) => server.start()));
 *
 * // Any node will do: the client moves to the leader, and retries while one is being elected.
 * const client = createClient({ endpoints: addresses.map((address) => address.clientUrl) });
 * await client.put('meter-7', '12.5');
 * const { swapped } = await client.cas('meter-7', '12.5', '13.0');
 * const { value } = await client.get('meter-7'); // linearizable by default
 * console.log(swapped, value);
 *
 * try {
 *   await client.put('meter-8', '4.2', { timeoutMs: 2000, signal: AbortSignal.timeout(5000) });
 * } catch (err) {
 *   // A timeout or abort after the write was sent: it may have been applied. Retrying with the same
 *   // idempotency key (idempotencyKeyOf(err)) applies it at most once.
 *   if (isOutcomeUnknown(err)) console.log('outcome unknown');
 *   else throw err;
 * }
 * console.log((await client.status()).config.voters);
 *
 * await client.close();
 * await Promise.all(servers.map((server) => server.stop()));
 * rmSync(dataDir, { recursive: true, force: true });
 * ```
 *
 * @packageDocumentation
 */
export { createClient } from './client.js';
export type { ClientInit, RetryInit } from './options.js';
export type { JsonValue } from './protocol.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
export {
  BadRequestError,
  ClientClosedError,
  type ClientErrorCode,
  type ClientErrorOptions,
  ConflictError,
  idempotencyKeyOf,
  isOutcomeUnknown,
  type LeaderHint,
  NotFoundError,
  OutcomeError,
  type ProtocolErrorCode,
  ProtocolError,
  RejectedError,
  ServerInternalError,
  TooLargeError,
  TooManyRequestsError,
  UnauthenticatedError,
  UnavailableError,
} from './errors.js';
export { AbortError, NotLeaderError, TimeoutError } from '@greenraft/consensus';
export {
  type AdminCalls,
  type CallOptions,
  type CasCommand,
  type CasResult,
  type ClientEvent,
  type CommandResult,
  type ClientStats,
  type ClusterConfiguration,
  type ClusterStatus,
  CONSISTENCY_LEVELS,
  type Consistency,
  type DeleteCommand,
  type DeleteResult,
  type GetOptions,
  type GetResult,
  type GreenraftClient,
  type KvCommand,
  MARKET_QUERIES,
  type MarketCalls,
  type MarketCommand,
  type MarketQuery,
  type MarketQueryOptions,
  type MemberInit,
  type ProposeCommand,
  type ProposeResult,
  type PutCommand,
  type PutResult,
  type QuorumAck,
  type SubmitResult,
  type SubscribeOptions,
  type Subscription,
  SUBSCRIPTION_TOPICS,
  type SubscriptionEventMap,
  type SubscriptionTopic,
  type WriteOptions,
} from './types.js';
