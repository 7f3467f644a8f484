/**
 * One `greenraft node --config FILE` child process, as the chaos runner and the cluster
 * supervisor run it: in a process group of its own (a signal reaches the node and whatever it
 * started, nothing else; Ctrl-C in a terminal reaches only the parent), with an IPC channel (the
 * node stops by itself if its parent dies, and says over it where it listens once it runs), its
 * output appended to its log file. Start, crash (SIGKILL), graceful stop (SIGTERM, SIGKILL after a
 * patience), pause and resume (SIGSTOP, SIGCONT); every exit is reported, expected or not, and a
 * node is never restarted behind anyone's back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GreenraftError } from '@greenraft/consensus';

/** How long a node may take to start (open its log, bind its ports, answer ready) on a loaded machine. */
export const START_PATIENCE_MS = 30_000;
/** How long a node may take to stop after SIGTERM before it is killed. */
export const STOP_PATIENCE_MS = 15_000;

/** The CLI's entry point, which each node process runs (`dist/bin.js`; from the source tree in tests). */
export function cliEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../dist/bin.js' : './bin.js', here));
}

/** Where a node process is. */
export type NodeState = 'down' | 'starting' | 'up' | 'paused' | 'stopping';

/** A host and port a node listens on. */
export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Where a node listens, as it said when it became ready. */
export interface NodeEndpoints {
  readonly peer: NodeEndpoint;
  readonly client: NodeEndpoint;
}

/** How a node process ended. */
export interface NodeExit {
  readonly id: string;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when it was told to go (stop, crash, kill, a failed start); false when it died by itself. */
  readonly expected: boolean;
  readonly log: string;
}

/** A node process did not start: it exited, it took too long, or it said it was ready without its addresses. */
export class NodeStartError extends GreenraftError<'NODE_START'> {
  /** The node's log file. */
  readonly log: string;

  constructor(message: string, log: string, options: { cause?: unknown } = {}) {
    super('NODE_START', message, options);
    this.name = 'NodeStartError';
    this.log = log;
  }
}

/** The node could not load the CLI's own code (a build replacing dist/ meanwhile): not the node's failure. */
class MissingCodeError extends NodeStartError {}

/** What Node prints when a module of the CLI is not there. */
const MISSING_CODE = /ERR_MODULE_NOT_FOUND|Cannot find module/;

/** Options of {@link NodeProcess}. */
export interface NodeProcessInit {
  readonly id: string;
  /** The configuration file it runs with. */
  readonly config: string;
  /** Its log file (appended to across restarts). */
  readonly log: string;
  /** Node.js options before the entry point, e.g. `['--import', preloadUrl]`. @default [] */
  readonly nodeArgs?: readonly string[];
  /** Changes to the parent's environment at each start: a string sets the variable, `undefined` removes it. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The script it runs. @default the built CLI, {@link cliEntry} */
  readonly entry?: string;
  /** @default {@link START_PATIENCE_MS} */
  readonly startPatienceMs?: number;
  /** @default {@link STOP_PATIENCE_MS} */
  readonly stopPatienceMs?: number;
  /** Ports held while it is down, so that no other process takes them before it binds them again. @default none */
  readonly holdPorts?: readonly NodeEndpoint[];
  /**
   * Tries a start again when the node could not load the CLI's files (a build replacing dist/ on a
   * shared machine); such a start is not reported as an exit. @default no retry
   */
  readonly retryMissingCode?: { readonly attempts: number; readonly waitMs: number };
  /** Where the node listens, once it says it is ready (before `start` resolves). */
  readonly onReady?: (endpoints: NodeEndpoints) => void;
  /** Every exit, expected or not. */
  readonly onExit?: (exit: NodeExit) => void;
}

/** `ws://host:port` or `http://host:port` as an endpoint. */
function endpointOf(url: unknown): NodeEndpoint | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    const port = Number(parsed.port);
    return Number.isInteger(port) && port > 0 ? { host: parsed.hostname, port } : undefined;
  } catch {
    return undefined;
  }
}

/** What a log got since byte `from`: what one start of the node printed. */
function logSince(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}

/** Output on one line, at most 2000 characters (its end, where the error is). */
function oneLine(output: string): string {
  return output.trim().split('\n').filter((line) => line.trim() !== '').join(' | ').slice(-2000);
}

/**
 * Listeners that keep a stopped node's ports from being taken by another process until the node
 * starts again; every connection they accept is closed at once, as a refused one would be.
 */
class PortHold {
  readonly #servers: Server[] = [];

  static async take(ports: readonly NodeEndpoint[]): Promise<PortHold> {
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

/**
 * One node process.
 *
 * @example
 * ```ts
 * const node = new NodeProcess({ id: 'n1', config: 'n1.json', log: 'n1.log', onExit: (exit) => console.log(exit) });
 * await node.start();
 * await node.stop();
 * ```
 */
export class NodeProcess {
  readonly id: string;
  readonly config: string;
  readonly log: string;
  #child: ChildProcess | undefined;
  #state: NodeState = 'down';
  #exited: Promise<void> = Promise.resolve();
  #hold: Promise<PortHold> | undefined;
  readonly #init: NodeProcessInit;
  /** The last exit, once there was one. */
  lastExit: NodeExit | undefined;
  /** Times it was started (each try of a start counts). */
  starts = 0;
  /** Starts tried again because the CLI's files were missing. */
  missingCodeRetries = 0;

  constructor(init: NodeProcessInit) {
    this.#init = init;
    this.id = init.id;
    this.config = init.config;
    this.log = init.log;
  }

  get state(): NodeState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Starts the process; resolves once the node runs (it says so over IPC, with its addresses),
   * rejects with a {@link NodeStartError} if it exits or takes too long, after killing it: nothing
   * is left half-started.
   */
  async start(): Promise<void> {
    const retry = this.#init.retryMissingCode;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#startOnce(retry !== undefined);
        return;
      } catch (error) {
        if (retry === undefined || !(error instanceof MissingCodeError) || attempt >= retry.attempts) throw error;
        this.missingCodeRetries++;
        await new Promise((resolve) => setTimeout(resolve, retry.waitMs));
      }
    }
  }

