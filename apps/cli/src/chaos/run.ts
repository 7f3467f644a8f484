/**
 * One chaos run: N node processes behind per-link proxies, concurrent clients recording a
 * history, the seeded nemesis, then every fault lifted and the final checks (linearizability of
 * the whole history, no acknowledged write lost, every node in the same state, at most one leader
 * per term, no node that died on its own). `greenraft chaos` and the CI test both call
 * {@link runChaos}.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient, type GreenraftClient } from '@greenraft/client';
import { InvalidArgumentError, integerOption, seededRandom } from '@greenraft/consensus';
import { type CheckVerdict, checkOperations, kvModel } from '@greenraft/linearizability';
import { type Convergence, convergence, finalReads, keysOf, type LostWrites, lostWrites } from './checks.js';
import { writeSyncPreload } from './durability.js';
import { ChaosSetupError } from './errors.js';
import { ChaosHistory } from './history.js';
import { Nemesis, type NemesisCounts, type NemesisEvent } from './nemesis.js';
import { ChaosNode, DEFAULT_TIMING, type NodeTiming, type UnexpectedExit, writeNodeConfigs } from './nodes.js';
import { ClusterObserver, type ElectionSafetyViolation } from './observer.js';
import { type ChaosNetwork, chaosNetwork, type PassThroughProxy, passThroughProxy } from './proxy.js';
import { type ClientTiming, DEFAULT_CLIENT_TIMING, runWorkload, type WorkloadCounts } from './workload.js';

/** The bugs a run can inject, to show that the checks catch what they guard against. */
export const CHAOS_BUGS = ['skip-fsync', 'stale-reads'] as const;
/** One of {@link CHAOS_BUGS}. */
export type ChaosBug = (typeof CHAOS_BUGS)[number];

/** Options of {@link runChaos}. */
export interface ChaosInit {
  /** Node processes (3 to 9). */
  nodes: number;
  /** Seconds of faults and client load, before the final checks. */
  durationS: number;
  /** Weighted Raft, with weight changes among the faults. */
  weighted?: boolean;
  /**
   * Seeds the nemesis and the clients' choices.
   * @default 1
   */
  seed?: number;
  /**
   * Concurrent clients.
   * @default 5
   */
  clients?: number;
  /**
   * Keys the clients share.
   * @default 5
   */
  keys?: number;
  /**
   * Mean pause between one client's operations, in milliseconds (keeps the history checkable).
   * @default 10
   */
  thinkMs?: number;
  /**
   * Whether one whole-cluster lost-write crash strikes halfway through.
   * @default true
   */
  powerLoss?: boolean;
  /**
   * A bug to inject, to see the checks fail: `skip-fsync` makes the nodes acknowledge writes
   * before they are durable; `stale-reads` makes the clients read a node's own state (possibly
   * behind) where they claim a linearizable read.
   */
  injectBug?: ChaosBug;
  /**
   * Where to keep the run (configurations, data, logs, history); it is kept whatever the outcome.
   * @default a temporary directory, removed when the run passes
   */
  dir?: string;
  /**
   * Time limit of the linearizability check, in milliseconds (`unknown` beyond it).
   * @default 120000
   */
  checkTimeoutMs?: number;
  /** Ends the faults and the load early (the final checks still run). */
  signal?: AbortSignal;
  /** Progress lines, for a terminal. */
  onProgress?: (line: string) => void;
  /** Node timing; the defaults suit a loaded 2-core machine. */
  timing?: Partial<NodeTiming>;
  clientTiming?: Partial<ClientTiming>;
}

/** What a run found. The first eight fields are the summary `greenraft chaos --json` promises. */
export interface ChaosReport {
  /** Client operations invoked during the run (reads and writes; the final reads not counted). */
  ops: number;
  /** Writes the cluster acknowledged as applied (puts, and cas that swapped). */
  acknowledged: number;
  /** Acknowledged writes that no final state can follow (see checks.ts). */
  lost: number;
  /** Whether the whole history, final reads included, is linearizable. */
  linearizable: boolean;
  kills: number;
  pauses: number;
  partitions: number;
  /** Terms in which some node was seen leading. */
  elections: number;
  reads: number;
  writes: number;
  indefinite: number;
  failed: number;
  lostWriteKills: number;
  powerLosses: number;
  lostBytes: number;
  delays: number;
  weightChanges: number;
  /** Weight changes the cluster refused or did not answer (a change can time out under faults). */
  weightChangesFailed: number;
  /** The checker's verdict: `unknown` when it ran out of time. */
  verdict: CheckVerdict;
  converged: boolean;
  appliedIndex: number | null;
  electionSafety: boolean;
  unexpectedExits: number;
  /** Node starts tried again because the CLI's files were missing meanwhile (a build replacing dist/). */
  startRetries: number;
  seed: number;
  nodes: number;
  weighted: boolean;
  durationS: number;
  injectBug: ChaosBug | null;
  /** Whether every check passed: nothing lost, linearizable, converged, one leader per term, no node died on its own. */
  passed: boolean;
  /** Why not, in sentences. */
  problems: string[];
  /** The command line that runs the same seed again. */
  replay: string;
  /** Where the run's files are, when they were kept. */
  dir: string | null;
  history: string | null;
}

