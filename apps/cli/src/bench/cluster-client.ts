/**
 * The client process of the `cluster` suite: the built CLI started again (`greenraft bench` with
 * an IPC channel and `GREENRAFT_BENCH_CLIENT=1`), so the clients' work never shares an event loop
 * with the nodes or the suite. It runs each closed-loop load the suite sends it through
 * `@greenraft/client` and posts back what it measured.
 */
import { fork } from 'node:child_process';
import { createClient, type GreenraftClient } from '@greenraft/client';
import { cliEntry } from '../node-process.js';
import { closedLoop } from './stats.js';
import { KEYS, WRITE_BYTES } from './workload.js';

/** The environment variable that makes `greenraft bench` a client process. */
const ROLE_VARIABLE = 'GREENRAFT_BENCH_CLIENT';

/** A load the suite asks the client process to run. */
export interface ClientLoad {
  readonly endpoints: readonly string[];
  /** `put`: 128-byte writes; `linearizable` / `lease`: reads at that consistency. */
  readonly operation: 'put' | 'linearizable' | 'lease';
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmUpSeconds: number;
}

/** What the client process measured. */
export interface ClientLoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Client connections the load used. */
  readonly connections: number;
}

type Request = { readonly kind: 'run'; readonly load: ClientLoad } | { readonly kind: 'exit' };
type Reply = { readonly kind: 'ready' } | { readonly kind: 'result'; readonly result: ClientLoadResult } | { readonly kind: 'error'; readonly message: string };

/** True in a process started by {@link startClientProcess}. */
export function isBenchClientProcess(): boolean {
  return process.env[ROLE_VARIABLE] === '1' && typeof process.send === 'function';
}

/** 64 clients per connection at most, as etcd's benchmark spreads its clients over connections. */
const CLIENTS_PER_CONNECTION = 64;

/** The value every write puts: 128 bytes of text. */
const VALUE = 'x'.repeat(WRITE_BYTES);

async function runLoad(load: ClientLoad): Promise<ClientLoadResult> {
  const connections = Math.max(1, Math.ceil(load.concurrency / CLIENTS_PER_CONNECTION));
  const clients: GreenraftClient[] = Array.from({ length: connections }, () =>
    createClient({ endpoints: load.endpoints, maxInFlight: CLIENTS_PER_CONNECTION, timeoutMs: 30_000 }),
  );
  let next = 0;
  try {
    const loop = await closedLoop({
      concurrency: load.concurrency,
      seconds: load.seconds,
      warmUpSeconds: load.warmUpSeconds,
      operation: (clientIndex) => {
        const client = clients[Math.floor(clientIndex / CLIENTS_PER_CONNECTION)]!;
        const key = `k${next++ % KEYS}`;
        return load.operation === 'put' ? client.put(key, VALUE) : client.get(key, { consistency: load.operation });
      },
    });
    const firstError = loop.firstError === undefined ? undefined : loop.firstError instanceof Error ? `${loop.firstError.name}: ${loop.firstError.message}` : String(loop.firstError);
    return {
      ops: loop.ops,
      errors: loop.errors,
      firstError,
      opsPerSec: loop.opsPerSec,
      p50Ms: loop.latencies.quantile(0.5),
      p99Ms: loop.latencies.quantile(0.99),
      p999Ms: loop.latencies.quantile(0.999),
      connections,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** The body of the client process: run each load the parent sends, until it says exit (or goes away). */
export async function serveBenchClient(): Promise<number> {
  const send = (reply: Reply) => process.send!(reply);
  await new Promise<void>((resolve) => {
    process.on('disconnect', resolve);
    process.on('message', (request: Request) => {
      if (request.kind === 'exit') {
        resolve();
        return;
      }
      runLoad(request.load).then(
        (result) => send({ kind: 'result', result }),
        (error: unknown) => send({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
      );
    });
    send({ kind: 'ready' });
  });
  process.disconnect?.();
  return 0;
}

/** The client process, from the suite's side. */
export interface ClientProcess {
  readonly pid: number | undefined;
  run(load: ClientLoad): Promise<ClientLoadResult>;
  stop(): Promise<void>;
}

/** Starts the client process and waits until it is ready. */
export async function startClientProcess(): Promise<ClientProcess> {
  const child = fork(cliEntry(), ['bench'], { env: { ...process.env, [ROLE_VARIABLE]: '1' }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void gone.then(() => (exited = true));
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        child.off('exit', onExit);
        resolve(reply);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        child.off('message', onMessage);
        reject(new Error(`the bench client process exited (${signal ?? code})`));
      };
      child.once('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error('the bench client process did not start');
  return {
    pid: child.pid,
    async run(load) {
      const reply = next();
      child.send({ kind: 'run', load } satisfies Request);
      const answer = await reply;
      if (answer.kind === 'error') throw new Error(`bench client: ${answer.message}`);
      if (answer.kind !== 'result') throw new Error('the bench client process answered out of turn');
      return answer.result;
    },
    async stop() {
      if (exited) return;
      if (child.connected) child.send({ kind: 'exit' } satisfies Request);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
