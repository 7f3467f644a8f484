/**
 * The in-page cluster, run in Node (it is the same code the page bundles, with Node's crypto):
 * rounds settle and move the weights by joint consensus, a crashed leader is replaced and comes
 * back on its storage, trades reach the ledger, partitions cut links, the strategy in force is
 * replicated, and bad input is refused with typed errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DashboardEvent } from '../../model/events.js';
import { DashboardModel } from '../../model/model.js';
import { ControlFailedError, InvalidArgumentError } from '../source.js';
import { type InBrowserSource, inBrowserSource } from './in-browser-source.js';

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The leader once leadership has settled: every running node follows it in its term, outside a
 * joint configuration, for 300 ms. After a round the weight change may move leadership to a
 * heavier node a few milliseconds later, so a leader seen at once may be handing over.
 */
async function settledLeader(model: DashboardModel): Promise<NonNullable<ReturnType<DashboardModel['leader']>>> {
  let seen: { key: string; since: number } | undefined;
  return until(() => {
    const leader = model.leader();
    const followed = leader !== undefined && (leader.config?.outgoing ?? null) === null && model.nodes().every((node) => !node.up || (node.leader === leader.id && node.term === leader.term));
    const key = followed ? `${leader.id}@${leader.term}` : undefined;
    if (key === undefined || key !== seen?.key) seen = key === undefined ? undefined : { key, since: performance.now() };
    return seen !== undefined && performance.now() - seen.since >= 300 ? leader : undefined;
  }, 'a settled leader');
}

let source: InBrowserSource | undefined;
afterEach(async () => {
  await source?.stop();
  source = undefined;
});

async function started(seed = 3): Promise<{ source: InBrowserSource; model: DashboardModel; events: DashboardEvent[] }> {
  const events: DashboardEvent[] = [];
  const model = new DashboardModel();
  source = inBrowserSource({ seed, autoRoundMs: 0 });
  await source.start((event) => {
    events.push(event);
    model.apply(event);
  });
  await until(() => model.leader(), 'a leader');
  return { source, model, events };
}

