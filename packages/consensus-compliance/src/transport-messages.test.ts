import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from '@greenraft/consensus';
import { everyMessageType } from './transport-messages.js';

describe('everyMessageType', () => {
  it('gives one message of each type, addressed from → to, in MESSAGE_TYPES order', () => {
    const messages = everyMessageType('plant-7', 'grid-operator');
    expect(messages.map((message) => message.type)).toEqual([...MESSAGE_TYPES]);
    expect(new Set(MESSAGE_TYPES).size).toBe(11);
    for (const message of messages) {
      expect([message.from, message.to]).toEqual(['plant-7', 'grid-operator']);
      expect(Number.isSafeInteger(message.term) && message.term >= 0).toBe(true);
    }
  });

  it('builds fresh objects on every call, so a transport that mutates one cannot fake a pass', () => {
    const first = everyMessageType('a', 'b');
    const second = everyMessageType('a', 'b');
    expect(second).toEqual(first);
    expect(second[2]).not.toBe(first[2]);
    const append = first[2] as Extract<(typeof first)[number], { type: 'appendRequest' }>;
    (append.entries[0] as { data: Uint8Array }).data[0] = 200;
    expect(second).not.toEqual(first);
  });

  it('carries binary payloads and a joint weighted configuration with learners', () => {
    const append = everyMessageType('a', 'b')[2] as Extract<ReturnType<typeof everyMessageType>[number], { type: 'appendRequest' }>;
    const config = append.entries[2]!;
    expect(config.type).toBe('config');
    if (config.type !== 'config') return;
    expect([...config.config.incoming.voters]).toEqual([['a', 3], ['b', 2], ['carbonNeutralFarm', 1]]);
    expect([...config.config.incoming.learners]).toEqual(['observer']);
    expect(config.config.outgoing?.voters.size).toBe(3);
    expect(append.entries[0]).toMatchObject({ data: new Uint8Array([0, 1, 2, 254, 255]) });
  });
});
