/**
 * Scripted stories of weighted Raft (etcd-io/raft's datadriven style), run by the engine's scenario
 * runner: each file in packages/weighted-raft/testdata/*.txt is a story of commands, each followed
 * by `----` and what it must print. Run with `GREENRAFT_REWRITE=1` to regenerate the expected
 * outputs after a deliberate change, then review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { configuration } from '@greenraft/consensus';
import { type CoreNetwork, type ScenarioArguments, runScenario } from '@greenraft/raft/testing';
import { describe, expect, it } from 'vitest';
import { rankElectionTimeout, weightRank } from './rank-timeout.js';

const testdata = new URL('../testdata/', import.meta.url);
const rewrite = process.env.GREENRAFT_REWRITE === '1';
const TICK_MS = 5;

/** Eq. 7 as the weighted node runs it: 100 + 5·n_i ms, in ticks of 5 ms. */
const policy = () => rankElectionTimeout({ tickMs: TICK_MS });

const commands = {
  /** `timeouts`: every node's weight, rank (n_i) and election timeout under the configuration in its log. */
  timeouts(_: ScenarioArguments, network: CoreNetwork): string[] {
    return network.ids.map((id) => {
      const core = network.core(id);
      const rank = weightRank(core.config, id);
      const ticks = policy().electionTimeoutTicks!({ id, config: core.config, electionTicks: 10, random: () => 0 });
      return `${id}: weight ${core.config.incoming.voters.get(id) ?? 0}, rank ${rank}, ${100 + 5 * rank} ms = ${ticks} ticks`;
    });
  },
  /** `tick-all N`: N times, every running node ticks once, then messages flow until the network is quiet. */
  'tick-all'({ positional }: ScenarioArguments, network: CoreNetwork): undefined {
    for (let i = 0; i < Number(positional[0] ?? 1); i++) {
      for (const id of network.ids) if (network.isUp(id)) network.tick(id);
      network.stabilize();
    }
    return undefined;
  },
  /** `change-weights LEADER w1,w2,...`: the leader proposes these weights by joint consensus. */
  'change-weights'({ positional }: ScenarioArguments, network: CoreNetwork): string[] {
    const [leader = '', list = ''] = positional;
    const weights = list.split(',').map(Number);
    const target = configuration(new Map(network.ids.map((id, i) => [id, weights[i] ?? 1] as const)));
    network.core(leader).proposeConfigChange(target);
    network.processReady(leader);
    return [`proposed C(old,new) at index ${network.core(leader).lastIndex}`];
  },
};

const stories = readdirSync(testdata).filter((name) => name.endsWith('.txt'));

describe('weighted Raft stories (testdata/*.txt)', () => {
  it('has stories to run', () => {
    expect(stories).toContain('rank-timeouts.txt');
  });

  it.each(stories)('%s', (name) => {
    const file = new URL(name, testdata);
    const result = runScenario(readFileSync(file, 'utf8'), { options: () => ({ policy: policy() }), commands });
    if (rewrite) writeFileSync(file, result.rewritten);
    else for (const block of result.blocks) expect(block.actual, `${name}:${block.line}: ${block.command}`).toEqual(block.expected);
    expect(result.blocks.length).toBeGreaterThan(5);
  });
});
