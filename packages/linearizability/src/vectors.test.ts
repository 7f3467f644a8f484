import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkOperations } from './checker.js';
import { parseJepsenEtcdLog } from './jepsen.js';
import { kvModel } from './kv.js';
import { parseKvHistory } from './kv-history.js';
import { casRegisterModel } from './register.js';

// porcupine's published vectors, copied into fixtures/linearizability with their MIT licence.
const vectors = new URL('../../../fixtures/linearizability/', import.meta.url);
if (!existsSync(new URL('jepsen-etcd/verdicts.json', vectors))) {
  throw new Error(`linearizability vectors not found at ${fileURLToPath(vectors)}`);
}
const read = (path: string) => readFileSync(new URL(path, vectors), 'utf8');
const verdicts = Object.entries(JSON.parse(read('jepsen-etcd/verdicts.json')) as Record<string, boolean>);
const kvFiles = readdirSync(new URL('kv/', vectors)).filter((name) => name.endsWith('.txt'));

/** The log cut after its first `lines` lines. */
const firstLines = (text: string, lines: number) => text.split('\n').slice(0, lines).join('\n');

describe('the Jepsen etcd vectors', () => {
  it('are all there', () => {
    expect(verdicts.length).toBe(52);
    expect(readdirSync(new URL('jepsen-etcd/', vectors)).filter((name) => name.endsWith('.log')).sort()).toEqual(
      verdicts.map(([name]) => name).sort(),
    );
  });

  it.each(verdicts)('%s: linearizable is %s', (name, linearizable) => {
    const text = read(`jepsen-etcd/${name}`);
    const result = checkOperations(casRegisterModel(), parseJepsenEtcdLog(text));
    expect(result.result).toBe(linearizable ? 'ok' : 'illegal');
    if (linearizable) return;
    // Operation times are line numbers, so the failing prefix can be cut from the log itself:
    // the log up to the failing completion fails, one line less passes.
    const line = result.failingOperation!.return!;
    expect(checkOperations(casRegisterModel(), parseJepsenEtcdLog(firstLines(text, line))).result).toBe('illegal');
    expect(checkOperations(casRegisterModel(), parseJepsenEtcdLog(firstLines(text, line - 1))).result).toBe('ok');
  });
});

describe('the key-value vectors', () => {
  it('are all there', () => {
    expect(kvFiles.sort()).toEqual(['c01-bad.txt', 'c01-ok.txt', 'c10-bad.txt', 'c10-ok.txt']);
  });

  it.each(kvFiles)('%s', (name) => {
    const text = read(`kv/${name}`);
    const history = parseKvHistory(text);
    const result = checkOperations(kvModel(), history);
    expect(result.partitions).toBe(new Set(history.map((op) => op.input.key)).size);
    expect(result.result).toBe(name.endsWith('-ok.txt') ? 'ok' : 'illegal');
    if (result.result === 'ok') return;
    // The failing key alone fails, and so does the log cut after the failing completion.
    const key = result.failingKey!;
    expect(result.failingOperation!.input.key).toBe(key);
    expect(checkOperations(kvModel(), history.filter((op) => op.input.key === key)).result).toBe('illegal');
    const line = result.failingOperation!.return!;
    expect(checkOperations(kvModel(), parseKvHistory(firstLines(text, line))).result).toBe('illegal');
    expect(checkOperations(kvModel(), parseKvHistory(firstLines(text, line - 1))).result).toBe('ok');
  });
});