  async #startOnce(detectMissingCode: boolean): Promise<void> {
    if (this.#state !== 'down') throw new Error(`${this.id} is ${this.#state}, not down`);
    this.#state = 'starting';
    this.starts++;
    await this.releasePorts();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(this.#init.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const fd = openSync(this.log, 'a');
    const logFrom = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...(this.#init.nodeArgs ?? []), this.#init.entry ?? cliEntry(), 'node', '--config', this.config], {
        detached: true,
        stdio: ['ignore', fd, fd, 'ipc'],
        env,
      });
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
      if (typeof message !== 'object' || message === null || !('ready' in message)) return;
      const addresses = (message as { ready?: { peerUrl?: unknown; clientUrl?: unknown } }).ready;
      const peer = endpointOf(addresses?.peerUrl);
      const client = endpointOf(addresses?.clientUrl);
      if (peer === undefined || client === undefined) {
        failed(new NodeStartError(`${this.id} said it was ready without its addresses: ${JSON.stringify(message)}`, this.log));
        return;
      }
      this.#init.onReady?.({ peer, client });
      ready();
    });
    let gone = false;
    this.#exited = new Promise((resolve) => {
      const onGone = (code: number | null, signal: NodeJS.Signals | null) => {
        if (gone) return;
        gone = true;
        const expected = this.#state === 'stopping';
        const wasStarting = this.#state === 'starting';
        this.#state = 'down';
        if (this.#child === child) this.#child = undefined;
        const output = wasStarting ? logSince(this.log, logFrom) : '';
        if (this.#init.holdPorts !== undefined && this.#init.holdPorts.length > 0) this.#hold = PortHold.take(this.#init.holdPorts);
        if (detectMissingCode && wasStarting && MISSING_CODE.test(output)) {
          failed(new MissingCodeError(`${this.id} could not load the CLI (${this.log})`, this.log));
        } else {
          this.lastExit = { id: this.id, pid: child.pid, code, signal, expected, log: this.log };
          this.#init.onExit?.(this.lastExit);
          // Settles a start still waiting (a no-op once the node said it was ready), stopped or not.
          failed(new NodeStartError(`${this.id} exited${wasStarting ? ' while starting' : ''} (${signal ?? `code ${code}`}); log: ${this.log}${wasStarting ? `: ${oneLine(output)}` : ''}`, this.log));
        }
        resolve();
      };
      child.once('exit', onGone);
      child.on('error', (error) => {
        failed(new NodeStartError(`${this.id} could not be run: ${error.message}`, this.log, { cause: error }));
        // A process that never ran has no exit to wait for.
        if (child.pid === undefined) onGone(null, null);
      });
    });
    const patience = this.#init.startPatienceMs ?? START_PATIENCE_MS;
    const timer = setTimeout(() => failed(new NodeStartError(`${this.id} did not start within ${patience} ms; log: ${this.log}`, this.log)), patience);
    try {
      await started;
      if (this.#state === 'starting') this.#state = 'up';
    } catch (error) {
      if (this.#state === 'starting') await this.crash();
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

  /** SIGKILL of the group, as a crash; resolves once the process is gone, with whether there was one. */
  async crash(): Promise<boolean> {
    if (this.#child === undefined) return false;
    this.#state = 'stopping';
    this.#signal('SIGKILL');
    await this.#exited;
    return true;
  }

  /** SIGSTOP: the process stops, its sockets stay open (a node that hangs). */
  pause(): void {
    if (this.#state !== 'up') return;
    this.#signal('SIGSTOP');
    this.#state = 'paused';
  }

  /** SIGCONT of a paused process. */
  resume(): void {
    if (this.#state !== 'paused') return;
    this.#signal('SIGCONT');
    this.#state = 'up';
  }

  /** SIGTERM (the node stops gracefully), SIGKILL after the stop patience (`onSlow` first); resolves once it is gone. */
  async stop(onSlow?: () => void): Promise<void> {
    if (this.#child === undefined) return;
    const wasPaused = this.#state === 'paused';
    this.#state = 'stopping';
    // A stopped process would keep SIGTERM pending until the patience ran out.
    if (wasPaused) this.#signal('SIGCONT');
    this.#signal('SIGTERM');
    const deadline = setTimeout(() => {
      onSlow?.();
      this.#signal('SIGKILL');
    }, this.#init.stopPatienceMs ?? STOP_PATIENCE_MS);
    await this.#exited;
    clearTimeout(deadline);
  }

  /** Lets go of the ports held while it is down (when its parent is done with it). */
  async releasePorts(): Promise<void> {
    const hold = this.#hold;
    this.#hold = undefined;
    await (await hold)?.release();
  }

  /** SIGKILL of the whole group now, paused or not, without waiting: what a `finally` does whatever happened. */
  kill(): void {
    if (this.#child !== undefined) this.#state = 'stopping';
    this.#signal('SIGCONT');
    this.#signal('SIGKILL');
  }
}
