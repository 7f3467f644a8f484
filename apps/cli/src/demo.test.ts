import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './commands/demo.js';

describe('greenraft demo', () => {
  afterEach(() => vi.restoreAllMocks());

  it('elects, commits, survives a killed leader, and ends with identical replicas', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const code = await run(['--nodes', '5', '--proposals', '3']);
    const text = lines.join('\n');
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
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    expect(await run(['--nodes', '2'])).toBe(2);
    expect(errors.join('\n')).toContain('--nodes must be an integer from 3 to 15');
    expect(await run(['--bogus'])).toBe(2);
  });
});

describe('greenraft demo --weighted', () => {
  afterEach(() => vi.restoreAllMocks());

  it('lets the heaviest node lead, then the next heaviest once it is killed (eq. 7)', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const code = await run(['--weighted', '--nodes', '5', '--proposals', '2']);
    const text = lines.join('\n');
    expect(code).toBe(0);
    expect(text).toContain('n1=1, n2=2, n3=3, n4=4, n5=5');
    expect(text).toMatch(/n5 is the leader/);
    expect(text).toMatch(/n4 took over as leader/);
    expect(text).toContain('4 surviving replicas hold 4 readings each; identical: true');
  });
});
