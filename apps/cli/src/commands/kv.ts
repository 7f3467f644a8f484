/**
 * `greenraft kv get|put|cas|del`: the key-value store of a running cluster, through
 * `@greenraft/client`. This file also holds what every command that talks to a cluster shares
 * (`kv`, `market submit|balances|ledger|query`, `admin`): the `--endpoints`, `--token-file`,
 * `--timeout` and `--json` options, and one way to open a client and report what went wrong.
 *
 * Exit status of every such command: 0 done, 1 a definite "no" (a missing key, a cas that did not
 * swap, a delete of an absent key, a market transaction the market refused: nothing changed),
 * 2 anything else (bad arguments, no node reachable, a write whose outcome is unknown).
 */
import { readFileSync } from 'node:fs';
import { type ClientInit, createClient, type GreenraftClient, idempotencyKeyOf, isOutcomeUnknown } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { booleanOption, choiceOption, commandSpec, defineCommand, integerOption, type OptionSpec, type ParsedCommandLine, required, textOption } from '../args.js';
import { print, printError } from '../io.js';

/** Exit code of a definite "no": nothing changed, and asking again gives the same answer. */
export const EXIT_NO = 1;

/** The options of every command that talks to a cluster. */
export const clusterOptions = {
  endpoints: {
    value: 'URL[,URL…]',
    help: 'client URLs of one or more nodes (http://host:port, as greenraft cluster prints them)',
    defaultText: '$GREENRAFT_ENDPOINTS',
    parse: (text: string | undefined, flag: string): string[] => {
      const given = text ?? process.env.GREENRAFT_ENDPOINTS;
      if (given === undefined || given.trim() === '') throw new InvalidArgumentError(`${flag} is required (or set GREENRAFT_ENDPOINTS)`);
      return given
        .split(',')
        .map((url) => url.trim())
        .filter((url) => url !== '');
    },
  } satisfies OptionSpec<string[]>,
  tokenFile: textOption({ value: 'FILE', help: 'read the bearer token from FILE (or set GREENRAFT_TOKEN); never put it on the command line' }),
  timeout: integerOption({ value: 'MS', help: 'give up after MS milliseconds, retries included', min: 1, max: 3_600_000, default: 10_000 }),
  json: booleanOption({ help: 'print one JSON object' }),
} as const;

/** The options of every command that writes: the identity and key that make a retry across runs safe. */
export const writeOptions = {
  clientId: textOption({ value: 'ID', help: 'client id that scopes idempotency keys (default: random per run)' }),
  idempotencyKey: textOption({ value: 'KEY', help: 'idempotency key of the write: run again with the same --client-id and KEY to retry it safely' }),
} as const;

type ClusterValues = ParsedCommandLine<typeof clusterOptions>['options'];

/** The client a command line asks for. Throws `InvalidArgumentError` for a bad endpoint or an unreadable token file. */
export function clientFor(options: ClusterValues & { clientId?: string | undefined }): GreenraftClient {
  let token = process.env.GREENRAFT_TOKEN;
  if (options.tokenFile !== undefined) {
    try {
      token = readFileSync(options.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new InvalidArgumentError(`--token-file: cannot read ${options.tokenFile}: ${(error as Error).message}`);
    }
  }
  const init: ClientInit = { endpoints: options.endpoints, timeoutMs: options.timeout };
  if (token !== undefined && token !== '') init.token = token;
  if (options.clientId !== undefined) init.clientId = options.clientId;
  try {
    return createClient(init);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new InvalidArgumentError(`--endpoints: ${error.message.replace(/^endpoints: /, '')}`);
    throw error;
  }
}

/**
 * Runs `body` with a client and closes it. A write whose outcome is unknown gets the flags that
 * retry it safely added to its message; every error still reaches the CLI's one error printer
 * (one line, exit 2).
 */
export async function withClient(options: ClusterValues & { clientId?: string | undefined }, body: (client: GreenraftClient) => Promise<number>): Promise<number> {
  const client = clientFor(options);
  try {
    return await body(client);
  } catch (error) {
    if (isOutcomeUnknown(error) && error instanceof Error) {
      error.message += ` (to retry it safely: --client-id ${client.clientId} --idempotency-key ${idempotencyKeyOf(error)})`;
    }
    throw error;
  } finally {
    await client.close();
  }
}

/** What `--idempotency-key` gives, for the client call. */
export function keyOption(options: { idempotencyKey?: string | undefined }): { idempotencyKey?: string } {
  return options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey };
}

/** The end of every such command's exit status: what 2 means. */
export const EXIT_2 = '2 bad arguments, no node reachable, or a write whose outcome is unknown (the message says how to retry it).';

