export { createRaftNode } from './raft-node.js';
export type { RaftNode, RaftNodeInit } from './raft-node.js';
