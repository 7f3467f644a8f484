export { Inflights, Progress } from './progress.js';
export type { AckRecord } from './progress.js';
export { ProgressTracker } from './tracker.js';
export { SnapshotTransfer } from './snapshot-transfer.js';
export type { ChunkTiming } from './snapshot-transfer.js';
