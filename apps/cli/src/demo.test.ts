import { describe, expect, it, vi } from 'vitest';
import { runCli } from './cli.js';
import { capture } from './test-support.js';

/**
 * Eq. 7 at 10× (1000 + 50·rank ms): ranks 50 ms (10 ticks) apart, far beyond what a loaded machine
 * delays one in-process node against another, so the order of the timeouts decides each election.
 */
const WEIGHTED = ['demo', '--weighted', '--nodes', '5', '--proposals', '2', '--timeout-scale', '10'];

/**
 * What the weighted demo claims (eq. 7), read from its narration: the first node to become leader
 * is the heaviest, and the first after the leader is killed is the heaviest survivor. Returns
 * every contradiction found.
 */
function heaviestLeads(text: string): string[] {
  const weights = new Map([.../starting \d+ weighted nodes: (.*)$/m.exec(text)![1]!.matchAll(/(n\d+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])] as const));
  const heaviest = (ids: readonly string[]) => [...ids].sort((a, b) => weights.get(b)! - weights.get(a)! || a.localeCompare(b))[0];
  const killedAt = text.indexOf('killing the leader');
  const killed = /killing the leader (n\d+)/.exec(text)?.[1];
  const leaders = [...text.matchAll(/(n\d+): \w+ → leader/g)].map((m) => ({ id: m[1]!, at: m.index }));
  const problems: string[] = [];
  const first = leaders.find((l) => l.at < killedAt)?.id;
  const expectedFirst = heaviest([...weights.keys()]);
  if (first !== expectedFirst) problems.push(`first leader ${first}, not the heaviest node ${expectedFirst}`);
  const second = leaders.find((l) => l.at > killedAt)?.id;
  const expectedSecond = heaviest([...weights.keys()].filter((id) => id !== killed));
  if (second !== expectedSecond) problems.push(`leader after ${killed} was killed ${second}, not the heaviest survivor ${expectedSecond}`);
  return problems;
}

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
    const { code, stdout: text } = await capture(() => runCli(WEIGHTED));
    expect(code).toBe(0);
    expect(text).toContain('n1=1, n2=2, n3=3, n4=4, n5=5');
    expect(text).toContain('the heaviest node times out first (eq. 7: 1000 + 50·rank ms)');
    expect(heaviestLeads(text)).toEqual([]);
    expect(text).toMatch(/n5 is the leader/);
    expect(text).toMatch(/n4 took over as leader/);
    expect(text).toContain('4 surviving replicas hold 4 readings each; identical: true');
  });

  it('the same checks fail when the rank-timeout policy is inverted (the lightest node timing out first)', async () => {
    // Eq. 7 (electionTimeoutMs, which only the rank-timeout policy calls) with the ranks reversed:
    // ranks 1..16 (at most 15 voters, then non-voters) count as 16..1, so the heaviest voter waits longest.
    vi.resetModules();
    vi.doMock('@greenraft/weight-scoring', async (importOriginal) => {
      const real = await importOriginal<typeof import('@greenraft/weight-scoring')>();
      return { ...real, electionTimeoutMs: (rank: number, init?: { baseMs?: number; stepMs?: number }) => real.electionTimeoutMs(17 - rank, init) };
    });
    try {
      const inverted = await import('./cli.js');
      const { code, stdout: text } = await capture(() => inverted.runCli(WEIGHTED));
      expect(code).toBe(0);
      expect(heaviestLeads(text)).toEqual(['first leader n1, not the heaviest node n5', 'leader after n1 was killed n2, not the heaviest survivor n5']);
      expect(text).not.toMatch(/n5 is the leader/);
    } finally {
      vi.doUnmock('@greenraft/weight-scoring');
      vi.resetModules();
    }
  });

  it('--timeout-scale is refused without --weighted, and out of range', async () => {
    const classic = await capture(() => runCli(['demo', '--timeout-scale', '10']));
    expect(classic.code).toBe(2);
    expect(classic.stderr).toMatch(/^greenraft demo: --timeout-scale applies to --weighted only/);
    const zero = await capture(() => runCli(['demo', '--weighted', '--timeout-scale', '0']));
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/^greenraft demo: --timeout-scale takes a whole number from 1 to 100, not '0'/);
  });
});
