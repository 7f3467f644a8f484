import { messageProblem } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { everyMessageType } from './transport-messages.js';

describe('messageProblem', () => {
  it('accepts a well-formed message of every type', () => {
    const messages = everyMessageType('a', 'b');
    expect(new Set(messages.map((message) => message.type)).size).toBe(11);
    for (const message of messages) expect(messageProblem(message, 'b'), message.type).toBeUndefined();
  });

  it('names what is wrong with a malformed message', () => {
    const [first] = everyMessageType('a', 'b');
    expect(messageProblem(undefined, 'b')).toBe('the message is not an object');
    expect(messageProblem({ ...first, type: 'gossip' }, 'b')).toBe('unknown message type gossip');
    expect(messageProblem({ ...first, term: -1 }, 'b')).toMatch(/term must be an integer/);
    expect(messageProblem({ ...first, from: '' }, 'b')).toMatch(/from and to must be node ids/);
    expect(messageProblem(first, 'c')).toMatch(/addressed to b, not to c/);
    const append = { type: 'appendRequest', from: 'a', to: 'b', term: 2, prevLogIndex: 4, prevLogTerm: 1, commitIndex: 3 };
    const entry = (index: number) => ({ type: 'normal', index, term: 2, data: Uint8Array.of(1) });
    expect(messageProblem({ ...append, entries: [entry(5), entry(6)] }, 'b')).toBeUndefined();
    expect(messageProblem({ ...append, entries: [entry(5), entry(7)] }, 'b')).toBe('appendRequest: entry 1 is out of sequence');
    expect(messageProblem({ ...append, entries: [{ ...entry(5), data: 'bytes' }] }, 'b')).toBe('appendRequest: entry 0 has no Uint8Array data');
    expect(messageProblem({ ...append, entries: [{ type: 'config', index: 5, term: 2, config: { incoming: { voters: {}, learners: [] } } }] }, 'b')).toBe(
      'appendRequest: entry 0 has an invalid configuration',
    );
  });
});