/** The table of `greenraft kv get`. */
export const kvGetSpec = commandSpec({
  name: 'kv get',
  summary: 'read a key from a running cluster',
  description: 'Reads KEY and prints its value (--json: {"key","value","index"}). A missing key prints nothing and exits 1.',
  options: {
    ...clusterOptions,
    consistency: choiceOption({
      help: 'linearizable: a ReadIndex round through the leader; lease: the leader lease; stale: the node’s own state',
      values: ['linearizable', 'lease', 'stale'],
      default: 'linearizable',
    }),
  },
  positionals: [{ name: 'KEY', help: 'the key' }],
  examples: ['greenraft kv get meter-7 --endpoints http://127.0.0.1:7001', 'greenraft kv get meter-7 --consistency stale --json'],
  exitStatus: `0 found, 1 the key is absent (nothing changed), ${EXIT_2}`,
});

/** `greenraft kv get`. */
export const kvGetCommand = defineCommand(kvGetSpec, ({ options, positionals }) =>
  withClient(options, async (client) => {
    const key = positionals[0]!;
    const { value, index } = await client.get(key, { consistency: options.consistency });
    if (options.json) print(JSON.stringify({ key, value, index: index ?? null }));
    else if (value !== null) print(value);
    else printError(`greenraft kv get: ${key}: no such key`);
    return value === null ? EXIT_NO : 0;
  }),
);

/** The table of `greenraft kv put`. */
export const kvPutSpec = commandSpec({
  name: 'kv put',
  summary: 'write a key in a running cluster',
  description: 'Writes VALUE under KEY through the log and prints the log index (--json: {"key","index"}).',
  options: { ...clusterOptions, ...writeOptions },
  positionals: [
    { name: 'KEY', help: 'the key' },
    { name: 'VALUE', help: 'the value (a UTF-8 string)' },
  ],
  examples: ['greenraft kv put meter-7 12.5 --endpoints http://127.0.0.1:7001,http://127.0.0.1:7002'],
  exitStatus: `0 written, ${EXIT_2}`,
});

/** `greenraft kv put`. */
export const kvPutCommand = defineCommand(kvPutSpec, ({ options, positionals }) =>
  withClient(options, async (client) => {
    const [key, value] = positionals as [string, string];
    const { index } = await client.put(key, value, keyOption(options));
    print(options.json ? JSON.stringify({ key, index }) : `put ${key} at index ${index}`);
    return 0;
  }),
);

/** The table of `greenraft kv cas`. */
export const kvCasSpec = commandSpec({
  name: 'kv cas',
  summary: 'compare-and-swap a key in a running cluster',
  description: [
    'Writes --to under KEY if its value is --from (or, with --absent, if KEY is absent), through the',
    'log, and prints whether it swapped (--json: {"key","swapped","index"}). Not swapped exits 1.',
  ].join('\n'),
  options: {
    ...clusterOptions,
    ...writeOptions,
    from: textOption({ value: 'VALUE', help: 'the value KEY must have (or give --absent)' }),
    absent: booleanOption({ help: 'swap only if KEY is absent' }),
    to: required(textOption({ value: 'VALUE', help: 'the new value' })),
  },
  positionals: [{ name: 'KEY', help: 'the key' }],
  examples: ['greenraft kv cas meter-7 --from 12.5 --to 13.0', 'greenraft kv cas lock-settlement --absent --to n1 --json'],
  exitStatus: `0 swapped, 1 not swapped: the value was not --from, or not absent (nothing changed), ${EXIT_2}`,
});

/** `greenraft kv cas`. */
export const kvCasCommand = defineCommand(kvCasSpec, ({ options, positionals }) => {
  if ((options.from === undefined) === !options.absent) throw new InvalidArgumentError('give exactly one of --from VALUE and --absent');
  const to = options.to;
  return withClient(options, async (client) => {
    const key = positionals[0]!;
    const { swapped, index } = await client.cas(key, options.from ?? null, to, keyOption(options));
    if (options.json) print(JSON.stringify({ key, swapped, index }));
    else if (swapped) print(`swapped ${key} at index ${index}`);
    else printError(`greenraft kv cas: not swapped: ${key} ${options.absent ? 'is present' : `is not ${JSON.stringify(options.from)}`}`);
    return swapped ? 0 : EXIT_NO;
  });
});

/** The table of `greenraft kv del`. */
export const kvDelSpec = commandSpec({
  name: 'kv del',
  summary: 'delete a key in a running cluster',
  description: 'Deletes KEY through the log (--json: {"key","deleted","index"}). A key that was absent exits 1.',
  options: { ...clusterOptions, ...writeOptions },
  positionals: [{ name: 'KEY', help: 'the key' }],
  examples: ['greenraft kv del meter-7'],
  exitStatus: `0 deleted, 1 the key was absent (nothing changed), ${EXIT_2}`,
});

/** `greenraft kv del`. */
export const kvDelCommand = defineCommand(kvDelSpec, ({ options, positionals }) =>
  withClient(options, async (client) => {
    const key = positionals[0]!;
    const { deleted, index } = await client.delete(key, keyOption(options));
    if (options.json) print(JSON.stringify({ key, deleted, index }));
    else if (deleted) print(`deleted ${key} at index ${index}`);
    else printError(`greenraft kv del: ${key}: no such key`);
    return deleted ? 0 : EXIT_NO;
  }),
);

/** Every `greenraft kv` command. */
export const kvCommands = [kvGetCommand, kvPutCommand, kvCasCommand, kvDelCommand];
