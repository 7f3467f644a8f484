/**
 * The supervisor of `greenraft cluster start` and `greenraft cluster`: it keeps the node
 * processes of a local cluster, puts a TCP proxy on every directed link between them (each node
 * reaches its peers through the proxies, so a link can be cut and healed), and serves, next to
 * the dashboard page, an authenticated control API (loopback only by default, a random token)
 * that acts on the real processes: crash = SIGKILL, restart = the same node again on its data
 * directory, partition and heal = the proxies, trades and trading rounds = market transactions
 * each node signs with the participant key `cluster init --state-machine market` gave it, scoring
 * = `cluster.setScoring`. A node that dies is reported (and shown by the page), never restarted
 * silently. SIGINT or SIGTERM stops everything and leaves no process behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient, type GreenraftClient } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import {
  type ControlBackend,
  ControlFailedError,
  type DashboardServer,
  type MarketRounds,
  type RoundOutcome,
  SCORING_CHOICES,
  marketRoster,
  marketRounds,
  serveDashboard,
} from '@greenraft/dashboard';
import { loadServerConfig, parseServerConfig, type ServerConfig } from '@greenraft/server';
import { type ChaosNetwork, chaosNetwork } from '../chaos/proxy.js';
import { print, printError } from '../io.js';
import { type NodeExit, NodeProcess, STOP_PATIENCE_MS } from '../node-process.js';
import { dashboardPage } from './page.js';

/** One node of the cluster, as its manifest names it. */
export interface SupervisedNode {
  readonly id: string;
  /** Its configuration file (absolute). */
  readonly config: string;
  /** Its client API. */
  readonly http: string;
  /** Its peer endpoint. */
  readonly peer: string;
}

/** Options of {@link superviseCluster}. */
export interface SuperviseInit {
  /** The cluster's directory (its manifest's), for logs and the nodes' run-time configurations. */
  readonly dir: string;
  readonly nodes: readonly SupervisedNode[];
  /** Serve the dashboard and the control API. @default true */
  readonly dashboard?: boolean;
  /** @default '127.0.0.1' */
  readonly dashboardHost?: string;
  /** @default 0: a free port */
  readonly dashboardPort?: number;
  /** Run a trading round every this many ms (market clusters); 0: only when asked. @default 0 */
  readonly roundEveryMs?: number;
  /** Stop by itself after this many ms. @default never: until SIGINT or SIGTERM */
  readonly stopAfterMs?: number;
  /** Seeds the trading plan. @default random */
  readonly seed?: number;
}

/** What the supervisor prints first, on stdout, once every node runs. */
export interface StartedCluster {
  readonly dir: string;
  readonly nodes: readonly { id: string; pid: number | undefined; http: string; ws: string; peer: string; config: string; log: string }[];
  /** The dashboard's address with the control API's token (`…/#token=…`), or `null` without a dashboard. */
  readonly dashboard: string | null;
}

const num = (value: number) => value.toLocaleString('en-GB', { maximumFractionDigits: 0 });

/** A round in one line, for the terminal. */
function roundLine(outcome: RoundOutcome, status: Record<string, unknown> | undefined): string {
  const view = outcome.view;
  const defaults = view?.contracts.filter((contract) => contract.generatorPenalty + contract.consumerPenalty > 0).length ?? 0;
  const kWh = view?.totalContractedKWh ?? 0;
  const voters = ((status?.config as { voters?: Record<string, number> } | null)?.voters ?? {}) as Record<string, number>;
  const weights = Object.entries(voters)
    .map(([id, weight]) => `${id} ${weight}`)
    .join(', ');
  const market = status?.market as { head?: { height?: number } } | undefined;
  const parts = [
    `round ${outcome.round}: ${outcome.contracts} contract${outcome.contracts === 1 ? '' : 's'}, ${num(kWh)} kWh${defaults > 0 ? `, ${defaults} in default` : ''}${outcome.dropped > 0 ? `, ${outcome.dropped} not made` : ''}`,
    ...(typeof market?.head?.height === 'number' ? [`ledger height ${market.head.height}`] : []),
    ...(typeof status?.leader === 'string' ? [`leader ${status.leader} (term ${String(status.term)})`] : []),
    ...(weights === '' ? [] : [`weights ${weights}`]),
  ];
  return parts.join(' · ');
}

function describeExit(exit: NodeExit): string {
  return exit.signal === null ? `with code ${exit.code}` : `on ${exit.signal}`;
}

