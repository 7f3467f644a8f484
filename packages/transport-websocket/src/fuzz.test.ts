// Throws random and mutated frames at a live 3-node RaftNode cluster that keeps committing, over
// authenticated connections and around the handshake. CI runs GREENRAFT_FUZZ_FRAMES (default
// 3000) frames; GREENRAFT_FUZZ_FRAMES=100000 runs the full size. GREENRAFT_FUZZ_SEED replays a run.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { configuration } from '@greenraft/consensus';
import type { Message, NodeId } from '@greenraft/consensus';
import { AppendOnlyJournal, eventually, everyMessageType } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { CLUSTER_ID, SECRET, loopbackTransports, sleep } from './cluster.test-utils.js';
import { decodeValue, encodeMessage, encodeValue } from './codec.js';
import { CloseCode, type Lane, SESSION_BYTES, nonce } from './handshake.js';
import { rawHandshake, replayFrames } from './peer.test-utils.js';
import { INCOMING_DROPS } from './cluster.test-utils.js';
import type { WebSocketTransport } from './transport.js';

const FRAMES = Number(process.env.GREENRAFT_FUZZ_FRAMES ?? 3000);
const SEED = Number(process.env.GREENRAFT_FUZZ_SEED ?? Date.now() % 1_000_000);
/** The fuzzer's authenticated id: long enough that no mutation of the nodes' two-letter ids can produce it. */
const FUZZER = 'fuzzer-peer-0001';
/** A second identity for connections the fuzzer expects to lose (oversized frames). */
const FUZZER_2 = 'fuzzer-peer-0002';
const IDS = ['n1', 'n2', 'n3'];
const MAX_PAYLOAD = 320 * 1024;
const MiB = 1024 * 1024;
const encoder = new TextEncoder();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function memory(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(5);
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

// ------------------------------------------------------------------ frames

/** Any id but the fuzzer's own: a message from the fuzzer's id to its node would be genuine. */
const foreignId = fc.oneof(fc.constantFrom(...IDS, 'n4', ''), fc.string({ maxLength: 10 })).filter((id) => id !== FUZZER && id !== FUZZER_2);
const anyValue = fc.anything({ maxDepth: 3, withMap: true, withSet: true, withTypedArray: true, withBigInt: true, withNullPrototype: true }).filter((v) => v !== FUZZER);

/** A well-formed message of any type, but from an id that is not the connection's. */
const wrongSender = (to: NodeId) =>
  fc.tuple(fc.nat(MESSAGE_COUNT - 1), fc.constantFrom('n1', 'n2', 'n3', 'n9'), fc.nat(1000)).map(([type, from, term]) => {
    const message = { ...everyMessageType(from, to)[type]!, term } as Message;
    return encodeMessage(message);
  });
const MESSAGE_COUNT = everyMessageType('a', 'b').length;

/** A well-formed message for another node. */
const wrongAddressee = fc.tuple(fc.nat(MESSAGE_COUNT - 1), fc.constantFrom('n1', 'n2', 'n3', 'n7')).map(([type, to]) => encodeMessage(everyMessageType(FUZZER, `${to}-elsewhere`)[type]!));

/**
 * From the connection's own id, but never well formed: a bad term, entries out of sequence, wrong
 * field types, a negative weight. Sent unmutated (a mutation could make one valid, and a valid
 * message from an authenticated member is not a bad frame).
 */
const BAD_TERMS = [-1, 0.5, '3', null, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, [1]];
const rightSenderInvalid = (to: NodeId) =>
  fc.tuple(fc.nat(MESSAGE_COUNT - 1), fc.nat(BAD_TERMS.length - 1), fc.nat(5)).map(([type, badTerm, variant]) => {
    const template = everyMessageType(FUZZER, to);
    const tuple = (message: Message): unknown[] => {
      const bytes = encodeMessage(message);
      return decodeValue(bytes) as unknown[];
    };
    switch (variant) {
      case 0: {
        const t = tuple(template[type]!);
        t[3] = BAD_TERMS[badTerm]; // the term
        return encodeValue(t);
      }
      case 1: {
        const t = tuple(template[2]!); // appendRequest: entries flat, four values each
        (t[7] as unknown[])[4 + 2] = 99; // the second entry's index: out of sequence
        return encodeValue(t);
      }
      case 2: {
        const t = tuple(template[2]!);
        (t[7] as unknown[])[1] = -3; // the first entry's term
        return encodeValue(t);
      }
      case 3: {
        const t = tuple(template[0]!); // voteRequest
        t[4] = 'yes';
        return encodeValue(t);
      }
      case 4: {
        const t = tuple(template[6]!); // snapshotRequest
        t[6] = [1, 2, 3];
        return encodeValue(t);
      }
      default: {
        const t = tuple(template[2]!);
        ((((t[7] as unknown[])[8 + 3] as unknown[][])[0]![0] as unknown[]))[1] = -1; // the config entry's first weight
        return encodeValue(t);
      }
    }
  });

/** Tuples with wrong types in every position: codes out of range, ids that are not strings, terms that are not integers. */
const wrongTypes = (to: NodeId) =>
  fc.tuple(fc.oneof(fc.integer({ min: -2, max: 14 }), anyValue), fc.oneof(foreignId, anyValue), fc.oneof(fc.constant(to), anyValue), anyValue, fc.array(anyValue, { maxLength: 9 })).map(([code, from, target, term, rest]) => {
    try {
      return encodeValue([code, from, target, term, ...rest]);
    } catch {
      // msgpack has no encoding for some generated values (bigints past 64 bits): a fixed bad tuple instead.
      return encodeValue([-1, 'n1', to]);
    }
  });

const randomBytes = fc.uint8Array({ minLength: 0, maxLength: 600 }).map((bytes) => Buffer.from(bytes));

const HUGE_HEADERS = [
  [0xc6, 0xff, 0xff, 0xff, 0xff], // bin32 of 4 GiB
  [0xdb, 0x7f, 0xff, 0xff, 0xff], // str32 of 2 GiB
  [0xdd, 0xff, 0xff, 0xff, 0xff], // array32 of 2^32 − 1
  [0xdf, 0xff, 0xff, 0xff, 0xff], // map32 of 2^32 − 1
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], // ext32 of 4 GiB
];

