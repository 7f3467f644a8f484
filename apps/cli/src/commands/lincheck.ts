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
} from '@greenraft/simulation';

const USAGE = `usage: greenraft lincheck --format jepsen-etcd|kv FILE [--json] [--timeout MS]

Checks a recorded history for linearizability and prints 'linearizable' or
'not linearizable' with where it first fails.

  --format jepsen-etcd   a Jepsen log of one compare-and-set register (etcd test)
  --format kv            EDN lines of a key-value store (get, put, append, cas)
  --json                 print one JSON object: {"linearizable":bool,"ops":n,"ms":t,...}
  --timeout MS           give up after MS milliseconds (verdict 'unknown', exit 3)

Exit status: 0 linearizable, 1 not linearizable, 2 bad arguments or input, 3 timed out.`;

const FORMATS = ['jepsen-etcd', 'kv'] as const;
type HistoryFormat = (typeof FORMATS)[number];

interface LincheckArguments {
  format: HistoryFormat;
  file: string;
  json: boolean;
  timeoutMs: number | undefined;
}

/** Thrown for bad command-line arguments; reported with the usage. */
class UsageError extends Error {}

function parseArguments(argv: string[]): LincheckArguments | 'help' {
  let format: string | undefined;
  let file: string | undefined;
  let json = false;
  let timeoutMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') return 'help';
    else if (flag === '--json') json = true;
    else if (flag === '--format') format = value();
    else if (flag === '--timeout') {
      const text = value();
      timeoutMs = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(timeoutMs)) throw new UsageError(`--timeout takes a whole number of milliseconds, not '${text}'`);
    } else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option '${flag}'`);
    else if (file !== undefined) throw new UsageError(`only one FILE may be given (got '${file}' and '${arg}')`);
    else file = arg;
  }
  if (format === undefined) throw new UsageError('--format is required');
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown format '${format}'; expected ${FORMATS.join(' or ')}`);
  if (file === undefined) throw new UsageError('a FILE to check is required');
  return { format: format as HistoryFormat, file, json, timeoutMs };
}

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
 * @param argv - the arguments after `lincheck`.
 * @returns the exit code: 0 linearizable, 1 not, 2 bad arguments or input, 3 timed out.
 *
 * @example
 * ```sh
 * greenraft lincheck --format jepsen-etcd etcd_000.log
 * # not linearizable: smallest failing prefix: 82 events; ending with read() -> 2 by process 11 (line 86)
 * ```
 */
export async function run(argv: string[]): Promise<number> {
  let args: LincheckArguments;
  try {
    const parsed = parseArguments(argv);
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    args = parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`greenraft lincheck: ${err.message}\n\n${USAGE}`);
    return 2;
  }

  let text: string;
  try {
    text = await readFile(args.file, 'utf8');
  } catch (err) {
    console.error(`greenraft lincheck: cannot read ${args.file}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }

  let result: CheckResult<unknown, unknown>;
  try {
    result = check(args.format, text, args.timeoutMs);
  } catch (err) {
    if (!(err instanceof HistoryParseError)) throw err;
    console.error(`greenraft lincheck: ${args.file}:${err.line}: ${err.message.replace(/^line \d+: /, '')} (is it a ${args.format} history?)`);
    return 2;
  }

  console.log(args.json ? JSON.stringify(report(result)) : summary(args.format, result));
  return result.result === 'ok' ? 0 : result.result === 'illegal' ? 1 : 3;
}