/** The details behind a report, for a reader of the kept directory. */
interface ReportDetails {
  readonly lostWrites: LostWrites;
  readonly convergence: Convergence;
  readonly electionSafetyViolations: ElectionSafetyViolation[];
  readonly unexpectedExits: UnexpectedExit[];
  readonly failingKey: string | undefined;
  readonly failingOperation: string | undefined;
  readonly checkMs: number;
  readonly proxies: ReturnType<Awaited<ReturnType<typeof chaosNetwork>>['stats']>;
}

const sleep = (ms: number) => new Promise<void>((resolveSleep) => setTimeout(resolveSleep, ms));

function checkInit(init: ChaosInit): void {
  const whole = (name: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined) integerOption(name, value, { min, max });
  };
  whole('nodes', init.nodes, 3, 9);
  whole('clients', init.clients, 1, 64);
  whole('keys', init.keys, 1, 1000);
  whole('seed', init.seed, 0, 2 ** 31 - 1);
  if (!(init.durationS > 0 && init.durationS <= 86_400)) throw new InvalidArgumentError(`durationS must be from 0 to 86400 seconds, not ${init.durationS}`);
  if (init.injectBug !== undefined && !(CHAOS_BUGS as readonly string[]).includes(init.injectBug)) throw new InvalidArgumentError(`injectBug must be one of ${CHAOS_BUGS.join(', ')}`);
}

/** The command line that replays a run's seed. */
export function chaosReplayCommand(init: ChaosInit): string {
  const parts = ['greenraft chaos', `--nodes ${init.nodes}`, `--duration ${init.durationS}`];
  if (init.weighted) parts.push('--weighted');
  parts.push(`--seed ${init.seed ?? 1}`);
  if (init.clients !== undefined && init.clients !== 5) parts.push(`--clients ${init.clients}`);
  if (init.keys !== undefined && init.keys !== 5) parts.push(`--keys ${init.keys}`);
  if (init.powerLoss === false) parts.push('--no-power-loss');
  if (init.injectBug !== undefined) parts.push(`--inject-bug ${init.injectBug}`);
  return parts.join(' ');
}

async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) return undefined;
    await sleep(100);
  }
}

/**
 * Runs one chaos test against real node processes (the built CLI's `greenraft node`) and resolves
 * with what it found. Never leaves a process behind: every node is stopped before it resolves or
 * rejects. The run's directory is kept when a check failed or `init.dir` was given.
 *
 * @example
 * ```ts
 * const report = await runChaos({ nodes: 5, durationS: 60, weighted: true, seed: 7 });
 * if (!report.passed) console.error(report.problems, report.dir, report.replay);
 * ```
 */
