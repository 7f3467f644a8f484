import type { StateMachine } from '@greenraft/consensus';
import { consensusNodeCompliance } from '@greenraft/consensus-compliance';
import { memoryStorage } from '@greenraft/raft';
import { type MemoryNetwork, memoryNetwork } from '@greenraft/transport-memory';
import { type WeightedRaftNode, createWeightedRaftNode } from './index.js';

let network: MemoryNetwork;
consensusNodeCompliance({
  setup: async ({ ids, stateMachine }) => {
    network = memoryNetwork();
    const nodes = new Map<string, WeightedRaftNode<string>>();
    // Founding weights 3, 2, 2: no single node is a quorum, any one can crash (the f = 1 guard).
    const weights = Object.fromEntries(ids.map((id, position) => [id, position === 0 ? 3 : 2]));
    const start = async (id: string, sm: StateMachine<string>, founding: Record<string, number> | undefined) => {
      const node = createWeightedRaftNode({ id, transport: network.transport(id), storage: memoryStorage(), stateMachine: sm, ...(founding ? { weights: founding } : {}) });
      nodes.set(id, node);
      await node.start();
      return node;
    };
    await Promise.all(ids.map((id) => start(id, stateMachine(id), weights)));
    return { nodes, addNode: (id, sm) => start(id, sm, undefined), kill: async (id) => { await nodes.get(id)?.stop(); network.isolate(id); } };
  },
  teardown: async (cluster) => {
    await Promise.all([...cluster.nodes.values()].map((node) => node.stop()));
    network.close();
  },
});