type Mutation = { kind: 'truncate'; at: number } | { kind: 'flip'; at: number; value: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'huge'; at: number; header: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), header: fc.nat(HUGE_HEADERS.length - 1) }),
);

function mutate(frame: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(frame);
  for (const m of mutations) {
    const at = bytes.byteLength === 0 ? 0 : m.at % bytes.byteLength;
    if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
    else if (m.kind === 'flip') bytes[at] = m.value;
    else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(HUGE_HEADERS[m.header]!), bytes.subarray(at + 1)]);
  }
  return bytes;
}

/** Valid frames from the wrong id, truncated, flipped, padded, or with lengths far past the end. */
const mutated = (to: NodeId) => fc.tuple(wrongSender(to), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([frame, mutations]) => mutate(frame, mutations));

/** One frame for `to`: a single bad value, or several back to back (each still bad). */
const frameFor = (to: NodeId): fc.Arbitrary<Buffer> => {
  const single = fc.oneof(
    { weight: 3, arbitrary: wrongSender(to) },
    { weight: 1, arbitrary: wrongAddressee },
    { weight: 2, arbitrary: rightSenderInvalid(to) },
    { weight: 3, arbitrary: wrongTypes(to) },
    { weight: 2, arbitrary: randomBytes },
    { weight: 4, arbitrary: mutated(to) },
  );
  return fc.oneof({ weight: 4, arbitrary: single }, { weight: 1, arbitrary: fc.array(single, { minLength: 2, maxLength: 5 }).map((frames) => Buffer.concat(frames)) });
};

// ------------------------------------------------------------------ cluster

interface Cluster {
  transports: Map<NodeId, WebSocketTransport>;
  nodes: Map<NodeId, RaftNode<string>>;
  journals: Map<NodeId, AppendOnlyJournal>;
  errors: Error[];
}

const clusters: Cluster[] = [];
afterAll(async () => {
  for (const cluster of clusters) {
    await Promise.all([...cluster.nodes.values()].map((node) => node.stop()));
    await Promise.all([...cluster.transports.values()].map((t) => t.stop()));
  }
});

