/**
 * `greenraft demo`: a local Raft cluster in this process on the memory transport. It elects a
 * leader, commits proposals, kills the leader, elects another, commits more, and shows that
 * every surviving replica applied the same entries.
 */
import { type ApplyInput, type ConsensusNode, type NodeId, NotLeaderError, type StateMachine, InvalidArgumentError, TimeoutError, configuration } from '@greenraft/consensus';
import { createRaftNode, memoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { createWeightedRaftNode } from '@greenraft/weighted-raft';
import { booleanOption, commandSpec, defineCommand, integerOption, millisecondsOption, type ParsedCommandLine } from '../args.js';
import { print } from '../io.js';

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
    if (performance.now() >= deadline) throw new TimeoutError(`gave up waiting for ${what} after ${PATIENCE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Founding weights of the weighted demo: n_i weighs i, so the last node is the heaviest. */
function demoWeights(ids: readonly NodeId[]): Map<NodeId, number> {
  return new Map(ids.map((id, i) => [id, i + 1]));
}

/** The table of `greenraft demo`. */
export const demoSpec = commandSpec({
  name: 'demo',
  summary: 'run a local Raft cluster in this process and narrate it',
  description: [
    'Runs an N-node Raft cluster in this process on the memory transport, commits P proposals,',
    'waits until every replica has applied them, kills the leader, commits P more on the new',
    'leader, and checks that every surviving replica holds the same ledger.',
    '',
    '--weighted runs weighted Raft instead: node i weighs i (n1 lightest), election timeouts follow',
    'the weight rank (paper eq. 7: 100 + 5·rank ms), so the heaviest node leads, and after it is',
    'killed the next heaviest takes over. Ranks are 5 ms apart, about what a busy machine can delay',
    'one node against another; --timeout-scale K multiplies base and step by K (K·(100 + 5·rank) ms)',
    'so that the order holds there too, at the cost of K times slower elections.',
  ].join('\n'),
  options: {
    weighted: booleanOption({ help: 'run weighted Raft: node i weighs i, the heaviest leads' }),
    nodes: integerOption({ value: 'N', help: 'cluster size', min: 3, max: 15, default: 5 }),
    proposals: integerOption({ value: 'P', help: 'proposals before and after the leader is killed', min: 1, max: 10_000, default: 5 }),
    latency: millisecondsOption({ value: 'MS', help: 'largest one-way message latency', default: 2 }),
    timeoutScale: integerOption({ value: 'K', help: "with --weighted: multiply eq. 7's base and step by K", min: 1, max: 100, default: 1 }),
  },
  examples: ['greenraft demo', 'greenraft demo --weighted --proposals 2', 'greenraft demo --weighted --timeout-scale 10'],
  exitStatus: '0 every surviving replica holds the same ledger, 1 they differ, 2 bad arguments.',
});

/** Runs `greenraft demo`; resolves with the exit code. */
export async function runDemo({ options }: ParsedCommandLine<typeof demoSpec.options>): Promise<number> {
  // Node i weighs i: with 3 nodes the heaviest weighs half the total, and killing it would leave no quorum.
  if (options.weighted && options.nodes < 4) throw new InvalidArgumentError('--weighted needs --nodes 4 or more: node i weighs i, and the heaviest must weigh less than half the total');
  if (!options.weighted && options.timeoutScale !== 1) throw new InvalidArgumentError('--timeout-scale applies to --weighted only: classic Raft draws random election timeouts');
  // Eq. 7 scaled: T_i = K·100 + K·5·n_i ms.
  const electionTimeout = { baseMs: 100 * options.timeoutScale, stepMs: 5 * options.timeoutScale };
  const started = performance.now();
  const say = (line: string) => print(`[${(performance.now() - started).toFixed(0).padStart(5)} ms] ${line}`);
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
      ? // The demo kills one node: the guard keeps the heaviest below half the total, so that never blocks the cluster.
        createWeightedRaftNode<number>({ ...common, weights, tolerateFailures: 1, electionTimeout })
      : createRaftNode<number>({ ...common, bootstrap: configuration(ids) });
    node.on('stateChange', ({ from, to, term }) => {
      if (to === 'leader' || from === 'leader') say(`${id}: ${from} → ${to} (term ${term})`);
    });
    nodes.set(id, node);
  }
  if (options.weighted) {
    say(`starting ${options.nodes} weighted nodes: ${ids.map((id) => `${id}=${weights.get(id)}`).join(', ')}`);
    say(
      `a quorum is any set of nodes weighing more than half the total; the heaviest node times out first (eq. 7: ${electionTimeout.baseMs} + ${electionTimeout.stepMs}·rank ms)`,
    );
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

    // Raft §5.4.1: a node missing the leader's last entry cannot win; once every replica has it,
    // any survivor may lead and the election timeouts alone pick who does.
    const caughtUp = nodes.get(first)!.status().lastIndex;
    await until(() => ids.every((id) => nodes.get(id)!.status().appliedIndex >= caughtUp), `every replica to apply index ${caughtUp}`);
    say(`every replica has applied index ${caughtUp}`);
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

/** `greenraft demo`. */
export const demoCommand = defineCommand(demoSpec, runDemo);
