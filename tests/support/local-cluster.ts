/**
 * A real local cluster for the repository tests, made the way the documentation makes one:
 * `greenraft cluster init` into a temporary folder, then `greenraft cluster start` as a job of its
 * own (one process per node, peers over WebSocket, storage in write-ahead logs), on ports the OS
 * picks. A node can be added and removed as the operations guide says: its own configuration with
 * `join: true`, run by `greenraft node --config`, then a membership change through the client API.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../../apps/cli/src/commands/cluster.js';
import { awaitGone, groupMembers, Job } from './processes.js';
import { repo } from './repo.js';

const exec = promisify(execFile);

/** The built command, as `npx greenraft` runs it. */
export const CLI = join(repo, 'apps/cli/dist/bin.js');

/** One node as `greenraft cluster start` prints it. */
export interface StartedNode {
  readonly id: string;
  readonly pid: number;
  readonly http: string;
  readonly ws: string;
  readonly peer: string;
  readonly config: string;
  readonly log: string;
}

/** The endpoints line `greenraft cluster start` (and `greenraft cluster`) prints once every node answers /livez; `dashboard` is the page's address with its control token (`…/#token=…`), null with `--no-dashboard`. */
export function endpointsLine(stdout: string): { dir: string; nodes: StartedNode[]; dashboard?: string | null } | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { dir?: unknown; nodes?: unknown };
      if (typeof parsed.dir === 'string' && Array.isArray(parsed.nodes) && parsed.nodes.every((node) => typeof node?.pid === 'number' && typeof node?.http === 'string')) {
        return parsed as { dir: string; nodes: StartedNode[]; dashboard?: string | null };
      }
    } catch {
      // Not the endpoints line.
    }
  }
  return undefined;
}

/** The line `greenraft dashboard` prints once it listens: `{"url","endpoints"}`. */
export function dashboardLine(stdout: string): { url: string; endpoints: string[] } | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { url?: unknown; endpoints?: unknown };
      if (typeof parsed.url === 'string' && Array.isArray(parsed.endpoints)) return parsed as { url: string; endpoints: string[] };
    } catch {
      // Not the address line.
    }
  }
  return undefined;
}

/** The `listening` log line of `greenraft node`: its peer and client addresses. */
export function listeningLine(stdout: string): { peerUrl: string; clientUrl: string } | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; peerUrl?: unknown; clientUrl?: unknown };
      if (parsed.msg === 'listening' && typeof parsed.peerUrl === 'string' && typeof parsed.clientUrl === 'string') return { peerUrl: parsed.peerUrl, clientUrl: parsed.clientUrl };
    } catch {
      // Not a log line.
    }
  }
  return undefined;
}

/** Runs the built `greenraft` to completion; rejects with its stderr when it fails. */
export async function greenraft(args: readonly string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [CLI, ...args], { cwd: repo, timeout: 60_000 }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`greenraft ${args.join(' ')}: ${error.stderr ?? error.message}`);
  });
  return stdout;
}

