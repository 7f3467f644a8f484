/**
 * The nemesis of a chaos run, seeded: a sequence of faults, one at a time with a quiet gap after
 * each, every choice (kind, targets, durations) drawn from the seed. The kinds come in shuffled
 * decks (two kills, two pauses, two partitions, a delay), so a run of a few decks sees every kind.
 * "The leader" is whichever node the observer saw leading last, so the sequence of choices
 * replays under a seed while the nodes it lands on follow the run; how far into the sequence a
 * run gets depends on its timing.
 *
 * - kill: kill -9 of the leader or of 1 to n random nodes; half the kills are lost-write kills
 *   (the node's log segments cut back to what it had fsynced, the power cut after the crash);
 *   restarted after a downtime;
 * - power loss: every node killed at once with lost writes, then all restarted (once per run);
 * - pause: SIGSTOP of the leader or of one or two nodes, SIGCONT after a while;
 * - partition: a node (often the leader) isolated, a majority/minority split, a bridge (two sides
 *   that only one node joins), or a one-way link loss from or to the leader; by cut links
 *   (connections reset, new ones refused) or by blackholes (half-open links);
 * - delay: the links of one node, or all links, slowed with jitter;
 * - weights (weighted runs): new vote weights through `cluster.setWeights` (joint consensus) every
 *   few seconds, alongside the other faults, from a random stream of their own.
 */
import type { GreenraftClient } from '@greenraft/client';
import type { ChaosNode } from './nodes.js';
import type { ClusterObserver } from './observer.js';
import type { ChaosNetwork } from './proxy.js';

/** What the nemesis did, by kind. */
export interface NemesisCounts {
  /** Nodes killed (kill -9), lost-write kills and power losses included. */
  kills: number;
  /** Of those, the kills after which the node's log was cut back to what it had fsynced. */
  lostWriteKills: number;
  /** Whole-cluster lost-write crashes. */
  powerLosses: number;
  /** Nodes paused (SIGSTOP). */
  pauses: number;
  /** Network partitions (cut or blackholed links). */
  partitions: number;
  /** Link delay episodes. */
  delays: number;
  /** Weight changes the cluster acknowledged. */
  weightChanges: number;
  /** Weight changes it refused or did not answer. */
  weightChangesFailed: number;
  /** Bytes of log segments the lost-write kills threw away. */
  lostBytes: number;
}

/** One line of the nemesis timeline. */
export interface NemesisEvent {
  readonly atMs: number;
  readonly kind: string;
  readonly [detail: string]: unknown;
}

/** Options of {@link Nemesis}. */
export interface NemesisInit {
  readonly nodes: readonly ChaosNode[];
  readonly network: ChaosNetwork;
  readonly observer: ClusterObserver;
  readonly random: () => number;
  /** The weight changes' own random stream (weighted runs). */
  readonly weightRandom: () => number;
  readonly weighted: boolean;
  /** For weight changes (weighted runs). */
  readonly admin: GreenraftClient | undefined;
  /** The fault-tolerance guard of the weighted policy: the f heaviest voters stay below half the total. */
  readonly tolerateFailures: number;
  /** When (ms into the run) the power loss strikes; `undefined`: no power loss. */
  readonly powerLossAtMs: number | undefined;
  /** Milliseconds since the run began. */
  readonly clock: () => number;
  readonly onEvent: (event: NemesisEvent) => void;
  /** Failures of the harness itself (a node that would not restart), for the report. */
  readonly onProblem: (problem: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type FaultKind = 'kill' | 'pause' | 'partition' | 'delay';
/** One deck of faults; each is dealt in a seeded order. */
const DECK: readonly FaultKind[] = ['kill', 'kill', 'pause', 'pause', 'partition', 'partition', 'delay'];

/** The seeded nemesis; `run` until the signal fires, then `heal`. */
export class Nemesis {
  readonly counts: NemesisCounts = { kills: 0, lostWriteKills: 0, powerLosses: 0, pauses: 0, partitions: 0, delays: 0, weightChanges: 0, weightChangesFailed: 0, lostBytes: 0 };
  readonly #init: NemesisInit;
  readonly #random: () => number;
  #powerLost = false;

  constructor(init: NemesisInit) {
    this.#init = init;
    this.#random = init.random;
  }

  #between(low: number, high: number): number {
    return low + this.#random() * (high - low);
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  /** A seeded permutation (Fisher–Yates). */
  #shuffle<T>(items: readonly T[]): T[] {
    const pool = [...items];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool;
  }

  /** `count` distinct nodes in a seeded order. */
  #sample(count: number): ChaosNode[] {
    return this.#shuffle(this.#init.nodes).slice(0, count);
  }

