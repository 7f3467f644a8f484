/**
 * The greenraft Raft engine: a deterministic core (`RaftCore`: tick/step/propose in, `Ready`
 * out) and the `RaftNode` driver that wires it to a transport, storage, state machine and timers.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './quorum/index.js';
export * from './node/index.js';
export * from './storage/index.js';
