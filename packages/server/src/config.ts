import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import { formatIssues } from './validation.js';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A node id: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or a digit (also a valid market participant id). */
const nodeId = z.string().regex(NODE_ID, { error: 'expected a node id: 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit' });

function urlWith(protocols: readonly string[]) {
  const expected = `expected a ${protocols.map((protocol) => `${protocol}//`).join(' or ')} URL with a host and a port`;
  return z.string().refine(
    (text) => {
      try {
        const url = new URL(text);
        return protocols.includes(url.protocol) && url.hostname.length > 0 && url.port.length > 0 && (url.pathname === '/' || url.pathname === '');
      } catch {
        return false;
      }
    },
    { error: (issue) => `${expected}, got ${JSON.stringify(issue.input)}` },
  );
}

const peerUrl = urlWith(['ws:', 'wss:']);
const clientUrl = urlWith(['http:', 'https:']);
const file = z.string().min(1);
const positiveMs = z.int().min(1).max(86_400_000);

const listenSchema = z.strictObject({
  /** The address to bind. @default the host of this node's URL in `peers` */
  host: z.string().min(1).optional(),
  /** The port to bind; 0 lets the OS pick. @default the port of this node's URL in `peers` */
  port: z.int().min(0).max(65535).optional(),
});

const memberSchema = z.strictObject({
  /** Where the node's peer endpoint (Raft messages) is reached: `ws://HOST:PORT` or `wss://HOST:PORT`. */
  peerUrl,
  /** Where the node's client API is reached: `http://HOST:PORT` or `https://HOST:PORT`. */
  clientUrl,
});

const tokenSchema = z
  .strictObject({
    /** Who the token belongs to: the client id its requests are scoped to. */
    subject: z.string().min(1).max(128),
    /** The token itself (at least 16 characters); prefer `tokenFile`. */
    token: z.string().min(16).max(4096).optional(),
    /** A file holding the token (surrounding whitespace is ignored). */
    tokenFile: file.optional(),
  })
  .superRefine((token, context) => {
    if ((token.token === undefined) === (token.tokenFile === undefined)) {
      context.addIssue({ code: 'custom', path: ['token'], message: 'expected exactly one of token and tokenFile' });
    }
  });

const raftSchema = z.strictObject({
  /** Milliseconds per engine tick. */
  tickMs: z.int().min(1).max(10_000).default(50),
  /** Classic policy: election timeout in ticks (randomised between it and twice it). Weighted: the check-quorum window. */
  electionTicks: z.int().min(2).max(10_000).optional(),
  /** Ticks between heartbeats. */
  heartbeatTicks: z.int().min(1).max(10_000).optional(),
  /** Applied entries between snapshots (and log compactions). */
  snapshotThreshold: z.int().min(1).default(10_000),
  /** Deadline of a proposal, a read barrier, a configuration change or a leadership transfer. */
  proposalTimeoutMs: positiveMs.default(5000),
  /** Bytes of uncommitted entries the leader accepts before refusing proposals (0 = no limit). */
  maxUncommittedBytes: z.int().min(0).default(64 * 1024 * 1024),
  /** Pre-vote (Raft thesis §9.6). */
  preVote: z.boolean().default(true),
  /** Check-quorum and the leader lease (thesis §6.2). */
  checkQuorum: z.boolean().default(true),
});

const weightedSchema = z.strictObject({
  /** f: the f heaviest voters stay below half the total weight. @default ⌊(n − 1) / 2⌋ */
  tolerateFailures: z.int().min(0).optional(),
  /** Weight units for a score of 100. */
  weightResolution: z.int().min(1).max(1_000_000).default(100),
  /** The least weight a voter gets from its score. */
  minWeight: z.int().min(0).default(1),
  /** Paper eq. 7: timeout = baseMs + stepMs · rank (+ jitter). */
  electionTimeout: z
    .strictObject({
      baseMs: z.int().min(1).max(600_000).default(1000),
      stepMs: z.int().min(0).max(600_000).default(100),
      jitterMs: z.int().min(0).max(600_000).default(0),
    })
    .prefault({}),
  /** The leader hands over to the heaviest caught-up voter. */
  preferredLeader: z.boolean().default(true),
});

