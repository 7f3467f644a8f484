/**
 * Type tests of the driver's public surface, checked by `tsc --noEmit -p packages/raft` (the
 * package's `typecheck` script): a wrong event name, listener or result type fails compilation.
 */
import type {
  ClusterConfig,
  CommitQuorum,
  ConsensusEvents,
  ConsensusNode,
  Index,
  NodeId,
  NodeStatus,
  ProposeResult,
  Role,
  Term,
} from '@greenraft/consensus';
import type { EventEmitter } from 'eventemitter3';
import { expectTypeOf } from 'vitest';
import type { Ready } from '../core/api.js';
import { createRaftNode, type RaftNode, type RaftNodeInit } from './raft-node.js';

declare const node: RaftNode<number>;
declare const init: RaftNodeInit<number>;

// createRaftNode carries the state machine's result type through.
expectTypeOf(createRaftNode(init)).toEqualTypeOf<RaftNode<number>>();
expectTypeOf(node).toMatchTypeOf<ConsensusNode<number>>();
expectTypeOf<RaftNode<string>>().not.toMatchTypeOf<ConsensusNode<number>>();
// An eventemitter3 EventEmitter, with no cast.
expectTypeOf(node).toMatchTypeOf<EventEmitter<keyof ConsensusEvents>>();

// propose resolves with the index, the term and what the state machine's apply returned.
expectTypeOf(node.propose).parameter(0).toEqualTypeOf<Uint8Array>();
expectTypeOf(node.propose).returns.resolves.toEqualTypeOf<ProposeResult<number>>();
expectTypeOf<Awaited<ReturnType<RaftNode<string>['propose']>>['result']>().toEqualTypeOf<string>();
expectTypeOf(node.readBarrier).returns.resolves.toEqualTypeOf<Index>();
expectTypeOf(node.changeConfiguration).returns.resolves.toEqualTypeOf<ClusterConfig>();
expectTypeOf(node.transferLeadership).returns.resolves.toEqualTypeOf<void>();
expectTypeOf(node.status).returns.toEqualTypeOf<NodeStatus>();

// The event map: every event's payload, typed.
node.on('stateChange', (event) => {
  expectTypeOf(event).toEqualTypeOf<{ readonly from: Role; readonly to: Role; readonly term: Term }>();
});
node.on('leaderChange', (event) => {
  expectTypeOf(event).toEqualTypeOf<{ readonly leader: NodeId | undefined; readonly term: Term }>();
});
node.on('commit', (event) => {
  expectTypeOf(event).toEqualTypeOf<{ readonly index: Index; readonly term: Term }>();
});
node.on('apply', (event) => {
  expectTypeOf(event.result).toEqualTypeOf<number>();
  expectTypeOf(event.index).toEqualTypeOf<Index>();
});
node.on('commitQuorum', (event) => {
  expectTypeOf(event).toEqualTypeOf<CommitQuorum>();
});
node.on('configChange', (event) => {
  expectTypeOf(event).toEqualTypeOf<{ readonly index: Index; readonly config: ClusterConfig }>();
});
node.on('snapshot', (event) => {
  expectTypeOf(event).toEqualTypeOf<{ readonly index: Index; readonly term: Term; readonly installed: boolean }>();
});
node.once('error', (error) => {
  expectTypeOf(error).toEqualTypeOf<Error>();
});
node.addListener('apply', (event) => expectTypeOf(event.result).toEqualTypeOf<number>());
// on/once/off return the node, for chaining.
expectTypeOf(node.on('commit', () => {})).toEqualTypeOf<RaftNode<number>>();
expectTypeOf(node.once('commit', () => {})).toEqualTypeOf<RaftNode<number>>();
expectTypeOf(node.off('commit')).toEqualTypeOf<RaftNode<number>>();
expectTypeOf(node.removeListener('commit')).toEqualTypeOf<RaftNode<number>>();
expectTypeOf(node.listeners('apply')).toEqualTypeOf<ConsensusEvents<number>['apply'][]>();
expectTypeOf(node.emit('commit', { index: 1, term: 1 })).toEqualTypeOf<boolean>();

// @ts-expect-error: no such event
node.on('applied', () => {});
// @ts-expect-error: the apply result is a number, not a string
node.on('apply', (event: { result: string }) => event);
// @ts-expect-error: once checks the listener too
node.once('leaderChange', (event: { index: Index }) => event);
// @ts-expect-error: emit checks the payload
node.emit('commit', { index: 1 });
// @ts-expect-error: emit checks the event name
node.emit('applied', { index: 1, term: 1 });
// @ts-expect-error: propose takes bytes
void node.propose('meter-7: 12.5 kWh');

// Test hooks are not part of the node's options.
// @ts-expect-error: bug injection lives in @greenraft/raft/testing
const withBug: RaftNodeInit<number> = { ...init, bug: 'vote-twice' };
void withBug;

// A Ready carries the reads that will never be served.
expectTypeOf<Ready['droppedReads']>().toEqualTypeOf<readonly string[]>();
