/**
 * `greenraft demo`: a local Raft cluster in this process on the memory transport. It elects a
 * leader, commits proposals, kills the leader, elects another, commits more, and shows that
 * every surviving replica applied the same entries. What `npm start` runs.
 */
import { parseArgs } from 'node:util';
import { type ApplyInput, type ConsensusNode, type NodeId, NotLeaderError, type StateMachine, configuration } from '@greenraft/consensus';
import { createRaftNode, memoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { createWeightedRaftNode } from '@greenraft/weighted-raft';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A replicated meter-reading ledger: each entry records one reading; apply returns its sequence number. */
class MeterLedger implements StateMachine<number> {
  readings: string[] = [];
  apply({ data }: ApplyInput): number {
    this.readings.push(decoder.decode(data));
    return this.readings.length;
  }
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.readings));
  }
  restore(data: Uint8Array): void {
    this.readings = JSON.parse(decoder.decode(data)) as string[];
  }
}

/** How long the demo waits for a leader or for replicas to catch up before giving up (never a speed requirement). */
const PATIENCE_MS = 30_000;

/** Polls `condition` every 10 ms; throws once `PATIENCE_MS` pass without it holding, so a stuck cluster fails instead of hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + PATIENCE_MS;
  while (!condition()) {
    if (performance.now() >= deadline) throw new Error(`gave up waiting for ${what} after ${PATIENCE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const HELP = `usage: greenraft demo [--weighted] [--nodes N] [--proposals P] [--latency MS]

Runs an N-node Raft cluster (default 5) in this process on the memory transport,
commits P proposals (default 5), kills the leader, commits P more on the new leader,
and checks that every surviving replica holds the same ledger.

--weighted runs weighted Raft instead: node i weighs i (n1 lightest), election
timeouts follow the weight rank (paper eq. 7: 100 + 5·rank ms), so the heaviest
node leads, and after it is killed the next heaviest takes over.`;

/** Founding weights of the weighted demo: n_i weighs i, so the last node is the heaviest. */
function demoWeights(ids: readonly NodeId[]): Map<NodeId, number> {
  return new Map(ids.map((id, i) => [id, i + 1]));
}

export async function run(argv: string[]): Promise<number> {
  let options: { nodes: number; proposals: number; latency: number; weighted: boolean };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        nodes: { type: 'string', default: '5' },
        proposals: { type: 'string', default: '5' },
        latency: { type: 'string', default: '2' },
        weighted: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    options = { nodes: Number(values.nodes), proposals: Number(values.proposals), latency: Number(values.latency), weighted: values.weighted === true };
    if (!Number.isInteger(options.nodes) || options.nodes < 3 || options.nodes > 15) throw new Error('--nodes must be an integer from 3 to 15');
    if (!Number.isInteger(options.proposals) || options.proposals < 1) throw new Error('--proposals must be a positive integer');
    if (!Number.isFinite(options.latency) || options.latency < 0) throw new Error('--latency must be a number of milliseconds ≥ 0');
  } catch (err) {
    console.error(`greenraft demo: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return 2;
  }

  const started = performance.now();
  const say = (line: string) => console.log(`[${(performance.now() - started).toFixed(0).padStart(5)} ms] ${line}`);
  const ids: NodeId[] = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const network = memoryNetwork({ defaultLink: { latency: { min: 0, max: options.latency } } });
  const ledgers = new Map<NodeId, MeterLedger>();
  const nodes = new Map<NodeId, ConsensusNode<number>>();
  const weights = demoWeights(ids);
  for (const [i, id] of ids.entries()) {
    const ledger = new MeterLedger();
    ledgers.set(id, ledger);
    const common = { id, transport: network.transport(id), storage: memoryStorage(), stateMachine: ledger, seed: i + 1 };
    const node: ConsensusNode<number> = options.weighted
      ? createWeightedRaftNode<number>({ ...common, weights })
      : createRaftNode<number>({ ...common, bootstrap: configuration(ids) });
    node.on('stateChange', ({ from, to, term }) => {
      if (to === 'leader' || from === 'leader') say(`${id}: ${from} → ${to} (term ${term})`);
    });
    nodes.set(id, node);
  }
  if (options.weighted) {
    say(`starting ${options.nodes} weighted nodes: ${ids.map((id) => `${id}=${weights.get(id)}`).join(', ')}`);
    say('a quorum is any set of nodes weighing more than half the total; the heaviest node times out first (eq. 7)');
  } else say(`starting ${options.nodes} nodes: ${ids.join(', ')}`);
  await Promise.all([...nodes.values()].map((node) => node.start()));

  const alive = new Set(ids);
  const waitForLeader = async (): Promise<NodeId> => {
    let leader: NodeId | undefined;
    await until(() => (leader = [...alive].find((id) => nodes.get(id)!.status().role === 'leader')) !== undefined, 'a leader');
    return leader!;
  };
  const proposeRound = async (label: string) => {
    for (let i = 1; i <= options.proposals; i++) {
      const reading = `${label}-meter-${i}: ${(100 + i * 7.5).toFixed(1)} kWh`;
      for (;;) {
        const leader = await waitForLeader();
        try {
          const { index, term, result } = await nodes.get(leader)!.propose(encoder.encode(reading), { timeoutMs: 2000 });
          say(`committed "${reading}" at index ${index} (term ${term}) via ${leader}; ledger size ${result}`);
          break;
        } catch (err) {
          if (!(err instanceof NotLeaderError)) say(`retrying after ${err instanceof Error ? err.name : String(err)}`);
        }
      }
    }
  };

  try {
    const first = await waitForLeader();
    say(`${first} is the leader`);
    await proposeRound('round1');

    say(`killing the leader ${first}`);
    await nodes.get(first)!.stop();
    network.isolate(first);
    alive.delete(first);
    const second = await waitForLeader();
    say(`${second} took over as leader (term ${nodes.get(second)!.status().term})`);
    await proposeRound('round2');

    // Wait until every surviving replica has applied everything the leader committed.
    const target = nodes.get(second)!.status().commitIndex;
    await until(() => [...alive].every((id) => nodes.get(id)!.status().appliedIndex >= target), `every surviving replica to apply index ${target}`);
    const reference = JSON.stringify(ledgers.get(second)!.readings);
    const identical = [...alive].every((id) => JSON.stringify(ledgers.get(id)!.readings) === reference);
    say(`${alive.size} surviving replicas hold ${ledgers.get(second)!.readings.length} readings each; identical: ${identical}`);
    return identical && ledgers.get(second)!.readings.length === 2 * options.proposals ? 0 : 1;
  } finally {
    await Promise.all([...alive].map((id) => nodes.get(id)!.stop()));
  }
}
