import { configuration } from '@greenraft/consensus';
import type { Configuration, StateMachine } from '@greenraft/consensus';
import { consensusNodeCompliance } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
import { joinTransport, loopbackTransports } from './cluster.test-utils.js';
import type { WebSocketTransport } from './transport.js';

// The ConsensusNode suite RaftNode runs on the memory transport, here over WebSocket on loopback.
let transports: Map<string, WebSocketTransport>;
consensusNodeCompliance({
  setup: async ({ ids, stateMachine }) => {
    transports = await loopbackTransports(ids);
    const nodes = new Map<string, RaftNode<string>>();
    const start = async (id: string, sm: StateMachine<string>, bootstrap: Configuration | undefined) => {
      const transport = transports.get(id) ?? (await joinTransport(transports, id));
      const node = createRaftNode({ id, transport, storage: memoryStorage(), stateMachine: sm, bootstrap, tickMs: 5 });
      nodes.set(id, node);
      await node.start();
      return node;
    };
    await Promise.all(ids.map((id) => start(id, stateMachine(id), configuration(ids))));
    return {
      nodes,
      addNode: (id, sm) => start(id, sm, undefined),
      // Stopping the node stops its transport: its endpoint closes and every peer loses it.
      kill: async (id) => {
        await nodes.get(id)?.stop();
      },
    };
  },
  teardown: async (cluster) => {
    await Promise.all([...cluster.nodes.values()].map((node) => node.stop()));
    await Promise.all([...transports.values()].map((transport) => transport.stop()));
  },
});
