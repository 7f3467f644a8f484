// Who wins the first election of a 5-node weighted cluster, and how fast: classic randomised
// timeouts against eq. 7's rank timeouts, over many seeds, on RaftCore with every message taking
// `hop` ticks of 5 ms (0 = delivered within the tick). Prints figures; asserts nothing.
// Run: npx turbo run build --filter=@greenraft/weighted-raft && node packages/weighted-raft/bench/first-leader.mjs
import { configuration } from '@greenraft/consensus';
import { coreNetwork } from '@greenraft/raft/testing';
import { rankElectionTimeout } from '../dist/index.js';

const SEEDS = 500;
const TICK_MS = 5;
const WEIGHTS = { a: 1, b: 2, c: 5, d: 3, e: 4 }; // c is the heaviest
const HEAVIEST = 'c';

const policies = {
  'classic [100, 200) ms': undefined,
  'rank, eq. 7 (100 + 5n)': () => rankElectionTimeout({ tickMs: TICK_MS }),
  'rank + 4 ms jitter': () => rankElectionTimeout({ tickMs: TICK_MS, jitterMs: 4 }),
  'rank, step 20 ms': () => rankElectionTimeout({ tickMs: TICK_MS, stepMs: 20 }),
};

function firstElection(policy, seed, hop) {
  const net = coreNetwork({
    bootstrap: configuration(WEIGHTS),
    options: (id) => ({ seed: seed * 131 + id.charCodeAt(0), electionTicks: 20, ...(policy ? { policy: policy() } : {}) }),
  });
  for (let tick = 1; tick <= 2000; tick++) {
    for (const id of net.ids) net.tick(id);
    if (hop === 0) net.stabilize();
    else {
      net.deliverQueued();
      for (const id of net.ids) net.processReady(id);
    }
    const leader = net.ids.find((id) => net.core(id).role === 'leader');
    if (leader !== undefined) return { leader, ms: tick * TICK_MS, term: net.core(leader).term };
  }
  return { leader: undefined, ms: Number.NaN, term: Number.NaN };
}

console.log(`first election, 5 voters weighted ${JSON.stringify(WEIGHTS)}, ${SEEDS} seeds`);
for (const hop of [0, 1]) {
  console.log(`\nmessage delay: ${hop === 0 ? 'none (within the tick)' : `${hop * TICK_MS} ms per hop`}`);
  console.log('policy                      heaviest wins   mean ms to leader   elections past term 1');
  for (const [name, policy] of Object.entries(policies)) {
    let heaviest = 0;
    let totalMs = 0;
    let laterTerms = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { leader, ms, term } = firstElection(policy, seed, hop);
      if (leader === HEAVIEST) heaviest++;
      totalMs += ms;
      if (term > 1) laterTerms++;
    }
    const share = `${((100 * heaviest) / SEEDS).toFixed(1)} %`;
    console.log(`${name.padEnd(28)}${share.padStart(13)}${(totalMs / SEEDS).toFixed(1).padStart(20)}${String(laterTerms).padStart(24)}`);
  }
}