const marketSchema = z.strictObject({
  /** The market's id (signatures bind it). Must be the same on every node. */
  marketId: z.string().min(1).max(256).default('greenraft'),
  /** A new participant's credit weight W_a. Must be the same on every node. */
  initialCreditWeight: z.number().min(0).max(100).default(0),
  /** The grid's prices S, B and G (yuan/kWh). Must be the same on every node. @default the paper's (0.4, 0.75, 0.04) */
  prices: z.strictObject({ feedInTariff: z.number().min(0).max(10), gridPurchasePrice: z.number().min(0).max(10), overGridFee: z.number().min(0).max(10) }).optional(),
  /** Rounds per carbon cycle (eq. 22). Must be the same on every node. */
  carbonCycleRounds: z.int().min(1).default(365),
  /** This node's participant key (ed25519, PKCS#8 PEM): it signs the node's own market transactions. */
  participantKeyFile: file.optional(),
  /** Custom scoring strategies: modules exporting `{ name, version, create(params) }`. */
  strategies: z.array(z.strictObject({ module: file })).max(64).default([]),
  /** Replicating eq. 19: the leader records the commit quorums of client entries in the log. */
  participation: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How often the leader records what it measured. */
      intervalMs: positiveMs.default(2000),
      /** Quorums recorded per log entry, at most. */
      maxPerEntry: z.int().min(1).max(1024).default(64),
    })
    .prefault({}),
});

const clientSchema = z.strictObject({
  listen: listenSchema.optional(),
  /** HTTPS and WSS for the client API. */
  tls: z.strictObject({ certFile: file, keyFile: file, caFile: file.optional() }).optional(),
  /** Bearer tokens; when any is given, every request needs one. */
  tokens: z.array(tokenSchema).max(1024).default([]),
  /** Largest request body or WebSocket frame. */
  maxRequestBytes: z.int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024 + 64 * 1024),
  /** Largest value. */
  maxValueBytes: z.int().min(1).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Requests in flight per connection. */
  maxInFlightPerConnection: z.int().min(1).max(1_000_000).default(1024),
  /** Requests in flight on this node, over every connection. */
  maxInFlightPerNode: z.int().min(1).max(10_000_000).default(16_384),
  /** Open client connections (HTTP and WebSocket). */
  maxConnections: z.int().min(1).max(1_000_000).default(4096),
  /** Deadline of a read or a write. */
  requestTimeoutMs: positiveMs.default(5000),
  /**
   * How long a read, a write, or a weight, leadership or scoring change that meets a leader
   * change (no leader known, a hand-over, an election) waits for the next leader and is tried
   * again, within its `requestTimeoutMs`, before it is answered `UNAVAILABLE`. 0 answers at once.
   * Membership changes are answered at once.
   */
  leaderWaitMs: z.int().min(0).max(3_600_000).default(2000),
  /** Deadline of a membership change (a new member catches up first). */
  adminTimeoutMs: positiveMs.default(60_000),
  /** Period of `status` events to subscribers. */
  statusIntervalMs: z.int().min(100).max(3_600_000).default(1000),
  /** `commitQuorum` and `market` events per second to one subscriber, at most; the rest are dropped and counted. */
  maxEventsPerSecond: z.int().min(1).max(100_000).default(100),
});

const peerSchema = z.strictObject({
  listen: listenSchema.optional(),
  /** TLS (and mutual TLS) between nodes. */
  tls: z.strictObject({ certFile: file, keyFile: file, caFile: file.optional(), passphraseFile: file.optional(), mutual: z.boolean().default(false) }).optional(),
  maxPayload: z.int().min(64 * 1024).max(256 * 1024 * 1024).optional(),
  maxQueuedMessages: z.int().min(1).optional(),
  maxQueuedBytes: z.int().min(1).optional(),
  handshakeTimeoutMs: positiveMs.optional(),
  pingIntervalMs: positiveMs.optional(),
  pongTimeoutMs: positiveMs.optional(),
});