describe('the in-page cluster', () => {
  it('elects a leader, registers the participants and settles rounds that move the weights by joint consensus', async () => {
    const { source, model, events } = await started();
    expect(model.nodes().map((node) => node.id)).toEqual(['solar', 'wind', 'gas', 'mill', 'city']);
    const registered = await until(() => model.market().blocks.find((block) => block.transactions.some((tx) => tx.type === 'registerNode')), 'registration');
    expect(registered.transactions.map((tx) => tx.signer).sort()).toEqual(['city', 'gas', 'mill', 'solar', 'wind']);

    const first = await source.controls.runRound();
    const second = await source.controls.runRound();
    expect([first.round, second.round]).toEqual([1, 2]);
    expect(first.contracts).toBe(3);
    expect(model.market().round?.round).toBe(2);
    expect(model.market().round?.contracts).toHaveLength(3);
    // Weights left the founding 1-each: they came from the market's scores, through the log.
    const config = await until(() => {
      const inForce = model.configInForce();
      return inForce !== undefined && inForce.outgoing === null && Object.values(inForce.voters).some((weight) => weight > 1) ? inForce : undefined;
    }, 'weights from the market');
    expect(Object.keys(config.voters).sort()).toEqual(['city', 'gas', 'mill', 'solar', 'wind']);
    // The joint configuration C(old, new) was in force on the way.
    expect(events.some((event) => event.type === 'status' && event.config.outgoing !== null)).toBe(true);
    const scores = model.node('solar')?.scores;
    expect(scores?.credit).toBeGreaterThan(0);
    expect(scores?.total).not.toBeNull();
    expect(model.market().head?.height).toBeGreaterThan(4);
    expect(model.quorums().length).toBeGreaterThan(0);
    // The leader's own write is the first acknowledgement of its commit quorum. (Compared with the
    // quorum's leader: the weight change may have just moved leadership to a heavier node.)
    const quorum = model.quorums()[0]!;
    expect(model.nodes().map((node) => node.id)).toContain(quorum.leader);
    expect(quorum.acks[0]!.id).toBe(quorum.leader);
  });

  it('replaces a crashed leader and brings the node back on its storage', async () => {
    const { source, model, events } = await started(5);
    await source.controls.runRound();
    const leader = await settledLeader(model);
    await source.controls.crash(leader.id);
    expect(model.node(leader.id)?.role).toBe('down');
    const next = await until(() => {
      const now = model.leader();
      return now !== undefined && now.id !== leader.id && now.term > leader.term ? now : undefined;
    }, 'a new leader');
    expect(next.id).not.toBe(leader.id);
    // Every term reported is an election, the one that replaced the crashed leader among them.
    const terms = new Set(events.flatMap((event) => ('term' in event && event.term > 0 ? [event.term] : [])));
    expect(model.elections().elections).toBe(terms.size);
    expect(model.elections().elections).toBeGreaterThanOrEqual(2);
    await source.controls.runRound();
    await source.controls.restart(leader.id);
    const target = (await settledLeader(model)).commitIndex;
    const back = await until(() => {
      const node = model.node(leader.id);
      return node?.up && node.appliedIndex >= target ? node : undefined;
    }, 'the restarted node to catch up');
    expect(back.role).not.toBe('down');
    await expect(source.controls.restart(leader.id)).rejects.toBeInstanceOf(ControlFailedError);
    // The controls log nothing themselves (the page logs each outcome once); the rounds run by hand neither.
    expect(model.log().filter((line) => /crashed|restarted|settled/.test(line.text))).toEqual([]);
  });

  it('finishes a round whose leader crashes in the middle of it, through the next leader', async () => {
    const { source, model } = await started(9);
    await source.controls.runRound();
    const leader = model.leader()!;
    const round = source.controls.runRound();
    await new Promise((resolve) => setTimeout(resolve, 15));
    await source.controls.crash(leader.id);
    const result = await round;
    expect(result.round).toBe(2);
    expect(result.contracts).toBe(3);
    expect(model.market().round?.round).toBe(2);
    expect(model.leader()?.id).not.toBe(leader.id);
  });

  it('puts a proposed trade in a ledger block and settles it in the next round', async () => {
    const { source, model } = await started();
    const trade = await source.controls.proposeTrade({ seller: 'wind', buyer: 'city', kWh: 420, unitPrice: 0.6 });
    expect(trade.contractId).toMatch(/^wind\/\d+$/);
    expect(trade.blockHeight).toBeGreaterThan(0);
    const block = await until(() => model.market().blocks.find((b) => b.height === trade.blockHeight), 'the trade block');
    expect(block.transactions.map((tx) => tx.summary)).toEqual([`wind offers city 420 kWh at 0.6 ¥/kWh (contract ${trade.contractId})`, `city accepts contract ${trade.contractId}`]);
    await source.controls.runRound();
    expect(model.market().round?.contracts.map((contract) => contract.id)).toContain(trade.contractId);
  });

  it('refuses bad control input with typed errors and changes nothing', async () => {
    const { source, model } = await started();
    const height = model.market().head?.height;
    await expect(source.controls.crash('nobody')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(source.controls.proposeTrade({ seller: 'mill', buyer: 'city', kWh: 10, unitPrice: 0.5 })).rejects.toThrow(/not a generation node/);
    await expect(source.controls.proposeTrade({ seller: 'solar', buyer: 'city', kWh: 10, unitPrice: 9 })).rejects.toThrow(/unit price/);
    await expect(source.controls.proposeTrade({ seller: 'solar', buyer: 'city', kWh: -1, unitPrice: 0.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(source.controls.partition('solar', 'solar')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(source.controls.setScoring('astrology')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(model.market().head?.height).toBe(height);
  });

  it('cuts and heals links, and replicates the strategy in force', async () => {
    const { source, model } = await started();
    const leader = model.leader()!;
    const others = model.nodes().filter((node) => node.id !== leader.id);
    for (const other of others) await source.controls.partition(leader.id, other.id);
    expect(source.controls.cutLinks()).toHaveLength(4);
    await until(() => {
      const now = model.leader();
      return now !== undefined && now.id !== leader.id ? now : undefined;
    }, 'a leader on the majority side');
    await source.controls.heal();
    expect(source.controls.cutLinks()).toEqual([]);

    await source.controls.runRound();
    await source.controls.setScoring('uniform');
    expect(model.strategy()).toBe('Uniform (classic Raft)');
    const equal = await until(() => {
      const weights = Object.values(model.configInForce()?.voters ?? {});
      return model.configInForce()?.outgoing === null && new Set(weights).size === 1 ? weights : undefined;
    }, 'equal weights under the uniform strategy');
    expect(equal).toHaveLength(5);
    const next = model.nodes().find((node) => node.up && node.role === 'follower')!;
    await source.controls.transferLeadership(next.id);
    await until(() => model.leader()?.id === next.id, 'the transfer');
  });
});
