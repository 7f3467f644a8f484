/** The one line the text output prints for a configuration, from the protocol's JSON form. */
import { configuration, configurationToJSON } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { describeConfiguration } from './config-text.js';

describe('describeConfiguration', () => {
  it('prints voters with weights, then learners, then the outgoing half of a joint change', () => {
    expect(describeConfiguration({ voters: { n1: 3, n2: 2 }, learners: [], outgoing: null })).toBe('n1=3 n2=2');
    expect(describeConfiguration({ voters: { n1: 3, n2: 2 }, learners: ['n4'], outgoing: null })).toBe('n1=3 n2=2 (learners: n4)');
    const joint = { ...configurationToJSON(configuration({ n3: 1, n1: 2 }, ['n5'])), outgoing: configurationToJSON(configuration({ n2: 1, n1: 1 }, ['n4'])) };
    expect(describeConfiguration(joint)).toBe('n1=2 n3=1 (learners: n5) (joint, outgoing: n1=1 n2=1 (learners: n4))');
  });

  it('reads an outgoing half given as a bare map of weights as its voters', () => {
    expect(describeConfiguration({ voters: { n1: 1 }, learners: [], outgoing: { n1: 1, n2: 1 } })).toBe('n1=1 (joint, outgoing: n1=1 n2=1)');
  });

  it('prints unknown for what is not a configuration', () => {
    for (const value of [undefined, null, 'n1=1', 3]) expect(describeConfiguration(value)).toBe('unknown');
    expect(describeConfiguration({})).toBe('');
  });
});
