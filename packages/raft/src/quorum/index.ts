export type { QuorumConfig, VoteResult } from './quorum.js';
export { committedIndex, isQuorum, quorumPrefixLength, quorumWeight, voteResult } from './quorum.js';