/** An HTTP answer of the client API. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** One request to the client API at `url`, retried while the cluster has no leader (503) for up to 20 s. */
export async function call(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const response = await fetch(`${url}${path}`, {
      method,
      signal: AbortSignal.timeout(15_000),
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    const answer = { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
    if (response.status !== 503 || performance.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function expectOk(answer: Answer, what: string): unknown {
  if (answer.status >= 300) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** A node started on its own with `greenraft node --config`, to be added to a running cluster. */
export interface JoiningNode {
  readonly id: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  readonly job: Job;
  readonly dataDir: string;
}

interface Configuration {
  readonly voters: Record<string, number>;
  readonly learners: readonly string[];
  readonly outgoing: Record<string, number> | null;
}

/** A cluster of `greenraft cluster start`, stopped as a user stops it: SIGTERM to its process group. */
export class LocalCluster {
  readonly dir: string;
  readonly job: Job;
  readonly nodes: readonly StartedNode[];
  /** The dashboard's address and the token of its control API, as `cluster start` printed them. */
  readonly dashboard: { readonly url: string; readonly token: string } | undefined;
  readonly #joining = new Map<string, JoiningNode>();
  #generation = 0;

  private constructor(dir: string, job: Job, nodes: readonly StartedNode[], dashboard: string | null | undefined) {
    this.dir = dir;
    this.job = job;
    this.nodes = nodes;
    const address = typeof dashboard === 'string' ? new URL(dashboard) : undefined;
    this.dashboard = address === undefined ? undefined : { url: address.origin, token: new URLSearchParams(address.hash.slice(1)).get('token') ?? '' };
  }

  /** `greenraft cluster init --dir DIR INIT…`, then `greenraft cluster start --dir DIR`, up once it prints its endpoints. */
  static async start(dir: string, init: readonly string[]): Promise<LocalCluster> {
    await greenraft(['cluster', 'init', '--dir', dir, ...init]);
    const job = new Job(`exec '${process.execPath}' '${CLI}' cluster start --dir '${dir}'`, { cwd: repo, env: process.env });
    try {
      const { nodes, dashboard } = await job.until(endpointsLine, 90_000);
      return new LocalCluster(dir, job, nodes, dashboard);
    } catch (error) {
      await job.stop('SIGTERM', 20_000);
      throw error;
    }
  }

  /** Every node's client URL, comma-separated, as `--endpoints` and `GREENRAFT_ENDPOINTS` take them. */
  get endpoints(): string {
    return this.nodes.map((node) => node.http).join(',');
  }

  /** The client URL of node `n` (1-based). */
  url(n: number): string {
    const node = this.nodes[n - 1];
    if (node === undefined) throw new Error(`the cluster has no node ${n}`);
    return node.http;
  }

  /** A request to node 1 (a follower forwards it to the leader). */
  call(method: string, path: string, body?: unknown): Promise<Answer> {
    return call(this.url(1), method, path, body);
  }

  /** The configuration in effect, once no joint change is in flight. */
  async configuration(): Promise<Configuration> {
    const deadline = performance.now() + 20_000;
    for (;;) {
      const status = expectOk(await this.call('GET', '/v1/cluster/status'), 'cluster status') as { config: Configuration; leader: string | null };
      if ((status.config.outgoing === null && status.leader !== null) || performance.now() > deadline) return status.config;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Waits until the cluster is steady: node 1 sees the same leader and term, and no joint
   * configuration, twice half a second apart (a weighted cluster hands leadership to its heaviest
   * voter after a change; the next line should not meet that handover).
   */
  async steady(): Promise<void> {
    const deadline = performance.now() + 20_000;
    let last = '';
    while (performance.now() < deadline) {
      const answer = await this.call('GET', '/v1/cluster/status');
      const status = answer.body as { leader?: string | null; term?: number; config?: Configuration };
      const now = status.leader !== null && status.config?.outgoing === null ? `${status.leader}@${status.term}` : '';
      if (now !== '' && now === last) return;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The members: voters and learners. */
  async members(): Promise<string[]> {
    const config = await this.configuration();
    return [...Object.keys(config.voters), ...config.learners];
  }

  /**
   * A fresh node `id` that is not a member yet, running with `join: true` on ports the OS picked,
   * as operations guide's "Adding and removing nodes" starts one. A removed `id` is stopped and
   * started anew on an empty directory first.
   */
  async joiner(id: string): Promise<JoiningNode> {
    await this.ensureAbsent(id);
    const running = this.#joining.get(id);
    if (running !== undefined) return running;
    const founder = JSON.parse(readFileSync(this.nodes[0]!.config, 'utf8')) as { clusterId: string; stateMachine: string; policy: string; peers: Record<string, unknown> };
    const [peerPort, clientPort] = await freePorts(2);
    const dataDir = `data/${id}-${++this.#generation}`;
    const file = join(this.dir, `${id}.json`);
    const config = {
      id,
      clusterId: founder.clusterId,
      dataDir,
      stateMachine: founder.stateMachine,
      policy: founder.policy,
      join: true,
      clusterSecretFile: 'cluster.secret',
      peers: { ...founder.peers, [id]: { peerUrl: `ws://127.0.0.1:${peerPort}`, clientUrl: `http://127.0.0.1:${clientPort}` } },
    };
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    const job = new Job(`exec '${process.execPath}' '${CLI}' node --config '${file}'`, { cwd: repo, env: process.env });
    try {
      const addresses = await job.until(listeningLine, 60_000);
      const node = { id, ...addresses, job, dataDir: join(this.dir, dataDir) };
      this.#joining.set(id, node);
      return node;
    } catch (error) {
      await job.stop('SIGTERM', 20_000);
      throw error;
    }
  }

  /** Makes `id` a voter of weight 1 (a fresh joining node, added through the client API) unless it is a member. */
  async ensureMember(id: string): Promise<void> {
    if ((await this.members()).includes(id)) return;
    const node = await this.joiner(id);
    expectOk(await this.call('POST', '/v1/cluster/members', { member: id, peerUrl: node.peerUrl, clientUrl: node.clientUrl, weight: 1 }), `add ${id}`);
  }

  /** Removes `id` if it is a member (every weight set back to 1 first, so the guard holds without it) and stops its process. */
  async ensureAbsent(id: string): Promise<void> {
    if ((await this.members()).includes(id)) {
      const voters = (await this.configuration()).voters;
      if (Object.values(voters).some((weight) => weight !== 1)) {
        expectOk(await this.call('POST', '/v1/cluster/weights', { weights: Object.fromEntries(Object.keys(voters).map((voter) => [voter, 1])) }), 'reset the weights');
      }
      expectOk(await this.call('DELETE', `/v1/cluster/members/${id}`), `remove ${id}`);
    }
    const node = this.#joining.get(id);
    if (node !== undefined) {
      // A removed node stops taking part; its process and directory go with it.
      this.#joining.delete(id);
      await node.job.stop('SIGTERM', 20_000);
      rmSync(node.dataDir, { recursive: true, force: true });
    }
  }

  /** Stops every node (joining ones too) and resolves with what is left running of them: nothing, when all is well. */
  async stop(): Promise<{ exit: number | null; leftOver: number[] }> {
    for (const node of this.#joining.values()) await node.job.stop('SIGTERM', 20_000);
    this.#joining.clear();
    const ended = await this.job.stop('SIGTERM', 30_000);
    const leftOver = [...(await awaitGone(this.nodes.map((node) => node.pid))), ...groupMembers(this.job.pgid)];
    return { exit: ended.code, leftOver };
  }

  /** Kills whatever is left (for `afterAll` after a failure). */
  kill(): void {
    for (const node of this.#joining.values()) node.job.kill();
    this.job.kill();
  }
}
