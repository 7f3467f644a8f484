/**
 * Processes the repository tests start and must stop: a command line in a process group of its
 * own (as a shell job is), read as it prints, stopped with a signal to the whole group (as Ctrl-C
 * or `kill %1` stops a job), killed for good if it does not stop in time. Nothing outlives a test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** How a stopped process ended. */
export interface Ended {
  /** The exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Whether a process with this id exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; Z is a zombie, already dead.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The ids of the live processes of process group `pgid` (empty once every member has gone). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state, ppid, pgrp.
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/** A command line running in its own process group. */
export class Job {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly ended: Promise<Ended>;
  #ended = false;

  /** Starts `bash -c command` (so `npx …`, pipes and variables work as in a terminal). */
  constructor(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.ended = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.#ended = true;
        resolve({ code, signal });
      }),
    );
  }

  /** The process group: the shell's pid. */
  get pgid(): number {
    return this.child.pid!;
  }

  get hasEnded(): boolean {
    return this.#ended;
  }

  /**
   * Waits until `ready` finds what it looks for in the output so far (it returns undefined until
   * then). Rejects when the job ends first or `timeoutMs` passes, with what it printed.
   */
  async until<T>(ready: (stdout: string) => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = ready(this.stdout);
      if (found !== undefined) return found;
      if (this.#ended) throw new Error(`ended before it was ready: ${this.describe()}`);
      if (performance.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms: ${this.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends `signal` to the whole group and waits for the shell to end; SIGKILLs the group after `patienceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', patienceMs = 30_000): Promise<Ended & { killed: boolean }> {
    if (!this.#ended) signalGroup(this.pgid, signal);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      signalGroup(this.pgid, 'SIGKILL');
    }, patienceMs);
    const ended = await this.ended;
    clearTimeout(timer);
    return { ...ended, killed };
  }

  /** Kills whatever is left of the group (for `finally`/`afterAll`; a no-op once it is empty). */
  kill(): void {
    signalGroup(this.pgid, 'SIGKILL');
  }

  describe(): string {
    return `stdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already empty.
  }
}

/** Resolves once none of `pids` runs, or with the ones still running after `timeoutMs`. */
export async function awaitGone(pids: readonly number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isRunning);
    if (alive.length === 0 || performance.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once process group `pgid` has no live member, or with the members still there after `timeoutMs`. */
export async function awaitGroupGone(pgid: number, timeoutMs = 10_000): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const members = groupMembers(pgid);
    if (members.length === 0 || performance.now() > deadline) return members;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
