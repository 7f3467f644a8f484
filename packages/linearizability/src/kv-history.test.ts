import { describe, expect, it } from 'vitest';
import { checkOperations } from './checker.js';
import { readEdn } from './edn.js';
import { HistoryParseError } from './errors.js';
import { kvModel } from './kv.js';
import { parseKvHistory } from './kv-history.js';

function parseError(text: string): HistoryParseError {
  try {
    parseKvHistory(text);
  } catch (err) {
    if (err instanceof HistoryParseError) return err;
    throw err;
  }
  throw new Error('expected a HistoryParseError');
}

describe('readEdn', () => {
  it('reads the values histories use', () => {
    expect(readEdn('{:a 1, :b "x \\"y\\"\\n", :c nil, :d [1 "2" :k], :e true}')).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', 'x "y"\n'],
        ['c', null],
        ['d', [1, '2', { keyword: 'k' }]],
        ['e', true],
      ]),
    );
    expect(readEdn('"\\u00e9"')).toBe('é');
  });

  it('rejects what it cannot read', () => {
    expect(() => readEdn('{:a 1')).toThrow(/missing '}'/);
    expect(() => readEdn('{:a}')).toThrow(/has no value/);
    expect(() => readEdn('{"a" 1}')).toThrow(/keys must be keywords/);
    expect(() => readEdn('{:a 1 :a 2}')).toThrow(/appears twice/);
    expect(() => readEdn('"open')).toThrow(/unterminated/);
    expect(() => readEdn('1 2')).toThrow(/after the value/);
    expect(() => readEdn('#{}')).toThrow(/cannot read/);
  });
});

describe('parseKvHistory', () => {
  it('reads get, put and append with line numbers as times', () => {
    const history = parseKvHistory(
      [
        '{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}',
        '{:process 3, :type :invoke, :f :get, :key "4", :value nil}',
        '{:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}',
        '',
        '{:process 3, :type :ok, :f :get, :key "4", :value "x 0 1 y"}',
        '{:process 1, :type :invoke, :f :put, :key "5", :value "z"}',
        '{:process 1, :type :ok, :f :put, :key "5", :value "z"}',
      ].join('\n'),
    );
    expect(history).toEqual([
      { clientId: 0, input: { kind: 'append', key: '4', value: 'x 0 1 y' }, call: 1, output: { kind: 'append' }, return: 3 },
      { clientId: 3, input: { kind: 'get', key: '4' }, call: 2, output: { kind: 'get', value: 'x 0 1 y' }, return: 5 },
      { clientId: 1, input: { kind: 'put', key: '5', value: 'z' }, call: 6, output: { kind: 'put' }, return: 7 },
    ]);
  });

  it('reads cas, failures, :info and a nil get', () => {
    const history = parseKvHistory(
      [
        '{:process 0, :type :invoke, :f :cas, :key "k", :value ["" "a"]}',
        '{:process 0, :type :ok, :f :cas, :key "k", :value ["" "a"]}',
        '{:process 1, :type :invoke, :f :cas, :key "k", :value ["b" "c"]}',
        '{:process 1, :type :fail, :f :cas, :key "k", :value ["b" "c"]}',
        '{:process 2, :type :invoke, :f :put, :key "k", :value "lost"}',
        '{:process 2, :type :fail, :f :put, :key "k", :value "lost"}',
        '{:process 3, :type :invoke, :f :append, :key "k", :value "maybe"}',
        '{:process 3, :type :info, :f :append, :key "k", :value "maybe"}',
        '{:process 4, :type :invoke, :f :get, :key 7, :value nil}',
        '{:process 4, :type :ok, :f :get, :key 7, :value nil}',
      ].join('\n'),
    );
    expect(history.map((op) => [op.input, op.output, op.return])).toEqual([
      [{ kind: 'cas', key: 'k', expected: '', value: 'a' }, { kind: 'cas', swapped: true }, 2],
      [{ kind: 'cas', key: 'k', expected: 'b', value: 'c' }, { kind: 'cas', swapped: false }, 4],
      [{ kind: 'append', key: 'k', value: 'maybe' }, undefined, undefined],
      [{ kind: 'get', key: '7' }, { kind: 'get', value: '' }, 10],
    ]);
    expect(checkOperations(kvModel(), history).result).toBe('ok');
  });

  it('reports malformed lines with their line number', () => {
    const invokeGet = '{:process 0, :type :invoke, :f :get, :key "k", :value nil}';
    const cases: [string, number, RegExp][] = [
      [`${invokeGet}\n{:process 0, :type :ok, :f :get`, 2, /not an EDN map: missing '}'/],
      ['[1 2]', 1, /expected a map/],
      ['{:process -1, :type :invoke, :f :get, :key "k", :value nil}', 1, /:process must be a non-negative integer/],
      ['{:process 0, :type :begin, :f :get, :key "k", :value nil}', 1, /:type must be/],
      ['{:process 0, :type :invoke, :f :delete, :key "k", :value nil}', 1, /:f must be/],
      ['{:process 0, :type :invoke, :f :get, :value nil}', 1, /:key must be a string or an integer/],
      ['{:process 0, :type :invoke, :f :put, :key "k", :value 5}', 1, /a put takes a string value/],
      ['{:process 0, :type :invoke, :f :cas, :key "k", :value "a"}', 1, /a cas takes \["expected" "new"\]/],
      [`\n${invokeGet}\n${invokeGet}`, 3, /invokes again before its operation of line 2/],
      ['{:process 0, :type :ok, :f :get, :key "k", :value "a"}', 1, /never invoked/],
      [`${invokeGet}\n{:process 0, :type :ok, :f :get, :key "j", :value ""}`, 2, /completes :get on key "j"/],
      [`${invokeGet}\n{:process 0, :type :ok, :f :get, :key "k", :value 3}`, 2, /a get returns a string or nil/],
      [`${invokeGet}\n{:process 0, :type :ok, :f :get, :key "j", :value ""}`, 2, /invoked :get on key "k" \(line 1\) but completes/],
      [
        '{:process 0, :type :invoke, :f :put, :key "k", :value "a"}\n{:process 0, :type :ok, :f :put, :key "k", :value "b"}',
        2,
        /the completion's value "b" does not match the invocation of line 1/,
      ],
      [`${invokeGet}\n{:process 0, :type :info, :f :get, :key "k", :value nil}\n{:process 0, :type :ok, :f :get, :key "k", :value ""}`, 3, /never invoked/],
      ['; only a comment\n\n', 1, /no operation found/],
    ];
    for (const [text, line, message] of cases) {
      const err = parseError(text);
      expect(err.code).toBe('INVALID_HISTORY');
      expect(err.line).toBe(line);
      expect(err.message).toMatch(message);
    }
  });
});
