import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { errorFromAnswer } from './errors.js';
import {
  BadRequestError,
  ConflictError,
  createClient,
  isOutcomeUnknown,
  NotFoundError,
  ProtocolError,
  RejectedError,
  ServerInternalError,
  TimeoutError,
  TooLargeError,
  UnauthenticatedError,
} from './index.js';
import { resolveClientInit } from './options.js';
import { decodeFrame, leaderHint, websocketUrl } from './protocol.js';

describe('createClient options', () => {
  it('fills in the documented defaults', () => {
    const init = resolveClientInit({ endpoints: 'http://127.0.0.1:7001' });
    expect(init).toMatchObject({
      endpoints: ['ws://127.0.0.1:7001/v1/ws'],
      timeoutMs: 15_000,
      attemptTimeoutMs: 6000,
      connectTimeoutMs: 3000,
      retry: { maxAttempts: 10, initialDelayMs: 25, maxDelayMs: 1000, multiplier: 2, jitter: 0.5 },
      maxInFlight: 1024,
      maxQueued: 16_384,
      maxValueBytes: 1 << 20,
      maxResponseBytes: 64 << 20,
      followLeader: true,
    });
    expect(init.clientId).toMatch(/^client-[0-9a-f]{16}$/);
    expect(resolveClientInit({ endpoints: 'http://a:1' }).clientId).not.toBe(init.clientId);
  });

  it('takes client URLs and WebSocket URLs, a list or a comma-separated string, without duplicates', () => {
    expect(resolveClientInit({ endpoints: 'http://a:1, https://b:2,ws://c:3/v1/ws,wss://d:4/,http://a:1/' }).endpoints).toEqual([
      'ws://a:1/v1/ws',
      'wss://b:2/v1/ws',
      'ws://c:3/v1/ws',
      'wss://d:4/v1/ws',
    ]);
    expect(websocketUrl('http://[::1]:7001')).toBe('ws://[::1]:7001/v1/ws');
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['no endpoints', { endpoints: [] }, /at least one node/],
    ['a bad URL', { endpoints: ['not a url'] }, /'not a url' is not a node URL/],
    ['another scheme', { endpoints: ['ftp://a:1'] }, /not a node URL/],
    ['another path', { endpoints: ['http://a:1/v2/ws'] }, /not a node URL/],
    ['credentials in the URL', { endpoints: ['http://user:pw@a:1'] }, /not a node URL/],
    ['an unknown option', { endpoints: 'http://a:1', timeout: 5 }, /unknown option 'timeout'/],
    ['an unknown retry option', { endpoints: 'http://a:1', retry: { attempts: 3 } }, /unknown option 'retry.attempts'/],
    ['timeoutMs 0', { endpoints: 'http://a:1', timeoutMs: 0 }, /timeoutMs must be an integer from 1/],
    ['a fractional maxInFlight', { endpoints: 'http://a:1', maxInFlight: 1.5 }, /maxInFlight must be an integer/],
    ['jitter above 1', { endpoints: 'http://a:1', retry: { jitter: 2 } }, /retry.jitter must be a number from 0 to 1/],
    ['maxDelayMs below initialDelayMs', { endpoints: 'http://a:1', retry: { initialDelayMs: 100, maxDelayMs: 50 } }, /retry.maxDelayMs must be an integer from 100/],
    ['an empty clientId', { endpoints: 'http://a:1', clientId: '' }, /clientId must be a string of 1 to 128 bytes/],
    ['an empty token', { endpoints: 'http://a:1', token: '' }, /token must be a non-empty string/],
  ];
  it.each(refused)('refuses %s with InvalidArgumentError naming it', (_name, init, message) => {
    expect(() => createClient(init as never)).toThrow(InvalidArgumentError);
    expect(() => createClient(init as never)).toThrow(message);
  });

  it('checks call arguments before sending anything', async () => {
    const client = createClient({ endpoints: 'http://127.0.0.1:1', maxValueBytes: 4 });
    await expect(client.put('', 'v')).rejects.toThrow(/key must be 1 to 512 bytes/);
    await expect(client.put('a/b', 'v')).rejects.toThrow(/must not contain '\/'/);
    await expect(client.put('k'.repeat(513), 'v')).rejects.toThrow(InvalidArgumentError);
    await expect(client.put('k', 'too long')).rejects.toThrow(TooLargeError);
    await expect(client.put('k', 5 as never)).rejects.toThrow(/value must be a string/);
    await expect(client.get('k', { consistency: 'eventual' as never })).rejects.toThrow(/consistency must be one of linearizable, lease, stale/);
    await expect(client.put('k', 'v', { idempotencyKey: 'x'.repeat(129) })).rejects.toThrow(/idempotencyKey must be a string of 1 to 128 bytes/);
    await expect(client.put('k', 'v', { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be an integer/);
    await expect(client.market.query('everything' as never)).rejects.toThrow(/unknown market query 'everything'/);
    await expect(client.market.query('balances', { limit: 5 })).rejects.toThrow(/limit applies to the ledger query only/);
    await expect(client.market.query('ledger', { from: 0 })).rejects.toThrow(/from must be an integer ≥ 1, got 0/);
    await expect(client.admin.setWeights({ a: 0, b: 0 })).rejects.toThrow(/positive total/);
    await expect(client.admin.setWeights({ a: 1.5 })).rejects.toThrow(/weights.a must be an integer/);
    await expect(client.admin.addMember({ member: 'n4', peerUrl: 'nope', clientUrl: 'http://a:1' })).rejects.toThrow(/peerUrl must be a URL/);
    await expect(client.subscribe([])).rejects.toThrow(/at least one of status, commitQuorum, leader, market/);
    await expect(client.subscribe(['weather' as never])).rejects.toThrow(/unknown topic 'weather'/);
    expect(client.stats()).toMatchObject({ connections: 0, retries: 0 });
    await client.close();
  });
});

describe('frames from a node', () => {
  it('decodes answers, errors and events', () => {
    expect(decodeFrame('{"id":3,"ok":true,"result":{"value":null}}')).toEqual({ kind: 'answer', id: 3, ok: true, result: { value: null } });
    expect(decodeFrame('{"event":"status","data":{"term":4}}')).toEqual({ kind: 'event', event: 'status', data: { term: 4 } });
    expect(decodeFrame('{"id":4,"ok":false,"error":{"code":"UNAVAILABLE","message":"no leader","retryAfterMs":200,"leader":{"id":"n1","url":"http://h:1"}}}')).toEqual({
      kind: 'answer',
      id: 4,
      ok: false,
      error: { code: 'UNAVAILABLE', message: 'no leader', retryAfterMs: 200, leader: { id: 'n1', url: 'http://h:1' }, reason: undefined },
    });
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['an array', '[1]', /not a JSON object/],
    ['no id', '{"ok":true}', /no valid id/],
    ['a negative id', '{"id":-1,"ok":true}', /no valid id/],
    ['no ok', '{"id":1}', /no boolean ok/],
    ['an error without a code', '{"id":1,"ok":false,"error":{}}', /no error code/],
  ])('refuses %s', (_name, text, problem) => {
    expect(decodeFrame(text)).toMatch(problem);
  });

  it('reads a leader hint as an id, an object, or with leaderUrl', () => {
    expect(leaderHint('n1', 'http://h:1')).toEqual({ id: 'n1', url: 'http://h:1' });
    expect(leaderHint({ id: 'n1', clientUrl: 'http://h:1' }, undefined)).toEqual({ id: 'n1', url: 'http://h:1' });
    expect(leaderHint(null, 'http://h:1')).toBeUndefined();
    expect(leaderHint('', undefined)).toBeUndefined();
  });

  it('maps every definite error code to its typed error', () => {
    const wire = (code: string, reason?: string) => ({ code, message: 'm', leader: undefined, retryAfterMs: undefined, reason });
    const cases: [string, new (...args: never[]) => Error][] = [
      ['BAD_REQUEST', BadRequestError],
      ['UNAUTHENTICATED', UnauthenticatedError],
      ['NOT_FOUND', NotFoundError],
      ['CONFLICT', ConflictError],
      ['REJECTED', RejectedError],
      ['TOO_LARGE', TooLargeError],
      ['TIMEOUT', TimeoutError],
      ['INTERNAL', ServerInternalError],
      ['SOMETHING_NEW', ProtocolError],
    ];
    for (const [code, type] of cases) {
      const error = errorFromAnswer(wire(code), 'put k', { outcomeUnknown: false });
      expect(error, code).toBeInstanceOf(type);
      expect(error.message, code).toMatch(/^put k: /);
    }
    expect((errorFromAnswer(wire('REJECTED', 'INVALID_SIGNATURE'), 'tx', {}) as RejectedError).reason).toBe('INVALID_SIGNATURE');
    expect(isOutcomeUnknown(errorFromAnswer(wire('TIMEOUT'), 'put k', { outcomeUnknown: true }))).toBe(true);
    expect(isOutcomeUnknown(errorFromAnswer(wire('CONFLICT'), 'put k', { outcomeUnknown: true }))).toBe(false);
  });
});
