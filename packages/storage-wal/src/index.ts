/**
 * Durable greenraft storage: a segmented, checksummed write-ahead log with group commit for the Raft log, hard state and snapshots.
 *
 * @packageDocumentation
 */
export {};
