// Type tests, checked by `tsc --noEmit -p packages/weighted-raft`: the weighted node's event map,
// its listener and emitter types, and the result type of `propose`.
import type { CommitQuorum, ConsensusEvents, ConsensusNode, ProposeResult, StateMachine } from '@greenraft/consensus';
import type { EventEmitter } from 'eventemitter3';
import { expectTypeOf } from 'vitest';
import {
  type LeaderHandoverEvent,
  type WeightEpochEvent,
  type WeightEpochFailedEvent,
  type WeightEpochOutcome,
  type WeightEpochSkippedEvent,
  type WeightedRaftEvents,
  type WeightedRaftNode,
  type WeightedRaftNodeInit,
  type WeightsChangeEvent,
  createWeightedRaftNode,
} from './index.js';

declare const init: WeightedRaftNodeInit<number>;
declare const stringMachine: StateMachine<string>;
declare const node: WeightedRaftNode<number>;

// The state machine's result type is the node's.
expectTypeOf(createWeightedRaftNode(init)).toEqualTypeOf<WeightedRaftNode<number>>();
expectTypeOf(createWeightedRaftNode({ ...init, stateMachine: stringMachine })).toEqualTypeOf<WeightedRaftNode<string>>();
expectTypeOf(node.propose(new Uint8Array())).resolves.toEqualTypeOf<ProposeResult<number>>();
expectTypeOf(node.propose(new Uint8Array())).resolves.toHaveProperty('result').toEqualTypeOf<number>();
expectTypeOf(node.applyWeights()).resolves.toEqualTypeOf<WeightEpochOutcome>();

// A ConsensusNode, and an eventemitter3 EventEmitter, with no cast.
expectTypeOf(node).toMatchTypeOf<ConsensusNode<number>>();
expectTypeOf(node).toMatchTypeOf<EventEmitter<keyof WeightedRaftEvents>>();
expectTypeOf<WeightedRaftNode<string>>().not.toMatchTypeOf<ConsensusNode<number>>();

// The event map: every ConsensusNode event, plus the weighted ones.
expectTypeOf<keyof WeightedRaftEvents>().toEqualTypeOf<
  keyof ConsensusEvents | 'weightsChange' | 'weightEpoch' | 'weightEpochSkipped' | 'weightEpochFailed' | 'leaderHandover'
>();
expectTypeOf<WeightedRaftEvents<number>['apply']>().toEqualTypeOf<ConsensusEvents<number>['apply']>();
expectTypeOf<WeightedRaftEvents['weightsChange']>().parameter(0).toEqualTypeOf<WeightsChangeEvent>();
expectTypeOf<WeightedRaftEvents['weightEpoch']>().parameter(0).toEqualTypeOf<WeightEpochEvent>();
expectTypeOf<WeightedRaftEvents['weightEpochSkipped']>().parameter(0).toEqualTypeOf<WeightEpochSkippedEvent>();
expectTypeOf<WeightedRaftEvents['weightEpochFailed']>().parameter(0).toEqualTypeOf<WeightEpochFailedEvent>();
expectTypeOf<WeightedRaftEvents['leaderHandover']>().parameter(0).toEqualTypeOf<LeaderHandoverEvent>();
expectTypeOf<WeightEpochSkippedEvent['reason']>().toEqualTypeOf<'changeInFlight' | 'notLeader' | 'stopped'>();
expectTypeOf<WeightEpochFailedEvent['reason']>().toEqualTypeOf<'scoring' | 'proposal'>();

// Listeners get the payload of their event; on, once and off return the node for chaining.
node.on('apply', (event) => expectTypeOf(event.result).toEqualTypeOf<number>());
node.on('commitQuorum', (event) => expectTypeOf(event).toEqualTypeOf<CommitQuorum>());
node.on('weightEpochSkipped', (event) => expectTypeOf(event.reason).toEqualTypeOf<WeightEpochSkippedEvent['reason']>());
node.once('weightsChange', (event) => expectTypeOf(event.weights).toEqualTypeOf<ReadonlyMap<string, number>>());
expectTypeOf(node.on('leaderHandover', () => {})).toEqualTypeOf<WeightedRaftNode<number>>();
expectTypeOf(node.off('leaderHandover')).toEqualTypeOf<WeightedRaftNode<number>>();
expectTypeOf(node.listeners('weightEpoch')).toEqualTypeOf<((event: WeightEpochEvent) => void)[]>();

// @ts-expect-error: no such event
node.on('weightChange', () => {});
// @ts-expect-error: a listener for another event's payload
node.on('weightsChange', (event: WeightEpochEvent) => event.epoch);
// @ts-expect-error: the apply result is a number on this node
node.on('apply', (event: { result: string }) => event.result);
// @ts-expect-error: emit checks the payload too
node.emit('weightEpochSkipped', { round: 1, trigger: 'schedule', reason: 'busy' });
// @ts-expect-error: propose takes bytes
void node.propose('meter-7');

