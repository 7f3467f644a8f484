import { configuration } from '@greenraft/consensus';
import type { Configuration, StateMachine } from '@greenraft/consensus';
import { consensusNodeCompliance } from '@greenraft/consensus-compliance';
import { memoryNetwork } from '@greenraft/transport-memory';
import type { MemoryNetwork } from '@greenraft/transport-memory';
import { memoryStorage } from '../storage/index.js';
import { createRaftNode } from './raft-node.js';
import type { RaftNode } from './raft-node.js';

let network: MemoryNetwork;
consensusNodeCompliance({
  setup: async ({ ids, stateMachine }) => {
    network = memoryNetwork();
    const nodes = new Map<string, RaftNode<string>>();
    const start = async (id: string, sm: StateMachine<string>, bootstrap: Configuration | undefined) => {
      const node = createRaftNode({ id, transport: network.transport(id), storage: memoryStorage(), stateMachine: sm, bootstrap, tickMs: 5 });
      nodes.set(id, node);
      await node.start();
      return node;
    };
    await Promise.all(ids.map((id) => start(id, stateMachine(id), configuration(ids))));
    return {
      nodes,
      addNode: (id, sm) => start(id, sm, undefined),
      kill: async (id) => {
        await nodes.get(id)?.stop();
        network.isolate(id);
      },
    };
  },
  teardown: async (cluster) => {
    await Promise.all([...cluster.nodes.values()].map((node) => node.stop()));
    network.close();
  },
});