  /** The leader if one is known and `wantLeader`, else a random node; the draw happens either way. */
  #leaderOr(wantLeader: boolean): ChaosNode {
    const fallback = this.#pick(this.#init.nodes);
    const leader = this.#init.observer.leader();
    return (wantLeader && this.#init.nodes.find((node) => node.id === leader)) || fallback;
  }

  #event(kind: string, detail: Record<string, unknown> = {}): void {
    this.#init.onEvent({ atMs: Math.round(this.#init.clock()), kind, ...detail });
  }

  /** Runs faults (and weight changes) until `signal` fires; the fault in progress finishes (and heals) first. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#faults(signal), this.#init.weighted ? this.#weightChanges(signal) : undefined]);
  }

  async #faults(signal: AbortSignal): Promise<void> {
    const deck: FaultKind[] = [];
    while (!signal.aborted) {
      await sleep(this.#between(500, 1500));
      if (signal.aborted) break;
      // No draw for it: when the power loss comes depends on timing, and the seeded sequence must not.
      if (!this.#powerLost && this.#init.powerLossAtMs !== undefined && this.#init.clock() >= this.#init.powerLossAtMs) {
        this.#powerLost = true;
        await this.#powerLoss();
        await sleep(1000);
        if (signal.aborted) break;
      }
      if (deck.length === 0) deck.push(...this.#shuffle(DECK));
      const kind = deck.pop()!;
      if (kind === 'kill') await this.#kill();
      else if (kind === 'pause') await this.#pause();
      else if (kind === 'partition') await this.#partition();
      else await this.#delay();
    }
  }

  async #weightChanges(signal: AbortSignal): Promise<void> {
    const random = this.#init.weightRandom;
    while (!signal.aborted) {
      await sleep(2000 + random() * 3000);
      if (signal.aborted) break;
      await this.#changeWeights();
    }
  }

  async #restart(nodes: readonly ChaosNode[]): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        try {
          await node.start();
          this.#event('restart', { node: node.id });
        } catch (error) {
          this.#init.onProblem(`restarting ${node.id}: ${(error as Error).message}`);
        }
      }),
    );
  }

  async #killNodes(nodes: readonly ChaosNode[], lostWrite: boolean): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.state === 'down') return;
        const lost = await node.kill9(lostWrite);
        this.counts.kills++;
        if (lostWrite) this.counts.lostWriteKills++;
        const bytes = lost?.truncated.reduce((sum, cut) => sum + cut.from - cut.to, 0) ?? 0;
        this.counts.lostBytes += bytes;
        this.#event('kill', { node: node.id, lostWrite, ...(lostWrite ? { lostBytes: bytes, unknownSegments: lost?.unknown.length ?? 0 } : {}) });
      }),
    );
  }

  async #kill(): Promise<void> {
    const n = this.#init.nodes.length;
    const shape = this.#random();
    const lostWrite = this.#random() < 0.5;
    const downtime = this.#between(500, 3000);
    let targets: ChaosNode[];
    if (shape < 0.45) targets = [this.#leaderOr(true)];
    else if (shape < 0.8) targets = this.#sample(1);
    else if (shape < 0.95) targets = this.#sample(Math.max(1, Math.floor((n - 1) / 2)));
    // A majority down: the cluster stops until they are back.
    else targets = this.#sample(Math.floor(n / 2) + 1);
    await this.#killNodes(targets, lostWrite);
    await sleep(downtime);
    await this.#restart(targets);
  }

  async #powerLoss(): Promise<void> {
    this.counts.powerLosses++;
    this.#event('power-loss', { nodes: this.#init.nodes.length });
    await this.#killNodes(this.#init.nodes, true);
    await sleep(1000);
    await this.#restart(this.#init.nodes);
  }

  async #pause(): Promise<void> {
    const targets = this.#random() < 0.5 ? [this.#leaderOr(true)] : this.#sample(this.#random() < 0.7 ? 1 : 2);
    const duration = this.#between(800, 4000);
    const paused = targets.filter((node) => node.state === 'up');
    for (const node of paused) {
      node.pause();
      this.counts.pauses++;
    }
    this.#event('pause', { nodes: paused.map((node) => node.id), ms: Math.round(duration) });
    await sleep(duration);
    for (const node of paused) node.resume();
    this.#event('resume', { nodes: paused.map((node) => node.id) });
  }

  async #partition(): Promise<void> {
    const ids = this.#init.nodes.map((node) => node.id);
    const shape = this.#pick(['isolate-leader', 'isolate', 'split', 'bridge', 'one-way'] as const);
    const mechanism = this.#random() < 0.5 ? 'cut' : 'blackhole';
    const duration = this.#between(1500, 5000);
    const links: [string, string][] = [];
    let description: Record<string, unknown>;
    const between = (left: readonly string[], right: readonly string[]) => {
      for (const a of left) for (const b of right) links.push([a, b], [b, a]);
    };
    if (shape === 'isolate-leader' || shape === 'isolate') {
      const alone = this.#leaderOr(shape === 'isolate-leader').id;
      between([alone], ids.filter((id) => id !== alone));
      description = { alone };
    } else if (shape === 'split') {
      const order = this.#sample(ids.length).map((node) => node.id);
      const minority = order.slice(0, 1 + Math.floor(this.#random() * Math.floor((ids.length - 1) / 2)));
      const majority = order.filter((id) => !minority.includes(id));
      between(minority, majority);
      description = { minority, majority };
    } else if (shape === 'bridge') {
      // Jepsen's bridge: two halves that only the bridge node talks to both of.
      const order = this.#sample(ids.length).map((node) => node.id);
      const bridge = order[0]!;
      const half = Math.floor((ids.length - 1) / 2);
      const left = order.slice(1, 1 + half);
      const right = order.slice(1 + half);
      between(left, right);
      description = { bridge, left, right };
    } else {
      const leader = this.#leaderOr(true).id;
      const outbound = this.#random() < 0.5;
      for (const other of ids) if (other !== leader) links.push(outbound ? [leader, other] : [other, leader]);
      description = { leader, direction: outbound ? 'from' : 'to' };
    }
    const network = this.#init.network;
    for (const [from, to] of links) {
      // One-way loss only makes sense as a blackhole: a refused or reset connection is lost both ways.
      if (mechanism === 'blackhole' || shape === 'one-way') network.blackhole(from, to);
      else network.refuse(from, to);
    }
    let reset = 0;
    if (mechanism === 'cut' && shape !== 'one-way') for (const [from, to] of links) if (from < to) reset += network.cut(from, to);
    this.counts.partitions++;
    this.#event('partition', { shape, mechanism: shape === 'one-way' ? 'blackhole' : mechanism, ...description, ms: Math.round(duration), reset });
    await sleep(duration);
    network.healAll();
    this.#event('heal');
  }

  async #delay(): Promise<void> {
    const ids = this.#init.nodes.map((node) => node.id);
    const one = this.#random() < 0.5 ? this.#pick(ids) : undefined;
    const delayMs = Math.round(this.#between(20, 150));
    const jitterMs = Math.round(this.#between(0, 60));
    const duration = this.#between(2000, 5000);
    for (const from of ids) for (const to of ids) if (from !== to && (one === undefined || from === one || to === one)) this.#init.network.delay(from, to, delayMs, jitterMs);
    this.counts.delays++;
    this.#event('delay', { node: one ?? 'all', delayMs, jitterMs, ms: Math.round(duration) });
    await sleep(duration);
    this.#init.network.healAll();
    this.#event('heal');
  }

  /** Random weights from 1 to 4 that keep the fault-tolerance guard (2 · Σ of the f heaviest < total). */
  weightsFor(ids: readonly string[]): Record<string, number> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const weights = ids.map(() => 1 + Math.floor(this.#init.weightRandom() * 4));
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      const heaviest = [...weights].sort((a, b) => b - a).slice(0, this.#init.tolerateFailures).reduce((sum, weight) => sum + weight, 0);
      if (2 * heaviest < total) return Object.fromEntries(ids.map((id, i) => [id, weights[i]!]));
    }
    return Object.fromEntries(ids.map((id) => [id, 1]));
  }

  async #changeWeights(): Promise<void> {
    const weights = this.weightsFor(this.#init.nodes.map((node) => node.id));
    const admin = this.#init.admin;
    if (admin === undefined) return;
    try {
      await admin.admin.setWeights(weights, { timeoutMs: 10_000 });
      this.counts.weightChanges++;
      this.#event('weights', { weights });
    } catch (error) {
      this.counts.weightChangesFailed++;
      this.#event('weights-failed', { weights, error: `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`.trim() });
    }
  }

  /** Lifts every fault: links healed, paused nodes resumed, dead nodes restarted. */
  async heal(): Promise<void> {
    this.#init.network.healAll();
    for (const node of this.#init.nodes) node.resume();
    await this.#restart(this.#init.nodes.filter((node) => node.state === 'down'));
    this.#event('healed');
  }
}
