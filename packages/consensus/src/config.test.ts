import { describe, expect, it } from 'vitest';
import {
  configuration,
  configurationFromJSON,
  configurationsEqual,
  configurationToJSON,
  isJoint,
  isVoter,
  members,
  totalWeight,
} from './config.js';
import { ConfigurationError, GreenraftError, NotLeaderError, StateMachineError, TimeoutError } from './errors.js';

describe('configuration', () => {
  it('gives every listed voter weight 1 (classic Raft)', () => {
    const config = configuration(['a', 'b', 'c']);
    expect([...config.voters]).toEqual([['a', 1], ['b', 1], ['c', 1]]);
    expect(totalWeight(config)).toBe(3);
  });

  it('takes weights from a record or a map, and learners beside them', () => {
    const fromRecord = configuration({ a: 3, b: 2, c: 2 }, ['d']);
    const fromMap = configuration(new Map([['a', 3], ['b', 2], ['c', 2]]), new Set(['d']));
    expect(totalWeight(fromRecord)).toBe(7);
    expect([...fromRecord.learners]).toEqual(['d']);
    expect(configurationsEqual(fromRecord, fromMap)).toBe(true);
    expect(configurationsEqual(fromRecord, configuration({ a: 3, b: 2, c: 1 }, ['d']))).toBe(false);
  });

  it.each([
    ['no voters', () => configuration([])],
    ['a negative weight', () => configuration({ a: 1, b: -1 })],
    ['a fractional weight', () => configuration({ a: 1.5, b: 1 })],
    ['a zero total', () => configuration({ a: 0, b: 0 })],
    ['an empty id', () => configuration({ '': 1 })],
    ['a voter that is also a learner', () => configuration(['a', 'b'], ['b'])],
  ])('refuses %s with ConfigurationError', (_, build) => {
    expect(build).toThrow(ConfigurationError);
  });

  it('allows zero-weight voters when the total is positive', () => {
    expect(totalWeight(configuration({ a: 0, b: 2 }))).toBe(2);
  });

  it('round-trips through its JSON form with sorted ids', () => {
    const config = configuration({ c: 1, a: 5 }, ['z', 'y']);
    const json = configurationToJSON(config);
    expect(json).toEqual({ voters: { a: 5, c: 1 }, learners: ['y', 'z'] });
    expect(configurationsEqual(configurationFromJSON(json), config)).toBe(true);
  });

  it('lists members and voters of both halves of a joint configuration', () => {
    const joint = { incoming: configuration(['a', 'b', 'd']), outgoing: configuration(['a', 'b', 'c'], ['e']) };
    expect(isJoint(joint)).toBe(true);
    expect(isJoint({ incoming: joint.incoming })).toBe(false);
    expect([...members(joint)].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(isVoter(joint, 'c')).toBe(true);
    expect(isVoter(joint, 'e')).toBe(false);
  });
});

describe('errors', () => {
  it('carry a code, a name and a cause', () => {
    const cause = new Error('disk full');
    const err = new TimeoutError('propose timed out', { cause });
    expect(err).toBeInstanceOf(GreenraftError);
    expect(err.code).toBe('TIMEOUT');
    expect(err.name).toBe('TimeoutError');
    expect(err.cause).toBe(cause);
  });

  it('NotLeaderError names the known leader', () => {
    expect(new NotLeaderError('b').leader).toBe('b');
    expect(new NotLeaderError('b').message).toContain('b');
    expect(new NotLeaderError(undefined).leader).toBeUndefined();
  });

  it('StateMachineError names the failed operation and keeps what the state machine threw', () => {
    const cause = new RangeError('balance overflow');
    const err = new StateMachineError('apply', 'the state machine failed to apply entry 7', { cause });
    expect(err).toBeInstanceOf(GreenraftError);
    expect(err.code).toBe('STATE_MACHINE');
    expect(err.name).toBe('StateMachineError');
    expect(err.operation).toBe('apply');
    expect(err.cause).toBe(cause);
  });
});
