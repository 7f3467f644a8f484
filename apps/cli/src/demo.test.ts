import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { capture } from './test-support.js';

describe('greenraft demo', () => {
  it('elects, commits, survives a killed leader, and ends with identical replicas', async () => {
    const { code, stdout: text } = await capture(() => runCli(['demo', '--nodes', '5', '--proposals', '3']));
    expect(code).toBe(0);
    expect(text).toMatch(/n\d is the leader/);
    expect(text).toMatch(/killing the leader (n\d)/);
    const killed = /killing the leader (n\d)/.exec(text)![1];
    const successor = /(n\d) took over as leader/.exec(text)![1];
    expect(successor).not.toBe(killed);
    expect(text.match(/committed "/g)).toHaveLength(6);
    expect(text).toContain('4 surviving replicas hold 6 readings each; identical: true');
  });

  it('refuses bad arguments with exit code 2', async () => {
    const small = await capture(() => runCli(['demo', '--nodes', '2']));
    expect(small.code).toBe(2);
    expect(small.stderr).toBe("greenraft demo: --nodes takes a whole number from 3 to 15, not '2' (run 'greenraft demo --help' for the options)\n");
    const bogus = await capture(() => runCli(['demo', '--bogus']));
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/^greenraft demo: unknown option '--bogus'/);
    expect(bogus.stdout).toBe('');
    const tooFew = await capture(() => runCli(['demo', '--weighted', '--nodes', '3']));
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toMatch(/^greenraft demo: --weighted needs --nodes 4 or more/);
  });
});

describe('greenraft demo --weighted', () => {
  it('lets the heaviest node lead, then the next heaviest once it is killed (eq. 7)', async () => {
    const { code, stdout: text } = await capture(() => runCli(['demo', '--weighted', '--nodes', '5', '--proposals', '2']));
    expect(code).toBe(0);
    expect(text).toContain('n1=1, n2=2, n3=3, n4=4, n5=5');
    expect(text).toMatch(/n5 is the leader/);
    expect(text).toMatch(/n4 took over as leader/);
    expect(text).toContain('4 surviving replicas hold 4 readings each; identical: true');
  });
});
