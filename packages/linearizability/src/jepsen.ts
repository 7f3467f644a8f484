import { EdnSyntaxError, type EdnValue, readEdn, showEdn } from './edn.js';
import { HistoryParseError } from './errors.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from './register.js';
import { InvocationPairing } from './pairing.js';
import type { Operation } from './types.js';

/** `INFO  jepsen.util - 3\t:ok\t:cas\t[1 4]`: process, type, function, value (tabs or spaces). */
const OPERATION_LINE = /jepsen\.util - (\d+)\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/;

/**
 * Reads a Jepsen log of a single compare-and-set register (the etcd test) into operations for
 * {@link casRegisterModel}. Operation times are line numbers.
 *
 * - `:invoke` opens an operation; `:ok` completes it.
 * - `:fail :cas` completes a cas whose compare failed (`swapped: false`), a definite outcome.
 * - `:fail :read` (a timed-out read) and `:fail :write` did not take effect: they are dropped.
 * - `:info` leaves the operation open: it is indefinite, as is every invocation never completed.
 * - Lines other than client operations (nemesis, other loggers) are ignored.
 *
 * @param text - the log's contents.
 * @returns the operations in invocation order.
 * @throws {@link HistoryParseError} with the line number when an operation line is malformed,
 * a completion has no matching invocation, a busy client invokes again, or no operation is found.
 *
 * @example
 * ```ts
 * import { checkOperations, casRegisterModel, parseJepsenEtcdLog } from '@greenraft/linearizability';
 *
 * const history = parseJepsenEtcdLog([
 *   'INFO  jepsen.util - 0\t:invoke\t:write\t3',
 *   'INFO  jepsen.util - 1\t:invoke\t:read\tnil',
 *   'INFO  jepsen.util - 1\t:ok\t:read\t3',
 *   'INFO  jepsen.util - 0\t:info\t:write\t:timed-out',
 * ].join('\n'));
 * console.log(checkOperations(casRegisterModel(), history).result); // 'ok'
 * ```
 */
export function parseJepsenEtcdLog(text: string): Operation<RegisterInput, RegisterOutput>[] {
  if (typeof text !== 'string') throw new HistoryParseError(1, 'the log must be text');
  const pairing = new InvocationPairing<RegisterInput, RegisterOutput>();
  let operationLines = 0;

  const lines = text.split(/\r?\n/);
  lines.forEach((content, i) => {
    const line = i + 1;
    const match = OPERATION_LINE.exec(content);
    if (!match) return;
    operationLines++;
    const process = Number(match[1]);
    const type = match[2]!;
    const f = match[3]!;
    const value = readValue(match[4] ?? '', line);
    if (f !== ':read' && f !== ':write' && f !== ':cas') throw new HistoryParseError(line, `unknown operation ${f}; expected :read, :write or :cas`);

    if (type === ':invoke') {
      pairing.invoke(process, line, registerInput(f, value, line));
      return;
    }
    if (type !== ':ok' && type !== ':fail' && type !== ':info') {
      throw new HistoryParseError(line, `unknown event type ${type}; expected :invoke, :ok, :fail or :info`);
    }
    const completed = pairing.complete(process, line);
    const { op, invokedOn } = completed;
    if (op.input.kind !== f.slice(1)) {
      throw new HistoryParseError(line, `process ${process} invoked :${op.input.kind} on line ${invokedOn} but completes ${f}`);
    }
    // The outcome is unknown: the operation stays indefinite, and the process may go on.
    if (type === ':info') return;
    if (type === ':fail') {
      pairing.fail(completed, line);
      return;
    }
    op.return = line;
    if (op.input.kind === 'read') {
      op.output = { kind: 'read', value: registerValue(value, line) };
      return;
    }
    if (JSON.stringify(registerInput(f, value, line)) !== JSON.stringify(op.input)) {
      throw new HistoryParseError(line, `the completion ${showEdn(value)} does not match the invocation of line ${invokedOn}`);
    }
    op.output = op.input.kind === 'write' ? { kind: 'write' } : { kind: 'cas', swapped: true };
  });

  if (operationLines === 0) {
    throw new HistoryParseError(1, "no operation found; expected lines such as 'INFO  jepsen.util - 0\t:invoke\t:read\tnil'");
  }
  return pairing.result();
}

function readValue(text: string, line: number): EdnValue {
  if (text === '') throw new HistoryParseError(line, 'the operation has no value');
  try {
    return readEdn(text);
  } catch (err) {
    if (err instanceof EdnSyntaxError) throw new HistoryParseError(line, `cannot read the value '${text}': ${err.message}`, { cause: err });
    throw err;
  }
}

function registerValue(value: EdnValue, line: number): RegisterValue {
  if (value === null || typeof value === 'number' || typeof value === 'string') return value;
  throw new HistoryParseError(line, `a register holds nil, an integer or a string, not ${showEdn(value)}`);
}

function registerInput(f: string, value: EdnValue, line: number): RegisterInput {
  if (f === ':read') return { kind: 'read' };
  if (f === ':write') return { kind: 'write', value: registerValue(value, line) };
  if (!Array.isArray(value) || value.length !== 2) {
    throw new HistoryParseError(line, `a cas takes [expected new], not ${showEdn(value)}`);
  }
  return { kind: 'cas', expected: registerValue(value[0]!, line), value: registerValue(value[1]!, line) };
}
