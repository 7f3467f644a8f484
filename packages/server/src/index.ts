/**
 * One greenraft node as a process: WebSocket peers, a write-ahead log in the data directory, a
 * replicated state machine (a KV store with exactly-once client sessions, or the power market),
 * classic or weighted Raft, the client API over WebSocket (`/v1/ws`) and HTTP/JSON, Prometheus
 * metrics, `/livez` and `/readyz`, pino logs, and a graceful lifecycle. In a weighted market
 * cluster the vote weights come from the replicated market. `greenraft node --config FILE` runs
 * it from the command line; `createServer(config)` runs it in your own process.
 *
 * @example
 * ```ts
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createServer } from '@greenraft/server';
 *
 * const dataDir = mkdtempSync(join(tmpdir(), 'greenraft-'));
 * const server = createServer({
 *   id: 'n1',
 *   clusterId: 'example',
 *   dataDir,
 *   clusterSecret: 'an example secret, 16 characters or more',
 *   // A one-node cluster; port 0 lets the OS pick free ports.
 *   peers: { n1: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } },
 *   raft: { tickMs: 10 },
 *   log: { level: 'warn' },
 * });
 * await server.start();
 * const url = server.addresses!.clientUrl;
 * while ((await fetch(`${url}/readyz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
 *
 * const put = await fetch(`${url}/v1/kv/meter-7`, { method: 'PUT', body: '12.5', headers: { 'Idempotency-Key': 'reading-1' } });
 * console.log(await put.json());
 * const get = await fetch(`${url}/v1/kv/meter-7`); // linearizable by default
 * console.log(await get.json());
 *
 * await server.stop();
 * rmSync(dataDir, { recursive: true, force: true });
 * ```
 *
 * @packageDocumentation
 */
export { createServer } from './server.js';
export type { GreenraftServer, ServerAddresses, ServerEvents, ServerOptions, ServerPhase, ServerStatus } from './server.js';
export { loadServerConfig, parseServerConfig, serverConfigSchema } from './config.js';
export type { ParseServerConfigOptions, ServerConfig, ServerConfigInput } from './config.js';
export { API_ERROR_STATUS, ApiError, ConfigError } from './errors.js';
export type { ApiErrorBody, ApiErrorCode, ApiErrorOptions, ConfigIssue, LeaderHint } from './errors.js';
export { API_OPS, CONSISTENCY_LEVELS, MARKET_QUERIES, TOPICS } from './protocol.js';
export type { ApiOp, Consistency, Topic } from './protocol.js';
export { PROTOCOL_VERSION } from './ws-api.js';
export { SESSION_LIMITS } from './sessions.js';
export type { SessionLimits } from './sessions.js';
export { BUILTIN_STRATEGIES } from './scoring.js';
export type { ScoringStrategyModule } from './scoring.js';
export { DEFAULT_SCORING } from './state-machine.js';
export type { ScoringSelection } from './state-machine.js';
