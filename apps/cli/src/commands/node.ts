/**
 * `greenraft node --config FILE`: one greenraft node (`@greenraft/server`) as a process. It runs
 * until SIGTERM or SIGINT, then stops gracefully (a leader hands leadership over first, requests
 * in flight finish or fail with UNAVAILABLE, storage is closed); SIGHUP reloads the TLS files.
 * Started by `greenraft cluster start` (with an IPC channel), it also stops when its parent dies.
 */
import { ConfigError, createServer, loadServerConfig } from '@greenraft/server';
import { commandSpec, defineCommand, type ParsedCommandLine, required, textOption } from '../args.js';
import { printError } from '../io.js';

/** The table of `greenraft node`. */
export const nodeSpec = commandSpec({
  name: 'node',
  summary: 'run one cluster node (storage, peers, state machine, client API) from its config file',
  description: [
    'Runs one greenraft node as this process: its write-ahead log in the data directory, the',
    'WebSocket peer endpoint, the replicated state machine (a KV store, or the power market), classic',
    'or weighted Raft, and the client API (WebSocket at /v1/ws and HTTP/JSON), /metrics, /livez and',
    '/readyz. Logs are JSON lines on stdout (pretty on a terminal) with the node id, term and role.',
    '',
    'SIGTERM or SIGINT stops it gracefully: a leader hands leadership over first, requests in flight',
    'finish or fail with UNAVAILABLE, and storage is closed. SIGHUP reloads the TLS certificate files.',
    'The configuration format is in docs/operations.md; greenraft cluster init writes valid ones.',
  ].join('\n'),
  options: {
    config: required(textOption({ value: 'FILE', help: 'the node\u2019s configuration file (JSON)' })),
  },
  examples: ['greenraft node --config ./cluster/n1.json'],
  exitStatus: '0 stopped by a signal, 1 the node failed (could not start, or a fatal storage or state machine error), 2 bad arguments or an invalid configuration.',
});

/** Runs `greenraft node`; resolves with the exit code once the node has stopped. */
export async function runNode({ options }: ParsedCommandLine<typeof nodeSpec.options>): Promise<number> {
  const config = await loadServerConfig(options.config);
  const server = createServer(config);
  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  const stop = (why: string, code: number) => {
    if (stopping !== undefined) return stopping;
    exitCode = code;
    if (why === 'fatal error' || why === 'parent exited') printError(`greenraft node: stopping ${config.id}: ${why}`);
    stopping = server.stop();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => void stop(signal, 0);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const onHangup = () => void server.reloadTls().catch((error: unknown) => printError(`greenraft node: TLS reload failed: ${(error as Error).message}`));
  process.on('SIGHUP', onHangup);
  // Spawned with an IPC channel (greenraft cluster start): the parent going away stops the node too.
  const onDisconnect = () => void stop('parent exited', 0);
  if (process.connected) process.on('disconnect', onDisconnect);
  const stopped = new Promise<void>((resolve) => server.once('stopped', resolve));
  server.on('fatal', () => void stop('fatal error', 1));
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHangup);
    process.off('disconnect', onDisconnect);
    if (error instanceof ConfigError) throw error;
    printError(`greenraft node: could not start ${config.id}: ${(error as Error).message}`);
    return 1;
  }
  if (process.connected) process.send?.({ ready: server.addresses });
  await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHangup);
  process.off('disconnect', onDisconnect);
  if (process.connected) process.disconnect();
  return exitCode;
}

/** `greenraft node`. */
export const nodeCommand = defineCommand(nodeSpec, runNode);
