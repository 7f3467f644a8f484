/** `greenraft lincheck`: checks a recorded history for linearizability. */
import { readFile } from 'node:fs/promises';
import {
  type CheckResult,
  casRegisterModel,
  checkOperations,
  HistoryParseError,
  kvModel,
  type Operation,
  parseJepsenEtcdLog,
  parseKvHistory,
} from '@greenraft/linearizability';
import { booleanOption, choiceOption, commandSpec, defineCommand, optionalIntegerOption, type ParsedCommandLine, required } from '../args.js';
import { print, printError } from '../io.js';

const FORMATS = ['jepsen-etcd', 'kv'] as const;
type HistoryFormat = (typeof FORMATS)[number];

/** The table of `greenraft lincheck`. */
export const lincheckSpec = commandSpec({
  name: 'lincheck',
  summary: 'check a recorded history for linearizability',
  description: [
    "Checks a recorded history for linearizability and prints 'linearizable', or 'not linearizable'",
    'with where it first fails: no order of the operations, each taking effect at one instant between',
    'its call and its return, explains what the clients saw (a stale or lost read, a lost write).',
    '',
    '  --format jepsen-etcd   a Jepsen log of one compare-and-set register (etcd test)',
    '  --format kv            EDN lines of a key-value store (get, put, append, cas)',
  ].join('\n'),
  options: {
    format: required(choiceOption({ help: 'how FILE is written', values: FORMATS }), FORMATS.join(' or ')),
    json: booleanOption({ help: 'print one JSON object: {"linearizable":bool,"ops":n,"ms":t,...}' }),
    timeout: optionalIntegerOption({ value: 'MS', help: "give up after MS milliseconds (verdict 'unknown', exit 3)", min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  positionals: [{ name: 'FILE', help: 'the history to check' }],
  examples: [
    'greenraft lincheck --format jepsen-etcd fixtures/linearizability/jepsen-etcd/etcd_002.log',
    'greenraft lincheck --format kv --json fixtures/linearizability/kv/c01-bad.txt',
  ],
  exitStatus: '0 linearizable, 1 not linearizable, 2 bad arguments or input, 3 timed out.',
});

/** Checks with the model of the format; both parsers time operations by line number. */
function check(format: HistoryFormat, text: string, timeoutMs: number | undefined): CheckResult<unknown, unknown> {
  const options = { timeoutMs };
  if (format === 'kv') return checkOperations(kvModel(), parseKvHistory(text), options) as CheckResult<unknown, unknown>;
  return checkOperations(casRegisterModel(), parseJepsenEtcdLog(text), options) as CheckResult<unknown, unknown>;
}

function summary(format: HistoryFormat, result: CheckResult<unknown, unknown>): string {
  if (result.result === 'ok') return 'linearizable';
  if (result.result === 'unknown') return `unknown: no verdict within the time limit (${Math.round(result.ms)} ms)`;
  const where: string[] = [];
  if (format === 'kv' && result.failingKey !== undefined) where.push(`key ${JSON.stringify(result.failingKey)}`);
  if (result.smallestFailingPrefix !== undefined) where.push(`smallest failing prefix: ${result.smallestFailingPrefix} events`);
  const op = result.failingOperation as Operation<unknown, unknown> | undefined;
  if (op !== undefined) {
    const what = result.failingDescription === undefined ? 'operation' : result.failingDescription;
    where.push(`ending with ${what} by process ${op.clientId} (line ${op.return})`);
  }
  return where.length === 0 ? 'not linearizable' : `not linearizable: ${where.join('; ')}`;
}

function report(result: CheckResult<unknown, unknown>): Record<string, unknown> {
  const op = result.failingOperation as Operation<unknown, unknown> | undefined;
  return {
    linearizable: result.result === 'ok' ? true : result.result === 'illegal' ? false : null,
    ops: result.operations,
    ms: Math.round(result.ms * 10) / 10,
    result: result.result,
    partitions: result.partitions,
    ...(result.failingKey === undefined ? {} : { failingKey: result.failingKey }),
    ...(result.smallestFailingPrefix === undefined ? {} : { smallestFailingPrefix: result.smallestFailingPrefix }),
    ...(op === undefined ? {} : { failingLine: op.return, failingProcess: op.clientId }),
    ...(result.failingDescription === undefined ? {} : { failingOperation: result.failingDescription }),
  };
}

/**
 * Runs `greenraft lincheck`.
 *
 * @param args - the parsed command line.
 * @returns the exit code: 0 linearizable, 1 not, 2 bad arguments or input, 3 timed out.
 *
 * @example
 * ```sh
 * greenraft lincheck --format jepsen-etcd etcd_000.log
 * # not linearizable: smallest failing prefix: 82 events; ending with read() -> 2 by process 11 (line 86)
 * ```
 */
export async function runLincheck({ options, positionals }: ParsedCommandLine<typeof lincheckSpec.options>): Promise<number> {
  const args = { format: options.format, file: positionals[0]!, json: options.json, timeoutMs: options.timeout };

  let text: string;
  try {
    text = await readFile(args.file, 'utf8');
  } catch (err) {
    printError(`greenraft lincheck: cannot read ${args.file}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }

  let result: CheckResult<unknown, unknown>;
  try {
    result = check(args.format, text, args.timeoutMs);
  } catch (err) {
    if (!(err instanceof HistoryParseError)) throw err;
    printError(`greenraft lincheck: ${args.file}:${err.line}: ${err.message.replace(/^line \d+: /, '')} (is it a ${args.format} history?)`);
    return 2;
  }

  print(args.json ? JSON.stringify(report(result)) : summary(args.format, result));
  return result.result === 'ok' ? 0 : result.result === 'illegal' ? 1 : 3;
}

/** `greenraft lincheck`. */
export const lincheckCommand = defineCommand(lincheckSpec, runLincheck);
