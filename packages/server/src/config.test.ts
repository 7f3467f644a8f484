import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig, parseServerConfig, readSecrets } from './config.js';
import { ConfigError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'greenraft-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = {
  id: 'n1',
  clusterId: 'grid-east',
  dataDir: './data/n1',
  clusterSecretFile: './cluster.secret',
  peers: {
    n1: { peerUrl: 'ws://127.0.0.1:7001', clientUrl: 'http://127.0.0.1:7101' },
    n2: { peerUrl: 'ws://127.0.0.1:7002', clientUrl: 'http://127.0.0.1:7102' },
  },
};

/** The issues a configuration gets, as `path: message` lines. */
function issuesOf(value: unknown): string[] {
  try {
    parseServerConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('INVALID_CONFIG');
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

describe('the configuration schema', () => {
  it('fills in every default', () => {
    const config = parseServerConfig(valid, { baseDir: '/opt/greenraft' });
    expect(config.stateMachine).toBe('kv');
    expect(config.policy).toBe('classic');
    expect(config.join).toBe(false);
    expect(config.client.maxValueBytes).toBe(1024 * 1024);
    expect(config.client.maxInFlightPerConnection).toBe(1024);
    expect(config.client.maxInFlightPerNode).toBe(16_384);
    expect(config.raft.snapshotThreshold).toBe(10_000);
    expect(config.shutdown).toEqual({ transferTimeoutMs: 3000, drainTimeoutMs: 5000 });
    expect(config.log).toEqual({ level: 'info', format: 'auto' });
    // Relative paths are resolved against the base directory.
    expect(config.dataDir).toBe('/opt/greenraft/data/n1');
    expect(config.clusterSecretFile).toBe('/opt/greenraft/cluster.secret');
  });

  it('names the field of every problem and says what was expected', () => {
    expect(issuesOf({ ...valid, id: 7 })).toContain('id: expected a string, got 7');
    expect(issuesOf({ ...valid, stateMachine: 'sql' })).toContain('stateMachine: expected one of "kv", "market", got "sql"');
    expect(issuesOf({ ...valid, raft: { tickMs: 0 } })).toContain('raft.tickMs: expected at least 1, got 0');
    expect(issuesOf({ ...valid, raft: { tickMs: 2.5 } })).toContain('raft.tickMs: expected an integer, got 2.5');
    expect(issuesOf({ ...valid, client: { maxValueBytes: 'big' } })).toContain('client.maxValueBytes: expected a number, got "big"');
    const [badUrl] = issuesOf({ ...valid, peers: { ...valid.peers, n2: { peerUrl: 'http://127.0.0.1:7002', clientUrl: 'http://127.0.0.1:7102' } } });
    expect(badUrl).toBe('peers.n2.peerUrl: expected a ws:// or wss:// URL with a host and a port, got "http://127.0.0.1:7002"');
    expect(issuesOf({ ...valid, peers: { n2: valid.peers.n2 } })).toContain('peers: expected an entry for this node (n1)');
    expect(issuesOf({ ...valid, id: 'has space' })[0]).toMatch(/^id: expected a node id/);
  });

  it('refuses unknown fields, at any depth, by name', () => {
    expect(issuesOf({ ...valid, dataDirectory: '/tmp' })).toEqual(['dataDirectory: unknown field']);
    expect(issuesOf({ ...valid, client: { maxValueByte: 10 } })).toEqual(['client.maxValueByte: unknown field']);
    expect(issuesOf({ ...valid, peers: { ...valid.peers, n1: { ...valid.peers.n1, url: 'x' } } })).toEqual(['peers.n1.url: unknown field']);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf({ ...valid, clusterId: '', raft: { snapshotThreshold: 0 }, extra: true });
    expect(issues).toHaveLength(3);
    expect(issues.some((issue) => issue.startsWith('clusterId: '))).toBe(true);
    expect(issues.some((issue) => issue.startsWith('raft.snapshotThreshold: '))).toBe(true);
    expect(issues).toContain('extra: unknown field');
  });

  it('checks the rules that tie fields together', () => {
    const { clusterSecretFile: _file, ...noSecret } = valid;
    expect(issuesOf(noSecret)).toEqual(['clusterSecretFile: expected exactly one of clusterSecret and clusterSecretFile']);
    expect(issuesOf({ ...valid, clusterSecret: 'x'.repeat(20) })).toEqual(['clusterSecretFile: expected exactly one of clusterSecret and clusterSecretFile']);
    expect(issuesOf({ ...valid, clusterSecretFile: undefined, clusterSecret: 'short' })).toEqual(['clusterSecret: expected at least 16 characters, got "short"']);
    expect(issuesOf({ ...valid, weights: { n1: 2, n2: 1 } })).toEqual(['weights: founding weights need policy "weighted"']);
    expect(issuesOf({ ...valid, policy: 'weighted', weights: { n1: 2 } })).toEqual(['weights.n2: expected a weight for every node of peers']);
    expect(issuesOf({ ...valid, policy: 'weighted', weights: { n1: 2, n2: 1, n9: 1 } })).toEqual(['weights.n9: expected a node of peers']);
    expect(issuesOf({ ...valid, market: {} })).toEqual(['market: market settings need stateMachine "market"']);
    expect(issuesOf({ ...valid, weighted: {} })).toEqual(['weighted: weighted settings need policy "weighted"']);
    expect(issuesOf({ ...valid, client: { maxValueBytes: 4096, maxRequestBytes: 2048 } })).toEqual(['client.maxRequestBytes: expected at least client.maxValueBytes (4096)']);
    expect(issuesOf({ ...valid, client: { tokens: [{ subject: 'meters' }] } })).toEqual(['client.tokens[0].token: expected exactly one of token and tokenFile']);
    expect(issuesOf({ ...valid, client: { tls: { certFile: 'c.crt', keyFile: 'c.key' } } })).toEqual(['peers.n1.clientUrl: expected https://, since client.tls is set']);
    expect(issuesOf({ ...valid, peers: { ...valid.peers, n1: { peerUrl: 'wss://127.0.0.1:7001', clientUrl: 'http://127.0.0.1:7101' } } })).toEqual(['peers.n1.peerUrl: expected ws://, since peer.tls is not set']);
  });

  it('accepts a full market configuration', () => {
    const config = parseServerConfig(
      {
        ...valid,
        stateMachine: 'market',
        policy: 'weighted',
        weights: { n1: 2, n2: 1 },
        weighted: { tolerateFailures: 0, electionTimeout: { baseMs: 300 } },
        market: { participantKeyFile: 'keys/n1.pem', strategies: [{ module: './green.mjs' }] },
        client: { tokens: [{ subject: 'ops', tokenFile: 'ops.token' }] },
      },
      { baseDir: '/etc/greenraft' },
    );
    expect(config.weighted?.electionTimeout).toEqual({ baseMs: 300, stepMs: 100, jitterMs: 0 });
    expect(config.market?.participantKeyFile).toBe('/etc/greenraft/keys/n1.pem');
    expect(config.market?.strategies).toEqual([{ module: '/etc/greenraft/green.mjs' }]);
    expect(config.market?.participation).toEqual({ enabled: true, intervalMs: 2000, maxPerEntry: 64 });
    expect(config.client.tokens[0]?.tokenFile).toBe('/etc/greenraft/ops.token');
  });
});

describe('loadServerConfig', () => {
  it('reads a file and resolves its paths against the file\u2019s directory', async () => {
    const file = join(dir, 'n1.json');
    writeFileSync(file, JSON.stringify(valid));
    const config = await loadServerConfig(file);
    expect(config.dataDir).toBe(join(dir, 'data/n1'));
    expect(config.clusterSecretFile).toBe(join(dir, 'cluster.secret'));
  });

  it('names the file and the problem when it is not JSON or not there', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "id": "n1", ');
    await expect(loadServerConfig(file)).rejects.toThrow(/invalid configuration in .*broken\.json: \(root\): expected JSON/);
    await expect(loadServerConfig(join(dir, 'missing.json'))).rejects.toThrow(/\(root\): cannot read the file/);
    writeFileSync(file, JSON.stringify({ ...valid, raft: { tickMs: -1 } }));
    await expect(loadServerConfig(file)).rejects.toThrow(/broken\.json: raft\.tickMs: expected at least 1, got -1/);
  });
});

describe('secrets from files', () => {
  it('reads the cluster secret, tokens and key from their files, trimmed', async () => {
    writeFileSync(join(dir, 'cluster.secret'), `${'s'.repeat(32)}\n`);
    chmodSync(join(dir, 'cluster.secret'), 0o600);
    writeFileSync(join(dir, 'ops.token'), 'an operator token of some length\n');
    const config = parseServerConfig({ ...valid, client: { tokens: [{ subject: 'ops', tokenFile: 'ops.token' }, { subject: 'meters', token: 'inline-token-0123456789' }] } }, { baseDir: dir });
    const secrets = await readSecrets(config);
    expect(secrets.clusterSecret).toBe('s'.repeat(32));
    expect([...secrets.tokens]).toEqual([
      ['an operator token of some length', 'ops'],
      ['inline-token-0123456789', 'meters'],
    ]);
  });

  it('names the field whose file cannot be read, or holds too short a secret', async () => {
    const tlsPeers = { ...valid.peers, n1: { peerUrl: 'wss://127.0.0.1:7001', clientUrl: 'http://127.0.0.1:7101' } };
    const missing = parseServerConfig({ ...valid, peers: tlsPeers, clusterSecretFile: 'nope.secret', peer: { tls: { certFile: 'nope.crt', keyFile: 'nope.key' } } }, { baseDir: dir });
    const error = await readSecrets(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual(['clusterSecretFile', 'peer.tls.certFile', 'peer.tls.keyFile']);
    writeFileSync(join(dir, 'short.secret'), 'short\n');
    const short = parseServerConfig({ ...valid, clusterSecretFile: 'short.secret' }, { baseDir: dir });
    await expect(readSecrets(short)).rejects.toThrow('clusterSecretFile: expected a secret of at least 16 characters');
  });
});