const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: pretty when stdout is a terminal, JSON lines otherwise. */
  format: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

const shutdownSchema = z.strictObject({
  /** How long a leader tries to hand leadership over before it stops. */
  transferTimeoutMs: positiveMs.default(3000),
  /** How long requests in flight may take to finish before they fail with UNAVAILABLE. */
  drainTimeoutMs: positiveMs.default(5000),
});

const readinessSchema = z.strictObject({
  /** `/readyz` fails while the applied index is more than this far behind the commit index. */
  maxApplyLag: z.int().min(0).default(1000),
});

/**
 * The schema of a node's configuration file (JSON), with zod: unknown fields are errors, and
 * every error names its field. `parseServerConfig` and `loadServerConfig` apply it;
 * docs/operations.md documents every field with a full example.
 */
export const serverConfigSchema = z
  .strictObject({
    /** This node's id. */
    id: nodeId,
    /** The cluster's name, bound into every peer handshake. */
    clusterId: z.string().min(1).max(256),
    /** Where the node keeps its write-ahead log and snapshots (created if missing). */
    dataDir: file,
    /** The replicated state machine. */
    stateMachine: z.enum(['kv', 'market']).default('kv'),
    /** Classic Raft (every weight 1) or weighted Raft. */
    policy: z.enum(['classic', 'weighted']).default('classic'),
    /** True on a node added to a running cluster: it starts empty and learns everything from the leader. */
    join: z.boolean().default(false),
    /** Every founding member (this node included), or on a joining node the members it may hear from. */
    peers: z.record(nodeId, memberSchema),
    /** Founding vote weights (weighted policy only). @default 1 for every peer */
    weights: z.record(nodeId, z.int().min(0)).optional(),
    /** The cluster secret (at least 16 characters); prefer `clusterSecretFile`. */
    clusterSecret: z.string().min(16).max(4096).optional(),
    /** A file holding the cluster secret (surrounding whitespace is ignored). */
    clusterSecretFile: file.optional(),
    peer: peerSchema.prefault({}),
    client: clientSchema.prefault({}),
    raft: raftSchema.prefault({}),
    weighted: weightedSchema.optional(),
    market: marketSchema.optional(),
    log: logSchema.prefault({}),
    shutdown: shutdownSchema.prefault({}),
    readiness: readinessSchema.prefault({}),
  })
  .superRefine((config, context) => {
    if (config.peers[config.id] === undefined) context.addIssue({ code: 'custom', path: ['peers'], message: `expected an entry for this node (${config.id})` });
    if ((config.clusterSecret === undefined) === (config.clusterSecretFile === undefined)) {
      context.addIssue({ code: 'custom', path: ['clusterSecretFile'], message: 'expected exactly one of clusterSecret and clusterSecretFile' });
    }
    if (config.weights !== undefined) {
      if (config.policy !== 'weighted') context.addIssue({ code: 'custom', path: ['weights'], message: 'founding weights need policy "weighted"' });
      for (const id of Object.keys(config.weights)) {
        if (config.peers[id] === undefined) context.addIssue({ code: 'custom', path: ['weights', id], message: 'expected a node of peers' });
      }
      for (const id of Object.keys(config.peers)) {
        if (config.weights[id] === undefined) context.addIssue({ code: 'custom', path: ['weights', id], message: 'expected a weight for every node of peers' });
      }
    }
    if (config.weighted !== undefined && config.policy !== 'weighted') {
      context.addIssue({ code: 'custom', path: ['weighted'], message: 'weighted settings need policy "weighted"' });
    }
    if (config.market !== undefined && config.stateMachine !== 'market') {
      context.addIssue({ code: 'custom', path: ['market'], message: 'market settings need stateMachine "market"' });
    }
    const own = config.peers[config.id];
    if (own !== undefined) {
      if (own.peerUrl.startsWith('wss:') !== (config.peer.tls !== undefined)) {
        context.addIssue({ code: 'custom', path: ['peers', config.id, 'peerUrl'], message: config.peer.tls === undefined ? 'expected ws://, since peer.tls is not set' : 'expected wss://, since peer.tls is set' });
      }
      if (own.clientUrl.startsWith('https:') !== (config.client.tls !== undefined)) {
        context.addIssue({ code: 'custom', path: ['peers', config.id, 'clientUrl'], message: config.client.tls === undefined ? 'expected http://, since client.tls is not set' : 'expected https://, since client.tls is set' });
      }
    }
    if (config.client.maxRequestBytes < config.client.maxValueBytes) {
      context.addIssue({ code: 'custom', path: ['client', 'maxRequestBytes'], message: `expected at least client.maxValueBytes (${config.client.maxValueBytes})` });
    }
  });

