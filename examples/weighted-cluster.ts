/**
 * A 3-node weighted Raft cluster in one process, on the in-memory transport: the heaviest node
 * times out first and leads (paper eq. 7), a quorum is any set of nodes weighing more than half
 * the total, and when the leader is killed the next heaviest takes over without losing a
 * committed entry.
 *
 *   npm install @greenraft/weighted-raft @greenraft/transport-memory
 */
import { memoryNetwork } from '@greenraft/transport-memory';
import { type ApplyInput, type StateMachine, type WeightedRaftNode, createWeightedRaftNode, isGreenraftError, memoryStorage } from '@greenraft/weighted-raft';

// The replicated state machine: a ledger of meter readings; apply returns how many it holds.
class MeterLedger implements StateMachine<number> {
  readings: string[] = [];
  apply({ data }: ApplyInput): number {
    return this.readings.push(new TextDecoder().decode(data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.readings));
  }
  restore(data: Uint8Array): void {
    this.readings = JSON.parse(new TextDecoder().decode(data)) as string[];
  }
}

// n1 weighs most; any two nodes together weigh more than half of 7, so one may fail.
const weights = { n1: 3, n2: 2, n3: 2 };
const network = memoryNetwork();
const ledgers = new Map<string, MeterLedger>();
const nodes = Object.keys(weights).map((id) => {
  const ledger = new MeterLedger();
  ledgers.set(id, ledger);
  return createWeightedRaftNode({ id, transport: network.transport(id), storage: memoryStorage(), stateMachine: ledger, weights });
});
const alive = new Set(nodes);

async function leader(): Promise<WeightedRaftNode<number>> {
  for (;;) {
    const found = [...alive].find((node) => node.status().role === 'leader');
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Proposes through whichever node leads, following a change of leader. */
async function record(reading: string): Promise<void> {
  for (;;) {
    const node = await leader();
    try {
      const { index } = await node.propose(new TextEncoder().encode(reading), { timeoutMs: 2000 });
      console.log(`${node.id} committed "${reading}" at index ${index}`);
      return;
    } catch (error) {
      if (!isGreenraftError(error, 'NOT_LEADER') && !isGreenraftError(error, 'TIMEOUT') && !isGreenraftError(error, 'PROPOSAL_DROPPED')) throw error;
    }
  }
}

await Promise.all(nodes.map((node) => node.start()));
const first = await leader();
console.log(`${first.id} leads, weighing ${weights[first.id as keyof typeof weights]} of 7`);
await record('meter-1: 12.5 kWh');
await record('meter-2: 8.0 kWh');

console.log(`killing ${first.id}`);
await first.stop();
network.isolate(first.id);
alive.delete(first);
const second = await leader();
console.log(`${second.id} took over`);
await record('meter-3: 4.2 kWh');

// Every surviving replica applies the same three readings, in the same order.
const target = second.status().commitIndex;
while (![...alive].every((node) => node.status().appliedIndex >= target)) await new Promise((resolve) => setTimeout(resolve, 10));
for (const node of alive) console.log(`${node.id}: ${ledgers.get(node.id)!.readings.join(', ')}`);

await Promise.all([...alive].map((node) => node.stop()));
network.close();
