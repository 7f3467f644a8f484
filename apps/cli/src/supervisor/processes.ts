/**
 * The node processes of a supervised cluster: each runs `greenraft node --config FILE` from the
 * built CLI, in a process group of its own (Ctrl-C in a terminal reaches the supervisor, which
 * stops the nodes in order) and with an IPC channel (the node stops by itself if the supervisor
 * dies; it says over IPC when it runs). Its output goes to its log file. A process that exits
 * without being told to is reported, never restarted behind anyone's back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** How long a node may take to start (open its log, bind its ports, start the engine) on a loaded machine. */
export const START_PATIENCE_MS = 30_000;
/** How long a node may take to stop after SIGTERM before it is killed. */
export const STOP_PATIENCE_MS = 15_000;

/** The CLI's entry point, which each node process runs (`dist/bin.js`; from the source tree in tests). */
export function cliEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/bin.js' : './bin.js', here));
}

/** Where a node process is. */
export type ProcessState = 'down' | 'starting' | 'up' | 'stopping';

/** How a node process ended. */
export interface ProcessExit {
  readonly id: string;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the supervisor stopped or crashed it; false when it died by itself. */
  readonly expected: boolean;
  readonly log: string;
}

/** A port a node listens on. */
export interface NodePort {
  readonly host: string;
  readonly port: number;
}

/**
 * Listeners that keep a stopped node's ports from being taken by another process (another local
 * cluster, a test) until the node starts again; every connection they accept is closed at once,
 * as a refused one would be.
 */
class PortHold {
  readonly #servers: Server[] = [];

  static async take(ports: readonly NodePort[]): Promise<PortHold> {
    const hold = new PortHold();
    await Promise.all(
      ports.map(
        ({ host, port }) =>
          new Promise<void>((resolve) => {
            const server = createServer((socket) => socket.destroy());
            // A port someone else took already cannot be held: the restart will say so.
            server.once('error', () => resolve());
            server.listen({ host, port }, () => {
              hold.#servers.push(server);
              resolve();
            });
          }),
      ),
    );
    return hold;
  }

  async release(): Promise<void> {
    await Promise.all(this.#servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** Options of {@link NodeProcess}. */
export interface NodeProcessInit {
  readonly id: string;
  /** The configuration file it runs with. */
  readonly config: string;
  /** Its log file (appended to across restarts). */
  readonly log: string;
  readonly onExit: (exit: ProcessExit) => void;
  /** The ports it listens on, held while it is down so that it can bind them again. */
  readonly ports?: readonly NodePort[];
  /** @default {@link START_PATIENCE_MS} */
  readonly startPatienceMs?: number;
}

/** The last lines of a log, for an error message. */
export function logTail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** One node process. */
export class NodeProcess {
  readonly id: string;
  readonly config: string;
  readonly log: string;
  #child: ChildProcess | undefined;
  #state: ProcessState = 'down';
  #exited: Promise<void> = Promise.resolve();
  #hold: Promise<PortHold> | undefined;
  /** The last exit, once there was one. */
  lastExit: ProcessExit | undefined;
  /** Times it was started. */
  starts = 0;
  readonly #init: NodeProcessInit;

  constructor(init: NodeProcessInit) {
    this.#init = init;
    this.id = init.id;
    this.config = init.config;
    this.log = init.log;
  }

  get state(): ProcessState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process; resolves once the node runs (it says so over IPC), rejects if it exits or takes too long. */
  async start(): Promise<void> {
    if (this.#state !== 'down') throw new Error(`${this.id} is ${this.#state}, not down`);
    this.#state = 'starting';
    this.starts++;
    const hold = this.#hold;
    this.#hold = undefined;
    await (await hold)?.release();
    const fd = openSync(this.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [cliEntry(), 'node', '--config', this.config], { detached: true, stdio: ['ignore', fd, fd, 'ipc'], env: process.env });
    } finally {
      closeSync(fd);
    }
    this.#child = child;
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    child.on('message', (message) => {
      if (typeof message === 'object' && message !== null && 'ready' in message) ready();
    });
    child.on('error', (error) => failed(error));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const expected = this.#state === 'stopping';
        const wasStarting = this.#state === 'starting';
        this.#state = 'down';
        if (this.#child === child) this.#child = undefined;
        this.lastExit = { id: this.id, pid: child.pid, code, signal, expected, log: this.log };
        if (this.#init.ports !== undefined && this.#init.ports.length > 0) this.#hold = PortHold.take(this.#init.ports);
        if (wasStarting) failed(new Error(`${this.id} exited while starting (${signal ?? `code ${code}`}): ${logTail(this.log, 3)}`));
        this.#init.onExit(this.lastExit);
        resolve();
      });
    });
    const patience = this.#init.startPatienceMs ?? START_PATIENCE_MS;
    const timer = setTimeout(() => failed(new Error(`${this.id} did not start within ${patience} ms (log: ${this.log})`)), patience);
    try {
      await started;
      if (this.#state === 'starting') this.#state = 'up';
    } catch (error) {
      if (this.#state === 'starting') this.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** SIGKILL, as a crash; resolves once the process is gone. */
  async crash(): Promise<void> {
    if (this.#child === undefined) return;
    this.#state = 'stopping';
    this.#signal('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (the node stops gracefully), SIGKILL after {@link STOP_PATIENCE_MS}; resolves once it is gone. */
  async stop(onSlow?: () => void): Promise<void> {
    if (this.#child === undefined) return;
    this.#state = 'stopping';
    this.#signal('SIGTERM');
    const deadline = setTimeout(() => {
      onSlow?.();
      this.#signal('SIGKILL');
    }, STOP_PATIENCE_MS);
    await this.#exited;
    clearTimeout(deadline);
  }

  /** Lets go of the ports held while it is down (when the supervisor ends). */
  async releasePorts(): Promise<void> {
    const hold = this.#hold;
    this.#hold = undefined;
    await (await hold)?.release();
  }

  /** SIGKILL now, without waiting: what a `finally` does whatever happened. */
  kill(): void {
    this.#state = this.#child === undefined ? this.#state : 'stopping';
    this.#signal('SIGKILL');
  }
}
