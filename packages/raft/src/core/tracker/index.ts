export { Inflights, Progress } from './progress.js';
export type { AckRecord } from './progress.js';
export { ProgressTracker } from './tracker.js';
