import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuration } from '@greenraft/consensus';
import type { Configuration, StateMachine } from '@greenraft/consensus';
import { consensusNodeCompliance } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode } from '@greenraft/raft';
import { type MemoryNetwork, memoryNetwork } from '@greenraft/transport-memory';
import { afterAll } from 'vitest';
import { type WalStorage, walStorage } from './index.js';

// The ConsensusNode suite every node implementation passes, with RaftNode on WAL storage.
const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-node-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let clusters = 0;
let network: MemoryNetwork;
let storages: WalStorage[] = [];

consensusNodeCompliance({
  setup: async ({ ids, stateMachine }) => {
    network = memoryNetwork();
    const cluster = ++clusters;
    const nodes = new Map<string, RaftNode<string>>();
    const start = async (id: string, sm: StateMachine<string>, bootstrap: Configuration | undefined) => {
      const storage = await walStorage({ directory: join(root, `cluster-${cluster}`, id) });
      storages.push(storage);
      const node = createRaftNode({ id, transport: network.transport(id), storage, stateMachine: sm, bootstrap, tickMs: 5 });
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
    for (const storage of storages.splice(0)) await storage.close();
    storages = [];
    network.close();
  },
});
