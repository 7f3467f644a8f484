import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRoundDocument, settleRound } from '@greenraft/power-market';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { type SettlementRow, settlementRows } from './commands/market.js';
import { capture } from './test-support.js';

// The paper's Tables 1 and 2, copied into fixtures/paper with their source and licence.
const FIXTURE = fileURLToPath(new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url));
if (!existsSync(FIXTURE)) throw new Error(`paper fixture not found at ${FIXTURE}`);
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Fixture {
  expected: (SettlementRow & { kind: string })[];
  [key: string]: unknown;
}
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;

function expectTables(rows: readonly SettlementRow[]): void {
  expect(rows.map((row) => row.id)).toEqual(fixture.expected.map((row) => row.id));
  expect(rows).toHaveLength(30);
  for (const [i, expected] of fixture.expected.entries()) {
    const row = rows[i]!;
    for (const key of ['revenueOrExpense', 'gridRevenue', 'creditWeightAfter', 'penalty', 'allocation'] as const) {
      expect(Math.abs(row[key] - expected[key]), `node ${expected.id} ${key}: ${row[key]} vs ${expected[key]}`).toBeLessThanOrEqual(0.01);
    }
  }
}

// Every round file sits in a folder of its own under the temp dir, removed once the file's tests end.
const tempFolders: string[] = [];
afterAll(() => {
  for (const folder of tempFolders) rmSync(folder, { recursive: true, force: true });
});

function tempFile(content: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'greenraft-market-'));
  tempFolders.push(folder);
  const file = join(folder, 'round.json');
  writeFileSync(file, content);
  return file;
}

function withContract(change: Record<string, unknown>): string {
  const document = structuredClone(fixture) as unknown as { contracts: Record<string, unknown>[] };
  document.contracts[0] = { ...document.contracts[0], ...change };
  return JSON.stringify(document);
}

function runCaptured(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return capture(() => runCli(['market', ...argv]));
}

describe('greenraft market settle reproduces the paper’s Tables 1 and 2', () => {
  it('through the library: all 30 rows within 0.01', () => {
    const { round, originalIds } = parseRoundDocument(fixture);
    expectTables(settlementRows(settleRound(round), originalIds));
  });

  it('through the command: --json prints the 30 rows ordered by id', async () => {
    const { code, stdout } = await runCaptured(['settle', FIXTURE, '--json']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as SettlementRow[];
    expect(Object.keys(rows[0]!)).toEqual(['id', 'revenueOrExpense', 'gridRevenue', 'creditWeightAfter', 'penalty', 'allocation']);
    expectTables(rows);
  });

  it('through the built CLI: all 30 rows within 0.01', () => {
    expect(existsSync(BIN), 'build the CLI first: npx turbo run build --filter=@greenraft/cli...').toBe(true);
    const result = spawnSync(process.execPath, [BIN, 'market', 'settle', FIXTURE, '--json'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expectTables(JSON.parse(result.stdout) as SettlementRow[]);
  });

  it('prints a readable table without --json', async () => {
    const { code, stdout } = await runCaptured(['settle', FIXTURE]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^node\s+kind\s+revenue\/expense\s+grid revenue\s+credit after\s+penalty\s+allocation$/);
    expect(lines).toHaveLength(32);
    // Node 17, the first defaulter: expense 120.60, grid −0.80, credit 86.04, penalty 48.58, allocation 1.09.
    expect(lines.find((line) => line.startsWith('17 '))).toMatch(/17\s+consumption\s+120\.60\s+-0\.80\s+86\.04\s+48\.58\s+1\.09$/);
  });
});

describe('greenraft market settle refuses invalid input with exit code 2', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['an unreadable file', () => ['settle', '/nonexistent/round.json'], /cannot read/],
    ['bad JSON', () => ['settle', tempFile('{"prices": ')], /not valid JSON/],
    ['a missing field', () => ['settle', tempFile(withContract({ contractedKWh: undefined }))], /contracts\[0\]\.contractedKWh is missing/],
    ['a negative volume', () => ['settle', tempFile(withContract({ actualConsumedKWh: -10 }))], /must not be negative/],
    ['an unknown node', () => ['settle', tempFile(withContract({ consumer: 99 }))], /node 99 is not registered/],
    ['a contract between two generators', () => ['settle', tempFile(withContract({ consumer: 3 }))], /consumer 3 is a generation node/],
    ['a price out of range', () => ['settle', tempFile(withContract({ unitPrice_U: 0.9 }))], /outside/],
    ['no file', () => ['settle'], /missing FILE/],
    ['two files', () => ['settle', FIXTURE, FIXTURE], /unexpected argument/],
    ['an unknown option', () => ['settle', FIXTURE, '--csv'], /unknown option '--csv'/],
    ['an unknown sub-command', () => ['trade'], /unknown sub-command 'trade'; expected settle/],
    ['no sub-command', () => [], /missing sub-command; expected settle/],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const { code, stderr, stdout } = await runCaptured(argv());
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    // One line, no usage dump and no stack.
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stdout).toBe('');
  });

  it('exits 2 from the built CLI too', () => {
    const result = spawnSync(process.execPath, [BIN, 'market', 'settle', tempFile('[]')], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/must be a JSON object/);
  });
});
