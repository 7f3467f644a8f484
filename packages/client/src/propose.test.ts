/**
 * `propose` against real `@greenraft/server` clusters in this process: KV commands on a KV
 * cluster and signed transactions on a market cluster, each answered with its applied result;
 * a command whose answer is lost with the connection retried with the same key and applied once;
 * a command the state machine refuses, with a typed error that names the field.
 */
import { InvalidArgumentError } from '@greenraft/consensus';
import { generateParticipantKeys, marketClient, type SignedTransaction } from '@greenraft/power-market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './cluster.test-utils.js';
import { type CutLog, cuttingWebSocket } from './cutting-websocket.test-utils.js';
import {
  BadRequestError,
  type ClientInit,
  ConflictError,
  createClient,
  type GreenraftClient,
  type ProposeCommand,
  RejectedError,
  TooLargeError,
} from './index.js';

const clients: GreenraftClient[] = [];
function clientOf(cluster: Cluster, init: Partial<ClientInit> = {}): GreenraftClient {
  const made = createClient({ endpoints: cluster.urls(), ...init });
  clients.push(made);
  return made;
}
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

describe('propose on a KV cluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ config: { client: { maxValueBytes: 4096 } } });
    await cluster.leader();
  });
  afterAll(() => cluster?.close());

  it('put, cas and delete commands, answered with their applied results; get sees each', async () => {
    const c = clientOf(cluster, { endpoints: [cluster.url(cluster.followers()[0]!.id)], followLeader: false });
    const put = await c.propose({ type: 'put', key: 'meter-7', value: '12.5' });
    expect(put).toEqual({ index: expect.any(Number), result: {} });
    expect(await c.get('meter-7')).toEqual({ value: '12.5', index: put.index });
    const swapped = await c.propose({ type: 'cas', key: 'meter-7', from: '12.5', to: '13.0' });
    expect(swapped).toEqual({ index: put.index + 1, result: { swapped: true } });
    expect((await c.propose({ type: 'cas', key: 'meter-7', from: '12.5', to: '14.0' })).result.swapped).toBe(false);
    expect((await c.get('meter-7')).value).toBe('13.0');
    expect((await c.propose({ type: 'delete', key: 'meter-7' })).result).toEqual({ deleted: true });
    expect((await c.propose({ type: 'delete', key: 'meter-7' })).result).toEqual({ deleted: false });
    expect((await c.get('meter-7')).value).toBeNull();
  });

  it('a command whose answer is lost with the connection is retried with the same key and applied once', async () => {
    const log: CutLog = { sent: [], cut: 0 };
    const c = clientOf(cluster, { WebSocket: cuttingWebSocket((frame) => frame.includes('"swapped"'), log), retry: { initialDelayMs: 1 } });
    const before = (await cluster.leader()).status().commitIndex as number;
    const answer = await c.propose({ type: 'cas', key: 'once-1', from: null, to: 'applied' });
    expect(log.cut).toBe(1);
    // Applied a second time, cas from absent would not swap.
    expect(answer).toEqual({ index: before + 1, result: { swapped: true } });
    expect((await c.get('once-1')).value).toBe('applied');
    const frames = log.sent.map((text) => JSON.parse(text) as { op: string; idempotencyKey?: string; command?: unknown }).filter((frame) => frame.op === 'propose');
    expect(frames).toHaveLength(2);
    expect(frames[0]!.idempotencyKey).toBeTypeOf('string');
    expect(frames[1]).toEqual(frames[0]);
    expect((await cluster.leader()).status().commitIndex).toBe(before + 1);
  });

  it('an idempotency key given by the caller answers a second call with the first result, and refuses it for another command', async () => {
    const c = clientOf(cluster);
    const first = await c.propose({ type: 'cas', key: 'once-2', from: null, to: 'a' }, { idempotencyKey: 'once-2' });
    const again = await c.propose({ type: 'cas', key: 'once-2', from: null, to: 'a' }, { idempotencyKey: 'once-2' });
    expect(first.result.swapped).toBe(true);
    expect(again).toEqual(first);
    await expect(c.propose({ type: 'cas', key: 'once-2', from: null, to: 'b' }, { idempotencyKey: 'once-2' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses bad commands with typed errors: before sending, or from the state machine naming the field', async () => {
    const c = clientOf(cluster);
    await expect(c.propose(null as unknown as ProposeCommand)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.propose({ type: 'put', key: 'a/b', value: 'v' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.propose({ type: 'put', key: 'k', value: 'x'.repeat(5000) })).rejects.toBeInstanceOf(TooLargeError);
    const unknownField = await c.propose({ type: 'put', key: 'k', value: 'v', ttl: 5 } as ProposeCommand).catch((error: unknown) => error);
    expect(unknownField).toBeInstanceOf(BadRequestError);
    expect((unknownField as Error).message).toContain('propose: command.ttl: unknown field');
    const unknownType = await c.propose({ type: 'increment', key: 'k' } as unknown as ProposeCommand).catch((error: unknown) => error);
    expect(unknownType).toBeInstanceOf(BadRequestError);
    expect((unknownType as Error).message).toContain('command.type: expected one of "put", "cas", "delete"');
    expect((await c.get('k')).value).toBeNull();
  });
});

describe('propose on a market cluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // No participation entries: the ledger grows by the test's transactions only.
    cluster = await startCluster({ config: { stateMachine: 'market', market: { participation: { enabled: false } } } });
    await cluster.leader();
  });
  afterAll(() => cluster?.close());

  it('a signed transaction, answered with its receipt and block; a forged one is RejectedError', async () => {
    const c = clientOf(cluster);
    const solar = marketClient({ id: 'solar', keys: generateParticipantKeys() });
    const signed: SignedTransaction = solar.register({ kind: 'generation', renewable: true });
    const registered = await c.propose(signed);
    expect(registered).toMatchObject({ index: expect.any(Number), result: { receipt: { type: 'registerNode', signer: 'solar', nonce: 1 }, block: { height: 1 } } });
    expect(((await c.market.query('nodes')) as { nodes: { id: string }[] }).nodes.map((node) => node.id)).toEqual(['solar']);
    const carbon = await c.propose(solar.recordCarbon({ quota: 5 }));
    expect(carbon.result.receipt).toMatchObject({ type: 'recordCarbon', signer: 'solar', nonce: 2 });

    const impostor = marketClient({ id: 'solar', keys: generateParticipantKeys(), lastNonce: 10 });
    const forged = await c.propose(impostor.recordCarbon({ quota: 1 })).catch((error: unknown) => error);
    expect(forged).toBeInstanceOf(RejectedError);
    expect((forged as RejectedError).reason).toBe('INVALID_SIGNATURE');
    await expect(c.propose({ type: 'put', key: 'k', value: 'v' })).rejects.toBeInstanceOf(BadRequestError);
    expect(await c.market.query('head')).toMatchObject({ height: 2 });
  });
});
