export type {
  CoreCommitQuorum,
  ElectionTimeoutContext,
  Proposed,
  QuorumAck,
  RaftCoreOptions,
  RaftPolicy,
  ReadState,
  Ready,
  SoftState,
} from './api.js';
export { InvariantViolationError } from './errors.js';
export { RaftCore } from './raft-core.js';
export { seededRandom } from '@greenraft/consensus';
