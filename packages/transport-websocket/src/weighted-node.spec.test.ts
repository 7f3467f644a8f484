import type { StateMachine } from '@greenraft/consensus';
import { consensusNodeCompliance } from '@greenraft/consensus-compliance';
import { memoryStorage } from '@greenraft/raft';
import { type WeightedRaftNode, createWeightedRaftNode } from '@greenraft/weighted-raft';
import { joinTransport, loopbackTransports } from './cluster.test-utils.js';
import type { WebSocketTransport } from './transport.js';

// The ConsensusNode suite the weighted node runs on the memory transport, here over WebSocket on loopback.
let transports: Map<string, WebSocketTransport>;
consensusNodeCompliance({
  setup: async ({ ids, stateMachine }) => {
    transports = await loopbackTransports(ids);
    const nodes = new Map<string, WeightedRaftNode<string>>();
    // Founding weights 3, 2, 2: no single node is a quorum, any one can crash (the f = 1 guard).
    const weights = Object.fromEntries(ids.map((id, position) => [id, position === 0 ? 3 : 2]));
    const start = async (id: string, sm: StateMachine<string>, founding: Record<string, number> | undefined) => {
      const transport = transports.get(id) ?? (await joinTransport(transports, id));
      const node = createWeightedRaftNode({ id, transport, storage: memoryStorage(), stateMachine: sm, ...(founding ? { weights: founding } : {}) });
      nodes.set(id, node);
      await node.start();
      return node;
    };
    await Promise.all(ids.map((id) => start(id, stateMachine(id), weights)));
    return { nodes, addNode: (id, sm) => start(id, sm, undefined), kill: async (id) => { await nodes.get(id)?.stop(); } };
  },
  teardown: async (cluster) => {
    await Promise.all([...cluster.nodes.values()].map((node) => node.stop()));
    await Promise.all([...transports.values()].map((transport) => transport.stop()));
  },
});
