export type {
  CoreCommitQuorum,
  ElectionTimeoutContext,
  EngineBug,
  Proposed,
  QuorumAck,
  RaftCoreOptions,
  RaftPolicy,
  ReadState,
  Ready,
  SoftState,
} from './api.js';
export { ENGINE_BUGS } from './api.js';
export { InvariantViolationError } from './errors.js';
export { RaftCore } from './raft-core.js';
export { seededRandom } from '@greenraft/consensus';
export type { CoreNetwork, CoreNetworkInit, NodeRecord } from './testing.js';
export { coreNetwork, utf8 } from './testing.js';