/** A node's configuration as a file holds it (optional fields may be left out). */
export type ServerConfigInput = z.input<typeof serverConfigSchema>;
/** A node's configuration after validation, every default filled in. */
export type ServerConfig = z.output<typeof serverConfigSchema>;

/** Options of {@link parseServerConfig}. */
export interface ParseServerConfigOptions {
  /**
   * Relative file paths (`dataDir`, secret, key, certificate and token files, strategy modules)
   * are resolved against it.
   * @default process.cwd()
   */
  baseDir?: string;
  /** Where the configuration came from, for error messages. */
  source?: string;
}

/**
 * Validates a configuration object and fills in its defaults; relative paths become absolute.
 *
 * @throws {@link ConfigError} listing every problem, each naming its field.
 *
 * @example
 * ```ts
 * import { parseServerConfig } from '@greenraft/server';
 *
 * const config = parseServerConfig({
 *   id: 'n1',
 *   clusterId: 'grid-east',
 *   dataDir: './data/n1',
 *   clusterSecretFile: './cluster.secret',
 *   peers: { n1: { peerUrl: 'ws://127.0.0.1:7001', clientUrl: 'http://127.0.0.1:7101' } },
 * });
 * console.log(config.stateMachine, config.policy); // kv classic
 * ```
 */
export function parseServerConfig(value: unknown, options: ParseServerConfigOptions = {}): ServerConfig {
  const result = serverConfigSchema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues), options.source === undefined ? {} : { source: options.source });
  return resolvePaths(result.data, options.baseDir ?? process.cwd());
}

/**
 * Reads a configuration file (JSON), validates it, and resolves its relative paths against the
 * file's directory.
 *
 * @throws {@link ConfigError} when the file cannot be read, is not JSON, or fails the schema.
 *
 * @example
 * ```ts
 * import { createServer, loadServerConfig } from '@greenraft/server';
 *
 * const server = createServer(await loadServerConfig('./n1.json'));
 * await server.start();
 * ```
 */
export async function loadServerConfig(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: '(root)', message: `cannot read the file: ${(cause as Error).message}` }], { source: path, cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError([{ path: '(root)', message: `expected JSON: ${(cause as Error).message}` }], { source: path, cause });
  }
  return parseServerConfig(value, { baseDir: dirname(resolve(path)), source: path });
}

function resolvePaths(config: ServerConfig, baseDir: string): ServerConfig {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const optional = (path: string | undefined) => (path === undefined ? undefined : at(path));
  return {
    ...config,
    dataDir: at(config.dataDir),
    ...(config.clusterSecretFile === undefined ? {} : { clusterSecretFile: at(config.clusterSecretFile) }),
    peer: {
      ...config.peer,
      ...(config.peer.tls === undefined
        ? {}
        : {
            tls: {
              ...config.peer.tls,
              certFile: at(config.peer.tls.certFile),
              keyFile: at(config.peer.tls.keyFile),
              ...(config.peer.tls.caFile === undefined ? {} : { caFile: optional(config.peer.tls.caFile) }),
              ...(config.peer.tls.passphraseFile === undefined ? {} : { passphraseFile: optional(config.peer.tls.passphraseFile) }),
            },
          }),
    },
    client: {
      ...config.client,
      ...(config.client.tls === undefined
        ? {}
        : {
            tls: {
              certFile: at(config.client.tls.certFile),
              keyFile: at(config.client.tls.keyFile),
              ...(config.client.tls.caFile === undefined ? {} : { caFile: optional(config.client.tls.caFile) }),
            },
          }),
      tokens: config.client.tokens.map((token) => (token.tokenFile === undefined ? token : { ...token, tokenFile: at(token.tokenFile) })),
    },
    ...(config.market === undefined
      ? {}
      : {
          market: {
            ...config.market,
            ...(config.market.participantKeyFile === undefined ? {} : { participantKeyFile: at(config.market.participantKeyFile) }),
            strategies: config.market.strategies.map((strategy) => ({ module: at(strategy.module) })),
          },
        }),
  };
}

