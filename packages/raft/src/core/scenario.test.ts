/**
 * Scripted scenarios (etcd-io/raft's datadriven style): each file in packages/raft/testdata/*.txt
 * is a story of commands, each followed by `----` and the output it must print. Run with
 * `GREENRAFT_REWRITE=1` to regenerate the expected outputs after a deliberate change, then review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../testing/scenario.js';

const testdata = new URL('../../testdata/', import.meta.url);
const rewrite = process.env.GREENRAFT_REWRITE === '1';
const files = readdirSync(testdata).filter((name) => name.endsWith('.txt')).sort();

describe('scripted scenarios (testdata/*.txt)', () => {
  it('has scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(file, () => {
      const url = new URL(file, testdata);
      const result = runScenario(readFileSync(url, 'utf8'));
      expect(result.blocks.length).toBeGreaterThan(0);
      if (rewrite) writeFileSync(url, result.rewritten);
      else for (const block of result.blocks) expect(block.actual, `${file}:${block.line}: ${block.command}`).toEqual(block.expected);
    });
  }
});