async function startCluster(): Promise<Cluster> {
  const transports = await loopbackTransports(IDS, { maxPayload: MAX_PAYLOAD, handshakeTimeoutMs: 1000 });
  for (const t of transports.values()) t.setPeers({ ...Object.fromEntries(t.peers()), [FUZZER]: 'ws://127.0.0.1:9', [FUZZER_2]: 'ws://127.0.0.1:9' });
  const nodes = new Map<NodeId, RaftNode<string>>();
  const journals = new Map<NodeId, AppendOnlyJournal>();
  const errors: Error[] = [];
  for (const id of IDS) {
    const journal = new AppendOnlyJournal();
    journals.set(id, journal);
    // A long election timeout: a machine loaded by the fuzzer itself must not look like a dead leader.
    const node = createRaftNode({ id, transport: transports.get(id)!, storage: memoryStorage(), stateMachine: journal, bootstrap: configuration(IDS), tickMs: 10, electionTicks: 50, ...transports.get(id)!.nodeLimits() });
    node.on('error', (error) => errors.push(error));
    nodes.set(id, node);
  }
  const cluster = { transports, nodes, journals, errors };
  clusters.push(cluster);
  await Promise.all([...nodes.values()].map((node) => node.start()));
  await eventually(() => [...nodes.values()].filter((node) => node.status().role === 'leader').length === 1 && [...nodes.values()].every((n) => n.status().leader !== undefined), { what: 'a leader' });
  return cluster;
}

const leaderOf = (cluster: Cluster): RaftNode<string> => [...cluster.nodes.values()].find((node) => node.status().role === 'leader')!;
const dataLog = (journal: AppendOnlyJournal): string[] => journal.records.map((record) => record.slice(record.indexOf(':') + 1));

async function drain(socket: WebSocket): Promise<void> {
  while (socket.bufferedAmount > MiB) await sleep(1);
}

