import { configuration } from '@greenraft/consensus';
import type { ClusterConfig, Message, NodeId } from '@greenraft/consensus';


/**
 * One message of every {@link Message} type from `from` to `to`, each with every optional
 * field set and binary payloads, a joint configuration and log entries of both kinds, so a
 * transport that loses or mangles any field shows it.
 *
 * @example
 * ```ts
 * for (const message of everyMessageType('a', 'b')) transport.send(message);
 * ```
 */
export function everyMessageType(from: NodeId, to: NodeId): Message[] {
  const joint: ClusterConfig = {
    incoming: configuration({ [from]: 3, [to]: 2, carbonNeutralFarm: 1 }, ['observer']),
    outgoing: configuration([from, to, 'retiredPlant']),
  };
  return [
    { type: 'voteRequest', from, to, term: 7, preVote: true, lastLogIndex: 41, lastLogTerm: 6, transfer: false },
    { type: 'voteResponse', from, to, term: 7, preVote: false, granted: true },
    {
      type: 'appendRequest',
      from,
      to,
      term: 7,
      prevLogIndex: 40,
      prevLogTerm: 6,
      commitIndex: 39,
      entries: [
        { type: 'normal', term: 7, index: 41, data: new Uint8Array([0, 1, 2, 254, 255]) },
        { type: 'normal', term: 7, index: 42, data: new Uint8Array(0) },
        { type: 'config', term: 7, index: 43, config: joint },
      ],
    },
    { type: 'appendResponse', from, to, term: 7, success: false, index: 40, hintIndex: 35, hintTerm: 5 },
    { type: 'heartbeat', from, to, term: 7, commitIndex: 43, context: 'read-1' },
    { type: 'heartbeatResponse', from, to, term: 7, context: 'read-1' },
    {
      type: 'snapshotRequest',
      from,
      to,
      term: 7,
      metadata: { index: 100, term: 6, config: joint },
      offset: 4096,
      chunk: Uint8Array.from({ length: 512 }, (_, i) => (i * 31) % 256),
      done: true,
    },
    { type: 'snapshotResponse', from, to, term: 7, index: 100, offset: 4608, done: true },
    { type: 'timeoutNow', from, to, term: 8 },
    { type: 'readIndexRequest', from, to, term: 8, context: 'read-2' },
    { type: 'readIndexResponse', from, to, term: 8, context: 'read-2', index: -1 },
  ];
}