/** A node's configuration with its peers reached through the proxies, as a file `greenraft node` accepts. */
function proxiedConfig(config: ServerConfig, network: ChaosNetwork): ServerConfig {
  const peers: Record<string, { peerUrl: string; clientUrl: string }> = {};
  for (const [id, member] of Object.entries(config.peers)) peers[id] = { peerUrl: id === config.id ? member.peerUrl : network.url(config.id, id), clientUrl: member.clientUrl };
  // Paths are absolute already (loadServerConfig resolved them), so the file may live anywhere.
  return parseServerConfig({ ...config, peers });
}

/**
 * Runs the cluster `init.nodes` until SIGINT, SIGTERM or `stopAfterMs`. Resolves with the exit
 * code: 0 when every node ran until it was stopped (or crashed through the control API), 1 when a
 * node died by itself or could not start.
 */
export async function superviseCluster(init: SuperviseInit): Promise<number> {
  const dir = resolve(init.dir);
  const logs = join(dir, 'logs');
  const run = join(dir, 'run');
  mkdirSync(logs, { recursive: true });
  mkdirSync(run, { recursive: true });
  const configs = await Promise.all(init.nodes.map((node) => loadServerConfig(node.config)));
  const market = configs.every((config) => config.stateMachine === 'market');
  const targets = new Map(
    configs.map((config) => {
      const own = new URL(config.peers[config.id]!.peerUrl);
      return [config.id, { host: config.peer.listen?.host ?? own.hostname, port: config.peer.listen?.port ?? Number(own.port) }] as const;
    }),
  );
  if (configs.some((config) => config.peer.tls !== undefined)) throw new InvalidArgumentError('greenraft cluster: peers with TLS cannot be proxied; run such nodes with greenraft node');
  const network = await chaosNetwork({ targets, random: Math.random });

  let stopping = false;
  let serving = init.dashboard !== false;
  let died = 0;
  let wake!: () => void;
  const finished = new Promise<void>((resolveFinished) => {
    wake = resolveFinished;
  });
  const processes = new Map<string, NodeProcess>();
  const onExit = (exit: NodeExit) => {
    if (!exit.expected && !stopping) {
      died++;
      printError(`greenraft cluster: node ${exit.id} (pid ${exit.pid}) exited ${describeExit(exit)}; it is not restarted (log: ${exit.log})`);
    }
    // Without a control API nothing can start a node again: once all are down, the run is over.
    if (!serving && [...processes.values()].every((node) => node.state === 'down')) wake();
  };
  try {
    for (const [position, node] of init.nodes.entries()) {
      const config = configs[position]!;
      const file = join(run, `${node.id}.json`);
      writeFileSync(file, `${JSON.stringify(proxiedConfig(config, network), null, 2)}\n`, { mode: 0o600 });
      const own = new URL(config.peers[config.id]!.clientUrl);
      const ports = [targets.get(node.id)!, { host: config.client.listen?.host ?? own.hostname, port: config.client.listen?.port ?? Number(own.port) }];
      processes.set(node.id, new NodeProcess({ id: node.id, config: file, log: join(logs, `${node.id}.log`), onExit, holdPorts: ports }));
    }
  } catch (error) {
    await network.close();
    throw error;
  }

  const clients = new Map<string, GreenraftClient>(init.nodes.map((node) => [node.id, createClient({ endpoints: node.http, followLeader: false, timeoutMs: 10_000 })]));
  const reader = createClient({ endpoints: init.nodes.map((node) => node.http), timeoutMs: 10_000 });
  const up = (id: string) => processes.get(id)?.state === 'up';
  const rounds: MarketRounds | undefined = market
    ? marketRounds({ nodeClient: (id) => (up(id) ? clients.get(id) : undefined), reader: () => reader, ...(init.seed === undefined ? {} : { seed: init.seed }) })
    : undefined;

  let server: DashboardServer | undefined;
  let roundTimer: ReturnType<typeof setTimeout> | undefined;
  let roundEveryMs = market ? (init.roundEveryMs ?? 0) : 0;
  let roundRunning: Promise<unknown> = Promise.resolve();
  let stopTimer: ReturnType<typeof setTimeout> | undefined;

  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearTimeout(roundTimer);
    clearTimeout(stopTimer);
    // A round in flight is given a moment to finish, so the nodes stop between entries rather than mid-round.
    await Promise.race([roundRunning, new Promise((resolveWait) => setTimeout(resolveWait, 3000))]);
    await Promise.all([...clients.values(), reader].map((client) => client.close()));
    await Promise.all(
      [...processes.values()].map((node) =>
        node.stop(() => printError(`greenraft cluster: node ${node.id} (pid ${node.pid}) did not stop within ${STOP_PATIENCE_MS} ms; killing it`)),
      ),
    );
    await Promise.all([...processes.values()].map((node) => node.releasePorts()));
    await server?.close();
    await network.close();
  };
  const onSignal = () => wake();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const known = (control: string, node: unknown): NodeProcess => {
    const found = typeof node === 'string' ? processes.get(node) : undefined;
    if (found === undefined) throw new InvalidArgumentError(`${control}: no node ${JSON.stringify(node)} (nodes: ${[...processes.keys()].join(', ')})`);
    return found;
  };
  /**
   * Registers the nodes as market participants (each signs its own registration) the first time
   * the cluster trades: when a page connects, at a round or a trade, or at start with automatic
   * rounds. A market that has participants already (registered by their operators) is left as it is.
   */
  let registered: Promise<void> | undefined;
  /** Once this supervisor began registering, a retry completes its roster (an attempt may fail half-way). */
  let registering = false;
  const ensureParticipants = (): Promise<void> => {
    if (rounds === undefined) return Promise.resolve();
    registered ??= (async () => {
      if (!registering && (await rounds.participants()).length > 0) return;
      registering = true;
      const count = await rounds.register(marketRoster(init.nodes.map((node) => node.id)));
      if (count > 0) printError(`greenraft cluster: registered ${count} market participant${count === 1 ? '' : 's'}, each signed with its node's key`);
    })().catch((error: Error) => {
      registered = undefined;
      throw error;
    });
    return registered;
  };
  const needsMarket = async <T>(control: 'proposeTrade' | 'runRound' | 'setScoring', body: (market: MarketRounds) => Promise<T>): Promise<T> => {
    if (rounds === undefined) throw new ControlFailedError(control, 'this cluster runs the KV store, not the market');
    if (control !== 'setScoring') {
      await ensureParticipants().catch((error: Error) => {
        throw new ControlFailedError(control, `the market participants could not be registered: ${error.message}`, { cause: error });
      });
    }
    return body(rounds);
  };
  const reportRound = async (outcome: RoundOutcome) => {
    const status = await reader.status({ timeoutMs: 2000 }).catch(() => undefined);
    printError(roundLine(outcome, status as Record<string, unknown> | undefined));
  };
  const runRound = (): Promise<RoundOutcome> =>
    needsMarket('runRound', async (market) => {
      const result = market.runRound();
      roundRunning = result.catch(() => undefined);
      const outcome = await result;
      await reportRound(outcome);
      return outcome;
    });

  const backend: ControlBackend = {
    crash: async (node) => {
      const target = known('crash', node);
      if (target.state !== 'up') throw new ControlFailedError('crash', `${target.id} is not running (${target.state})`);
      const pid = target.pid;
      await target.crash();
      printError(`greenraft cluster: crashed node ${target.id} (pid ${pid}, SIGKILL) as the control API asked; its data directory is kept`);
    },
    restart: async (node) => {
      const target = known('restart', node);
      if (target.state !== 'down') throw new ControlFailedError('restart', `${target.id} is ${target.state === 'up' ? 'running' : target.state}: crash it first`);
      try {
        await target.start();
      } catch (error) {
        throw new ControlFailedError('restart', `${target.id} did not start: ${(error as Error).message}`, { cause: error });
      }
      printError(`greenraft cluster: restarted node ${target.id} (pid ${target.pid}) on its data directory`);
    },
    partition: async (a, b) => {
      known('partition', a);
      known('partition', b);
      if (a === b) throw new InvalidArgumentError('partition: name two different nodes');
      // A partition: bytes both ways are held, not refused, as a network that drops packets.
      network.blackhole(a, b);
      network.blackhole(b, a);
      printError(`greenraft cluster: cut the link ${a} ↔ ${b}`);
    },
    heal: async (a, b) => {
      if (a === undefined && b === undefined) {
        network.healAll();
        printError('greenraft cluster: healed every link');
        return;
      }
      known('heal', a);
      known('heal', b);
      network.heal(a!, b!);
      network.heal(b!, a!);
      printError(`greenraft cluster: healed the link ${a} ↔ ${b}`);
    },
    ...(market
      ? {
          proposeTrade: (trade) => needsMarket('proposeTrade', (m) => m.proposeTrade(trade)),
          runRound: async () => {
            const { round, contracts, index } = await runRound();
            return { round, contracts, index };
          },
          setScoring: async (choiceId) => {
            const choice = SCORING_CHOICES.find((candidate) => candidate.id === choiceId);
            if (choice === undefined) throw new InvalidArgumentError(`setScoring: no strategy ${JSON.stringify(choiceId)} (strategies: ${SCORING_CHOICES.map((c) => c.id).join(', ')})`);
            try {
              await reader.admin.setScoring(choice.selection.name, choice.selection.version, choice.selection.params);
            } catch (error) {
              throw new ControlFailedError('setScoring', `the cluster could not put ${choice.label} in force: ${(error as Error).message}`, { cause: error });
            }
            printError(`greenraft cluster: scoring strategy in force: ${choice.label}`);
          },
        }
      : {}),
  };

  const scheduleRound = () => {
    clearTimeout(roundTimer);
    if (stopping || roundEveryMs === 0) return;
    roundTimer = setTimeout(() => {
      runRound()
        .catch((error: Error) => printError(`round failed: ${error.message}`))
        .finally(scheduleRound);
    }, roundEveryMs);
  };

  try {
    try {
      await Promise.all([...processes.values()].map((node) => node.start()));
    } catch (error) {
      printError(`greenraft cluster: ${(error as Error).message}`);
      return 1;
    }
    const token = randomBytes(24).toString('base64url');
    if (serving) {
      try {
        server = await serveDashboard({
          root: dashboardPage(),
          host: init.dashboardHost ?? '127.0.0.1',
          port: init.dashboardPort ?? 0,
          config: { mode: 'live', endpoints: init.nodes.map((node) => node.http) },
          control: {
            backend,
            token,
            // A page that connects gets participants to trade between.
            onConnect: () => void ensureParticipants().catch((error: Error) => printError(`greenraft cluster: registering the market participants failed: ${error.message}`)),
            ...(market
              ? {
                  autoRounds: {
                    get everyMs() {
                      return roundEveryMs;
                    },
                    set(everyMs: number) {
                      roundEveryMs = everyMs;
                      scheduleRound();
                    },
                  },
                }
              : {}),
          },
        });
      } catch (error) {
        serving = false;
        printError(`greenraft cluster: no dashboard: ${(error as Error).message}`);
      }
      if (server !== undefined && !/^(127\.|\[::1\]|localhost)/.test(new URL(server.url).hostname)) {
        printError(`greenraft cluster: the control API listens on ${new URL(server.url).host}: whoever reaches it with the token can crash nodes`);
      }
    }
    const dashboard = server === undefined ? null : `${server.url}#token=${token}`;
    const started: StartedCluster = {
      dir,
      nodes: init.nodes.map((node) => {
        const process = processes.get(node.id)!;
        return { id: node.id, pid: process.pid, http: node.http, ws: `${node.http.replace(/^http/, 'ws')}/v1/ws`, peer: node.peer, config: node.config, log: process.log };
      }),
      dashboard,
    };
    // For scripts, one JSON line; on a terminal, a line per node (what a person reads).
    if (process.stdout.isTTY) for (const node of started.nodes) print(`${node.id}  ${node.http}  pid ${node.pid}  log ${node.log}`);
    else print(JSON.stringify(started));
    printError(`greenraft cluster: ${processes.size} node${processes.size === 1 ? '' : 's'} running${market ? ' (power market)' : ''}; Ctrl-C stops them all`);
    if (dashboard !== null) printError(`greenraft cluster: dashboard at ${dashboard}`);
    if (init.stopAfterMs !== undefined) stopTimer = setTimeout(wake, init.stopAfterMs);
    if (rounds !== undefined && roundEveryMs > 0) {
      const first = ensureParticipants().catch((error: Error) => printError(`greenraft cluster: registering the market participants failed: ${error.message}`));
      roundRunning = first;
      void first.then(scheduleRound);
    }
    await finished;
    return died > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // A second Ctrl-C while the nodes stop gracefully kills them at once.
    const forced = () => {
      for (const node of processes.values()) node.kill();
    };
    process.on('SIGINT', forced);
    process.on('SIGTERM', forced);
    try {
      await stopAll();
    } finally {
      process.off('SIGINT', forced);
      process.off('SIGTERM', forced);
    }
  }
}
