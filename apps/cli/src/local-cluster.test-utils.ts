/** Helpers of the multi-process tests: `greenraft cluster start` as a child process group, and waiting on its nodes. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export function requireBuilt(): void {
  if (!existsSync(BIN)) throw new Error('build the CLI first: npx turbo run build --filter=@greenraft/cli...');
}

/** Runs the built CLI to completion. */
export function greenraft(args: readonly string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `greenraft cluster init ARGS…`, which must succeed (its stderr says why not). */
export function initCluster(args: readonly string[]): void {
  const run = greenraft(args);
  if (run.code !== 0) throw new Error(`greenraft ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
}

export interface StartedNode {
  readonly id: string;
  readonly pid: number;
  readonly http: string;
  readonly ws: string;
  readonly log: string;
}

/** A running `greenraft cluster start`, in a process group of its own (it and its nodes). */
export class RunningCluster {
  readonly child: ChildProcess;
  nodes: StartedNode[] = [];
  /** The cluster's directory, as `start` printed it. */
  dir = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `greenraft cluster start --dir DIR`, or the command line `args` after `greenraft`. */
  constructor(dir: string, args: readonly string[] = ['cluster', 'start', '--dir', dir]) {
    this.child = spawn(process.execPath, [BIN, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits for the endpoints line on stdout. */
  async started(timeoutMs = 45_000): Promise<StartedNode[]> {
    let stdout = '';
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cluster start printed no endpoints within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const newline = stdout.indexOf('\n');
        if (newline >= 0) {
          clearTimeout(timer);
          resolve(stdout.slice(0, newline));
        }
      });
      void this.exited.then(() => reject(new Error(`cluster start exited before printing its endpoints; stderr: ${this.stderr}`)));
    });
    const printed = JSON.parse(line) as { dir: string; nodes: StartedNode[] };
    this.dir = printed.dir;
    this.nodes = printed.nodes;
    return this.nodes;
  }

  /** SIGTERM, then waits for the exit (bounded). */
  async stop(timeoutMs = 40_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGTERM');
    return await Promise.race([this.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('cluster start did not exit after SIGTERM')), timeoutMs))]);
  }

  /** Kills the whole process group: what `finally` does whatever happened. */
  killAll(): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    for (const node of this.nodes) {
      try {
        process.kill(node.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    return { status: response.status, body: text.length === 0 ? {} : (JSON.parse(text) as Record<string, unknown>) };
  } catch (error) {
    return { status: 0, body: { error: String(error) } };
  }
}

/** Waits until every node answers /readyz with 200 (a leader elected, applied caught up). */
export async function allReady(nodes: readonly StartedNode[], timeoutMs = 45_000): Promise<void> {
  await until(async () => (await Promise.all(nodes.map((node) => getJson(`${node.http}/readyz`)))).every((answer) => answer.status === 200), 'every node ready', timeoutMs);
}
