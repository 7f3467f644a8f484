/**
 * Throughput of the pure core, through the synchronous test network (5 voters, classic weights).
 * Run: `npx vitest bench --run --project raft`. One iteration = 1000 steps,
 * each step a tick of every node, a proposal on the leader, and delivery until quiet.
 */
import { configuration } from '@greenraft/consensus';
import { bench, describe } from 'vitest';
import { coreNetwork, utf8 } from '../testing.js';

const ids = ['1', '2', '3', '4', '5'];
const payload = utf8('a power-trading transaction of about sixty-four bytes, give or take');

function cluster() {
  const net = coreNetwork({ bootstrap: configuration(ids) });
  net.core('1').campaign();
  net.stabilize();
  return net;
}

describe('RaftCore, 5-node cluster', () => {
  bench('1000 steps: tick all + propose + stabilize', () => {
    const net = cluster();
    for (let step = 0; step < 1000; step++) {
      for (const id of ids) net.tick(id);
      net.core('1').propose(payload);
      net.stabilize();
    }
  });

  bench('1000 steps: tick all + stabilize (idle heartbeats)', () => {
    const net = cluster();
    for (let step = 0; step < 1000; step++) {
      for (const id of ids) net.tick(id);
      net.stabilize();
    }
  });
});
