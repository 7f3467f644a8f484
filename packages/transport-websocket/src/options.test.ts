import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_FRAME_HEADROOM, reconnectDelay, resolveOptions } from './options.js';
import { websocketTransport } from './transport.js';

const base = { id: 'n1', clusterId: 'grid-east', secret: 'sixteen bytes at least!' };

function refusal(init: unknown): string {
  try {
    websocketTransport(init as never);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    return (error as Error).message;
  }
  throw new Error('expected websocketTransport to refuse the options');
}

describe('websocketTransport options', () => {
  it('applies the documented defaults', () => {
    const options = resolveOptions(base);
    expect(options).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      maxPayload: 4 * 1024 * 1024,
      snapshotChunkBytes: 256 * 1024,
      maxQueuedMessages: 4096,
      maxQueuedBytes: 16 * 1024 * 1024,
      handshakeTimeoutMs: 5000,
      pingIntervalMs: 1000,
      pongTimeoutMs: 5000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 },
      tls: undefined,
    });
    expect(options.peers.size).toBe(0);
    expect(options.secret).toEqual(new TextEncoder().encode(base.secret));
  });

  it('refuses unknown options, at every level, naming them', () => {
    expect(refusal({ ...base, maxPayLoad: 1 })).toMatch(/^websocketTransport: unknown option "maxPayLoad"; known options: id, clusterId/);
    expect(refusal({ ...base, reconnect: { initialDelay: 100 } })).toMatch(/^websocketTransport reconnect: unknown option "initialDelay"/);
    expect(refusal({ ...base, tls: { cert: 'c.pem', key: 'k.pem', verify: false } })).toMatch(/^websocketTransport tls: unknown option "verify"/);
  });

  it('refuses a missing or short secret, a missing cluster id, a bad node id', () => {
    expect(refusal({ ...base, secret: undefined })).toMatch(/secret must be/);
    expect(refusal({ ...base, secret: 'short' })).toMatch(/at least 16 bytes, got 5/);
    expect(refusal({ ...base, secret: new Uint8Array(15) })).toMatch(/at least 16 bytes/);
    expect(refusal({ ...base, clusterId: '' })).toMatch(/clusterId/);
    expect(refusal({ ...base, id: '' })).toMatch(/id must be/);
    expect(refusal(null)).toMatch(/init must be an object/);
  });

  it('checks maxPayload against the snapshot chunk size together', () => {
    expect(() => resolveOptions({ ...base, maxPayload: 256 * 1024 + SNAPSHOT_FRAME_HEADROOM })).not.toThrow();
    expect(refusal({ ...base, maxPayload: 256 * 1024 + SNAPSHOT_FRAME_HEADROOM - 1 })).toMatch(/snapshotChunkBytes \(262144\) plus 65536 bytes of headroom must fit in maxPayload/);
    expect(refusal({ ...base, maxPayload: 2 * 1024 * 1024, snapshotChunkBytes: 2 * 1024 * 1024 })).toMatch(/must fit in maxPayload/);
    expect(refusal({ ...base, maxPayload: 1024 * 1024, maxQueuedBytes: 1024 })).toMatch(/maxQueuedBytes \(1024\) must be at least maxPayload/);
    expect(refusal({ ...base, maxPayload: 1.5 })).toMatch(/^websocketTransport: maxPayload must be an integer from 65537 to 268435456, got 1\.5$/);
  });

  it('refuses reconnect waits under 100 ms, and bad multipliers and jitter', () => {
    expect(refusal({ ...base, reconnect: { initialDelayMs: 99 } })).toMatch(/reconnect\.initialDelayMs must be an integer ≥ 100, got 99/);
    expect(refusal({ ...base, reconnect: { initialDelayMs: 500, maxDelayMs: 400 } })).toMatch(/maxDelayMs/);
    expect(refusal({ ...base, reconnect: { multiplier: 0.5 } })).toMatch(/multiplier/);
    expect(refusal({ ...base, reconnect: { jitter: 2 } })).toMatch(/jitter/);
  });

  it('checks peer URLs and drops the node\'s own entry', () => {
    const options = resolveOptions({ ...base, peers: { n1: 'ws://127.0.0.1:1', n2: 'ws://127.0.0.1:2' } });
    expect([...options.peers]).toEqual([['n2', 'ws://127.0.0.1:2']]);
    expect(refusal({ ...base, peers: { n2: 'http://127.0.0.1:2' } })).toMatch(/ws:\/\/ or wss:\/\//);
    expect(refusal({ ...base, peers: { n2: 'not a url' } })).toMatch(/invalid URL/);
    expect(refusal({ ...base, peers: { n2: 'ws://user:pw@127.0.0.1:2' } })).toMatch(/credentials/);
    expect(refusal({ ...base, peers: { n2: 42 } })).toMatch(/has no URL/);
    // With TLS, a plain ws:// peer would be a silent downgrade.
    expect(refusal({ ...base, tls: { cert: 'c.pem', key: 'k.pem' }, peers: { n2: 'ws://127.0.0.1:2' } })).toMatch(/must be wss:\/\//);
  });

  it('refuses a malformed TLS option and a logger without its methods', () => {
    expect(refusal({ ...base, tls: { cert: 'c.pem' } })).toMatch(/tls\.key/);
    expect(refusal({ ...base, tls: { cert: 'c.pem', key: 'k.pem', ca: [] } })).toMatch(/tls\.ca/);
    expect(refusal({ ...base, tls: { cert: 'c.pem', key: 'k.pem', mutual: 'yes' } })).toMatch(/tls\.mutual/);
    expect(refusal({ ...base, logger: { warn() {} } })).toMatch(/logger must have/);
  });
});

describe('reconnectDelay (the backoff law)', () => {
  const law = { initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 };

  it('grows from 100 ms by the multiplier up to the cap, with jitter on top', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => reconnectDelay(attempt, law, () => 0))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(reconnectDelay(0, law, () => 0.999_999)).toBeCloseTo(150, 3);
    expect(reconnectDelay(20, law, () => 0.999_999)).toBeCloseTo(7500, 2);
  });

  it('never waits less than the un-jittered delay, whatever the random draw', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const floor = Math.min(5000, 100 * 2 ** attempt);
      for (const draw of [0, 0.25, 0.5, 0.99]) expect(reconnectDelay(attempt, law, () => draw)).toBeGreaterThanOrEqual(floor);
    }
  });
});