export async function runChaos(init: ChaosInit): Promise<ChaosReport> {
  checkInit(init);
  const seed = init.seed ?? 1;
  const weighted = init.weighted ?? false;
  const clientCount = init.clients ?? 5;
  const keyCount = init.keys ?? 5;
  const timing: NodeTiming = { ...DEFAULT_TIMING, ...init.timing };
  const clientTiming: ClientTiming = { ...DEFAULT_CLIENT_TIMING, ...init.clientTiming };
  const progress = init.onProgress ?? (() => {});
  const began = performance.now();
  const clock = () => performance.now() - began;
  // A directory of its own: an earlier run's data would be read as this cluster's.
  if (init.dir !== undefined && existsSync(init.dir) && readdirSync(init.dir).length > 0) throw new InvalidArgumentError(`dir ${init.dir} is not empty; give a new or empty directory`);
  const dir = init.dir === undefined ? mkdtempSync(join(tmpdir(), 'greenraft-chaos-')) : resolve(init.dir);
  const ids = Array.from({ length: init.nodes }, (_, i) => `n${i + 1}`);
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i + 1}`);
  const replay = chaosReplayCommand({ ...init, seed });
  const problems: string[] = [];
  const exits: UnexpectedExit[] = [];
  const events: NemesisEvent[] = [];
  const history = new ChaosHistory(clock);

  let network: ChaosNetwork | undefined;
  const clientProxies = new Map<string, PassThroughProxy>();
  let nodes: ChaosNode[] = [];
  const killAll = () => {
    for (const node of nodes) node.kill();
  };
  // Whatever ends this process, no node outlives it (a paused one would never notice its parent left).
  process.on('exit', killAll);
  let observer: ClusterObserver | undefined;
  let admin: GreenraftClient | undefined;
  let passed = false;
  try {
    // Every listener on port 0: the proxies first (their addresses go into the configurations),
    // the nodes behind them tell where they listen at each start.
    const links = await chaosNetwork({ targets: new Map(ids.map((id) => [id, undefined])), random: seededRandom(seed + 1) });
    network = links;
    for (const id of ids) clientProxies.set(id, await passThroughProxy());
    const specs = writeNodeConfigs({ dir, ids, network: links, clientProxies, weighted, timing });
    const preload = writeSyncPreload(dir);
    nodes = specs.map(
      (spec) =>
        new ChaosNode({
          spec,
          preload,
          skipFdatasync: init.injectBug === 'skip-fsync',
          clock,
          onUnexpectedExit: (exit) => {
            exits.push(exit);
            progress(`chaos: node ${exit.id} exited by itself (${exit.signal ?? `code ${exit.code}`}); log: ${exit.log}`);
          },
          onListening: ({ peer, client }) => {
            links.retarget(spec.id, peer);
            clientProxies.get(spec.id)!.retarget(client);
          },
        }),
    );
    const endpoints = specs.map((spec) => spec.clientUrl);
    const clientUrls = new Map(specs.map((spec) => [spec.id, spec.clientUrl]));
    const watcher = new ClusterObserver({ nodes: clientUrls, answering: (id) => nodes.find((node) => node.id === id)?.state === 'up' });
    observer = watcher;
    admin = weighted ? createClient({ endpoints, clientId: `chaos-${seed}-admin`, ...clientTiming }) : undefined;
    try {
      await Promise.all(nodes.map((node) => node.start()));
    } catch (error) {
      throw new ChaosSetupError(`the cluster did not start: ${(error as Error).message}`, dir, { cause: error });
    }
    watcher.start();
    const leader = await until(() => watcher.leader(), 30_000);
    if (leader === undefined) throw new ChaosSetupError(`no leader was elected within 30 s of the start; node logs in ${join(dir, 'logs')}`, dir);
    progress(`chaos: ${init.nodes} nodes up, ${leader} leads; ${init.durationS} s of faults and ${clientCount} clients (seed ${seed})`);

    const stop = new AbortController();
    const onAbort = () => stop.abort();
    init.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop.abort(), init.durationS * 1000);
    const runStart = clock();
    const nemesis = new Nemesis({
      nodes,
      network,
      observer: watcher,
      random: seededRandom(seed),
      weightRandom: seededRandom(seed + 2),
      weighted,
      admin,
      tolerateFailures: Math.floor((init.nodes - 1) / 2),
      powerLossAtMs: (init.powerLoss ?? true) ? runStart + (init.durationS * 1000) / 2 : undefined,
      clock,
      onEvent: (event) => {
        events.push(event);
        if (event.kind !== 'heal' && event.kind !== 'resume') progress(`chaos: ${(event.atMs / 1000).toFixed(1)} s: ${event.kind} ${JSON.stringify({ ...event, atMs: undefined, kind: undefined })}`);
      },
      onProblem: (problem) => problems.push(problem),
    });
    let counts: WorkloadCounts;
    try {
      [counts] = await Promise.all([
        runWorkload({ history, endpoints, keys, clients: clientCount, seed, thinkMs: init.thinkMs ?? 10, timing: clientTiming, clientPrefix: `chaos-${seed}`, readConsistency: init.injectBug === 'stale-reads' ? 'stale' : 'linearizable', signal: stop.signal }),
        nemesis.run(stop.signal),
      ]);
    } finally {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', onAbort);
    }
    progress(`chaos: faults over after ${(clock() / 1000).toFixed(1)} s; healing, then the final checks`);
    await nemesis.heal();

    // Recovery: a leader, then every key read back (these reads are part of the history).
    await until(() => watcher.leader(), 30_000);
    const reader = createClient({ endpoints, clientId: `chaos-${seed}-final`, ...clientTiming });
    const written = keysOf(history, keys);
    let finals: Awaited<ReturnType<typeof finalReads>>;
    try {
      finals = await finalReads(reader, history, written, 1_000_000, clientTiming, performance.now() + 60_000);
    } finally {
      await reader.close().catch(() => undefined);
    }
    const converged = await convergence(clientUrls, written, performance.now() + 60_000);
    await watcher.stop();

    const verdict = checkOperations(kvModel(), history.forChecker(), { timeoutMs: init.checkTimeoutMs ?? 120_000 });
    const lost = lostWrites(history, finals);
    const violations = watcher.violations();
    const n: NemesisCounts = nemesis.counts;
    if (lost.lost > 0) problems.push(`${lost.lost} acknowledged write(s) lost (e.g. ${lost.examples.slice(0, 3).map((e) => `${e.key}=${e.value}, final ${e.key}=${e.finalValue || 'absent'}`).join('; ')})`);
    if (lost.unreadKeys.length > 0) problems.push(`the final read of ${lost.unreadKeys.join(', ')} never succeeded: their writes are unverified`);
    if (lost.unexplained.length > 0) problems.push(`final values no write produced: ${lost.unexplained.map((u) => `${u.key}=${u.value}`).join(', ')}`);
    if (verdict.result === 'illegal') problems.push(`the history is not linearizable: key ${verdict.failingKey}, ${verdict.failingDescription ?? 'see the history'} (smallest failing prefix: ${verdict.smallestFailingPrefix} events)`);
    if (verdict.result === 'unknown') problems.push(`the linearizability check ran out of time (${init.checkTimeoutMs ?? 120_000} ms)`);
    if (!converged.converged) problems.push(`the nodes did not converge: ${converged.problem}`);
    if (violations.length > 0) problems.push(`two leaders in one term: ${violations.map((v) => `term ${v.term}: ${v.leaders.join(', ')}`).join('; ')}`);
    if (exits.length > 0) problems.push(`${exits.length} node exit(s) nobody asked for: ${exits.map((e) => `${e.id} (${e.signal ?? `code ${e.code}`}) at ${(e.atMs / 1000).toFixed(1)} s`).join(', ')}`);
    if (counts.acknowledged === 0) problems.push('no write was acknowledged: the run shows nothing');
    passed = problems.length === 0;

    const keep = !passed || init.dir !== undefined;
    const historyFile = join(dir, 'history.edn');
    const report: ChaosReport = {
      ops: counts.ops,
      acknowledged: counts.acknowledged,
      lost: lost.lost,
      linearizable: verdict.result === 'ok',
      kills: n.kills,
      pauses: n.pauses,
      partitions: n.partitions,
      elections: watcher.elections,
      reads: counts.reads,
      writes: counts.writes,
      indefinite: counts.indefinite,
      failed: counts.failed,
      lostWriteKills: n.lostWriteKills,
      powerLosses: n.powerLosses,
      lostBytes: n.lostBytes,
      delays: n.delays,
      weightChanges: n.weightChanges,
      weightChangesFailed: n.weightChangesFailed,
      verdict: verdict.result,
      converged: converged.converged,
      appliedIndex: converged.appliedIndex ?? null,
      electionSafety: violations.length === 0,
      unexpectedExits: exits.length,
      startRetries: nodes.reduce((sum, node) => sum + node.missingCodeRetries, 0),
      seed,
      nodes: init.nodes,
      weighted,
      durationS: init.durationS,
      injectBug: init.injectBug ?? null,
      passed,
      problems,
      replay,
      dir: keep ? dir : null,
      history: keep ? historyFile : null,
    };
    const details: ReportDetails = {
      lostWrites: lost,
      convergence: converged,
      electionSafetyViolations: violations,
      unexpectedExits: exits,
      failingKey: verdict.failingKey,
      failingOperation: verdict.failingDescription,
      checkMs: Math.round(verdict.ms),
      proxies: network.stats(),
    };
    writeFileSync(historyFile, history.toEdn());
    writeFileSync(join(dir, 'nemesis.jsonl'), events.map((event) => JSON.stringify(event)).join('\n') + '\n');
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify({ ...report, details }, null, 2)}\n`);
    return report;
  } finally {
    await observer?.stop();
    await admin?.close().catch(() => undefined);
    await Promise.all(nodes.map((node) => node.stop().catch(() => node.kill())));
    killAll();
    process.off('exit', killAll);
    await network?.close();
    await Promise.all([...clientProxies.values()].map((proxy) => proxy.close()));
    if (passed && init.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