describe(`fuzzing a live 3-node cluster with ${FRAMES} frames (seed ${SEED})`, () => {
  it('drops every bad frame, delivers none of them, keeps committing, and stays within its memory', async () => {
    const cluster = await startCluster();
    const urls = new Map([...cluster.transports].map(([id, t]) => [id, t.url!]));
    const leader = leaderOf(cluster);
    const { term } = leader.status();

    // The fuzzer authenticates as a member (it has the secret) on both lanes of every node.
    const lanes = new Map<NodeId, Record<Lane, WebSocket>>();
    const genuineHandshakes = new Map<NodeId, Buffer[]>();
    for (const id of IDS) {
      const session = nonce().subarray(0, SESSION_BYTES);
      const open: Partial<Record<Lane, WebSocket>> = {};
      for (const lane of ['control', 'bulk'] as const) {
        const handshake = await rawHandshake({ url: urls.get(id)!, id: FUZZER, acceptorId: id, clusterId: CLUSTER_ID, secret: SECRET, lane, session });
        expect(handshake.welcomed).toBe(true);
        open[lane] = handshake.socket;
        genuineHandshakes.set(id, handshake.sent);
      }
      lanes.set(id, open as Record<Lane, WebSocket>);
    }

    // Proposals keep committing the whole time.
    const proposals: string[] = [];
    let fuzzing = true;
    const proposer = (async () => {
      for (let i = 0; fuzzing || i < 20; i++) {
        const text = `meter-${i}`;
        proposals.push(text);
        await leader.propose(encoder.encode(text), { timeoutMs: 30_000 });
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );

    const memoryBefore = await memory();
    const expected = { bytes: 0, frames: 0, replay: 0, badMac: 0, protocol: 0, oversized: 0 };
    const targets = IDS.flatMap((id) => (['control', 'bulk'] as const).map((lane) => [id, lane] as const));
    const chunk = 500;
    for (let start = 0; start < FRAMES; start += chunk) {
      const count = Math.min(chunk, FRAMES - start);
      const [target, lane] = targets[(start / chunk) % targets.length]!;
      const frames = fc.sample(frameFor(target), { seed: SEED + start, numRuns: count });
      const socket = lanes.get(target)![lane];
      for (const frame of frames) {
        socket.send(frame);
        expected.bytes += frame.byteLength;
        expected.frames++;
      }
      await drain(socket);
      // Around the handshake, on fresh connections: a replayed hello, a forged MAC, garbage first.
      const id = IDS[(start / chunk) % IDS.length]!;
      expect(await replayFrames(urls.get(id)!, genuineHandshakes.get(id)!)).toBe(CloseCode.replay);
      expected.replay++;
      const forged = await rawHandshake({ url: urls.get(id)!, id: FUZZER_2, acceptorId: id, clusterId: CLUSTER_ID, secret: SECRET, forgeMac: new Uint8Array(32).fill(start % 256) });
      expect(forged.closeCode).toBe(CloseCode.badMac);
      expected.badMac++;
      expect(await replayFrames(urls.get(id)!, [fc.sample(randomBytes, { seed: SEED - start, numRuns: 1 })[0]!])).toBe(CloseCode.protocol);
      expected.protocol++;
      if (start % (chunk * 4) === 0) {
        // A frame over maxPayload, on a connection of its own (the node closes it).
        const big = await rawHandshake({ url: urls.get(id)!, id: FUZZER_2, acceptorId: id, clusterId: CLUSTER_ID, secret: SECRET, lane: 'bulk' });
        expect(big.welcomed).toBe(true);
        const closedWith = new Promise<number>((resolve) => big.socket.once('close', resolve));
        big.socket.send(Buffer.alloc(MAX_PAYLOAD + 1));
        expect(await closedWith).toBe(1009);
        expected.oversized++;
      }
    }

    // Every byte sent on the authenticated connections reached a node and was accounted for.
    const fuzzerStats = () => IDS.map((id) => cluster.transports.get(id)!.stats());
    await eventually(() => fuzzerStats().reduce((sum, s) => sum + s.peers[FUZZER]!.bytesReceived, 0) === expected.bytes, { what: 'every fuzz frame to arrive', timeoutMs: 60_000 });
    fuzzing = false;
    expect(await proposer).toBeUndefined();
    const stats = fuzzerStats();
    const sum = (pick: (s: (typeof stats)[number]) => number): number => stats.reduce((total, s) => total + pick(s), 0);

    // Nothing from the fuzzer reached a node; every frame cost at least one counted drop.
    expect(sum((s) => s.peers[FUZZER]!.messagesReceived)).toBe(0);
    expect(sum((s) => s.peers[FUZZER_2]!.messagesReceived)).toBe(0);
    const drops = Object.fromEntries(INCOMING_DROPS.map((reason) => [reason, sum((s) => s.peers[FUZZER]!.drops[reason])]));
    expect(Object.values(drops).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(expected.frames);
    for (const reason of ['undecodable', 'invalid', 'wrongSender', 'wrongAddressee'] as const) expect(drops[reason], reason).toBeGreaterThan(0);
    expect(sum((s) => s.peers[FUZZER_2]!.drops.oversizedFrame)).toBe(expected.oversized);
    expect(sum((s) => s.handshakeFailures.replay)).toBe(expected.replay);
    expect(sum((s) => s.handshakeFailures.badMac)).toBe(expected.badMac);
    expect(sum((s) => s.handshakeFailures.protocol)).toBe(expected.protocol);
    expect(sum((s) => s.pendingHandshakes)).toBe(0);
    expect(sum((s) => s.handlerErrors)).toBe(0);
    console.info(`fuzz: ${expected.frames} frames, ${expected.bytes} bytes, seed ${SEED}; drops ${JSON.stringify(drops)}; ${proposals.length} proposals committed meanwhile`);

    // The nodes never saw a bad message, kept their leader and term, and applied exactly the proposals.
    expect(cluster.errors).toEqual([]);
    expect(leader.status()).toMatchObject({ role: 'leader', term });
    const last = leader.status().commitIndex;
    await eventually(() => IDS.every((id) => cluster.nodes.get(id)!.status().appliedIndex >= last), { what: 'every node to apply' });
    for (const id of IDS) expect(dataLog(cluster.journals.get(id)!)).toEqual(proposals);
    const grown = (await memory()) - memoryBefore;
    console.info(`fuzz: heap and buffers grew by ${(grown / MiB).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(64 * MiB);

    for (const open of lanes.values()) for (const socket of Object.values(open)) socket.close();

    // A control cluster, never fuzzed, commits the same proposals to the same log.
    const control = await startCluster();
    const controlLeader = leaderOf(control);
    for (const text of proposals) await controlLeader.propose(encoder.encode(text));
    await eventually(() => IDS.every((id) => control.nodes.get(id)!.status().appliedIndex >= controlLeader.status().commitIndex), { what: 'the control to apply' });
    for (const id of IDS) expect(dataLog(control.journals.get(id)!)).toEqual(dataLog(cluster.journals.get(id)!));
  });
});
