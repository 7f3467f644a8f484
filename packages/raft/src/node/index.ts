export { createRaftNode, RAFT_NODE_OPTIONS } from './raft-node.js';
export type { RaftNode, RaftNodeInit } from './raft-node.js';
