import { GreenraftError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { HistoryParseError } from './errors.js';
import { parseJepsenEtcdLog } from './jepsen.js';

const log = (...lines: string[]) => lines.map((line) => `INFO  jepsen.util - ${line.replaceAll(' ', '\t')}`).join('\n');

function parseError(text: string): HistoryParseError {
  try {
    parseJepsenEtcdLog(text);
  } catch (err) {
    if (err instanceof HistoryParseError) return err;
    throw err;
  }
  throw new Error('expected a HistoryParseError');
}

describe('parseJepsenEtcdLog', () => {
  it('reads invocations and completions into operations timed by line number', () => {
    const history = parseJepsenEtcdLog(
      log('0 :invoke :write 3', '1 :invoke :read nil', '0 :ok :write 3', '1 :ok :read 3', '2 :invoke :cas [3 4]', '2 :ok :cas [3 4]'),
    );
    expect(history).toEqual([
      { clientId: 0, input: { kind: 'write', value: 3 }, call: 1, output: { kind: 'write' }, return: 3 },
      { clientId: 1, input: { kind: 'read' }, call: 2, output: { kind: 'read', value: 3 }, return: 4 },
      { clientId: 2, input: { kind: 'cas', expected: 3, value: 4 }, call: 5, output: { kind: 'cas', swapped: true }, return: 6 },
    ]);
  });

  it('reads a failed cas as a definite failed compare and drops failed reads', () => {
    const history = parseJepsenEtcdLog(log('0 :invoke :cas [1 2]', '1 :invoke :read nil', '0 :fail :cas [1 2]', '1 :fail :read :timed-out'));
    expect(history).toEqual([
      { clientId: 0, input: { kind: 'cas', expected: 1, value: 2 }, call: 1, output: { kind: 'cas', swapped: false }, return: 3 },
    ]);
  });

  it('leaves :info and unfinished invocations indefinite', () => {
    const history = parseJepsenEtcdLog(log('0 :invoke :write 1', '0 :info :write :timed-out', '1 :invoke :cas [nil 2]', '0 :invoke :read nil'));
    expect(history.map((op) => [op.input.kind, op.call, op.output, op.return])).toEqual([
      ['write', 1, undefined, undefined],
      ['cas', 3, undefined, undefined],
      ['read', 4, undefined, undefined],
    ]);
  });

  it('accepts spaces for tabs and ignores lines that are not client operations', () => {
    const text = [
      'INFO  jepsen.core - Running test',
      'INFO  jepsen.util - :nemesis :info :start nil',
      'INFO  jepsen.util - 4   :invoke :write  2',
      'INFO  jepsen.util - 4   :ok     :write  2',
      '',
    ].join('\n');
    expect(parseJepsenEtcdLog(text)).toEqual([{ clientId: 4, input: { kind: 'write', value: 2 }, call: 3, output: { kind: 'write' }, return: 4 }]);
  });

  it('reports malformed lines with their line number', () => {
    const cases: [string, number, RegExp][] = [
      [log('0 :invoke :write 1', '0 :ok :cas [1'), 2, /cannot read the value/],
      [log('0 :invoke :frobnicate 1'), 1, /unknown operation :frobnicate/],
      [log('0 :invoke :write 1', '0 :done :write 1'), 2, /unknown event type :done/],
      [log('0 :invoke :read nil', '1 :ok :read 3'), 2, /process 1 completes an operation it never invoked/],
      [log('0 :invoke :read nil', '0 :invoke :read nil'), 2, /invokes again before its operation of line 1/],
      [log('0 :invoke :write 1', '0 :ok :read 1'), 2, /invoked :write on line 1 but completes :read/],
      [log('0 :invoke :write 1', '0 :ok :write 2'), 2, /does not match the invocation of line 1/],
      [log('0 :invoke :cas 5'), 1, /a cas takes \[expected new\]/],
      [log('0 :invoke :write [1 2]'), 1, /a register holds nil, an integer or a string/],
      [log('0 :invoke :write'), 1, /no value/],
      ['nothing to see here\n', 1, /no operation found/],
    ];
    for (const [text, line, message] of cases) {
      const err = parseError(text);
      expect(err).toBeInstanceOf(GreenraftError);
      expect(err.code).toBe('INVALID_HISTORY');
      expect(err.line).toBe(line);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith(`line ${line}: `)).toBe(true);
    }
  });
});