/** The secrets and PEM material a configuration names, read from their files. */
export interface ResolvedSecrets {
  readonly clusterSecret: string;
  /** token → subject. */
  readonly tokens: ReadonlyMap<string, string>;
  /** Peer TLS: certificate, key and CA as file paths (the transport reads them, and again on reload). */
  readonly peerTls?: { cert: string; key: string; ca?: string; passphrase?: string; mutual: boolean };
  readonly clientTls?: { cert: string; key: string; ca?: string };
  /** The participant key's PEM, when the configuration names one. */
  readonly participantKeyPem?: string;
}

/** Reads every file a configuration names; a file that cannot be read is a {@link ConfigError} naming its field. */
export async function readSecrets(config: ServerConfig): Promise<ResolvedSecrets> {
  const issues: ConfigIssue[] = [];
  const read = async (path: string, field: string, trim: boolean): Promise<string> => {
    try {
      const text = await readFile(path, 'utf8');
      return trim ? text.trim() : text;
    } catch (cause) {
      issues.push({ path: field, message: `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}` });
      return '';
    }
  };
  const clusterSecret = config.clusterSecret ?? (await read(config.clusterSecretFile!, 'clusterSecretFile', true));
  if (config.clusterSecretFile !== undefined && clusterSecret.length > 0 && clusterSecret.length < 16) {
    issues.push({ path: 'clusterSecretFile', message: 'expected a secret of at least 16 characters' });
  }
  const tokens = new Map<string, string>();
  for (const [index, token] of config.client.tokens.entries()) {
    const value = token.token ?? (await read(token.tokenFile!, `client.tokens[${index}].tokenFile`, true));
    if (value.length > 0 && value.length < 16) issues.push({ path: `client.tokens[${index}].tokenFile`, message: 'expected a token of at least 16 characters' });
    tokens.set(value, token.subject);
  }
  let peerTls: ResolvedSecrets['peerTls'];
  if (config.peer.tls !== undefined) {
    const tls = config.peer.tls;
    // The transport gets the paths (it reads them again on reloadTls); read here only to name a missing file's field.
    await read(tls.certFile, 'peer.tls.certFile', false);
    await read(tls.keyFile, 'peer.tls.keyFile', false);
    if (tls.caFile !== undefined) await read(tls.caFile, 'peer.tls.caFile', false);
    peerTls = {
      cert: tls.certFile,
      key: tls.keyFile,
      ...(tls.caFile === undefined ? {} : { ca: tls.caFile }),
      ...(tls.passphraseFile === undefined ? {} : { passphrase: await read(tls.passphraseFile, 'peer.tls.passphraseFile', true) }),
      mutual: tls.mutual,
    };
  }
  let clientTls: ResolvedSecrets['clientTls'];
  if (config.client.tls !== undefined) {
    const tls = config.client.tls;
    clientTls = {
      cert: await read(tls.certFile, 'client.tls.certFile', false),
      key: await read(tls.keyFile, 'client.tls.keyFile', false),
      ...(tls.caFile === undefined ? {} : { ca: await read(tls.caFile, 'client.tls.caFile', false) }),
    };
  }
  const keyFile = config.market?.participantKeyFile;
  const participantKeyPem = keyFile === undefined ? undefined : await read(keyFile, 'market.participantKeyFile', false);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    clusterSecret,
    tokens,
    ...(peerTls === undefined ? {} : { peerTls }),
    ...(clientTls === undefined ? {} : { clientTls }),
    ...(participantKeyPem === undefined ? {} : { participantKeyPem }),
  };
}
