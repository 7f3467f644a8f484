import type { MessageType } from './types.js';

const isIndex = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isSignedIndex = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= -1;
const isId = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
const isBoolean = (value: unknown): boolean => typeof value === 'boolean';
const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

type Fields = Record<string, (value: unknown) => boolean>;

/** The fields each message type must carry, beyond from/to/term, and how to check them. */
const FIELDS: Record<MessageType, Fields> = {
  voteRequest: { preVote: isBoolean, lastLogIndex: isIndex, lastLogTerm: isIndex, transfer: isBoolean },
  voteResponse: { preVote: isBoolean, granted: isBoolean },
  appendRequest: { prevLogIndex: isIndex, prevLogTerm: isIndex, entries: Array.isArray, commitIndex: isIndex },
  appendResponse: { success: isBoolean, index: isIndex, hintIndex: isIndex, hintTerm: isIndex },
  heartbeat: { commitIndex: isIndex, context: isOptionalString },
  heartbeatResponse: { context: isOptionalString },
  snapshotRequest: { metadata: isSnapshotMetadata, offset: isIndex, chunk: (value) => value instanceof Uint8Array, done: isBoolean },
  snapshotResponse: { index: isIndex, offset: isSignedIndex, done: isBoolean },
  timeoutNow: {},
  readIndexRequest: { context: (value) => typeof value === 'string' },
  readIndexResponse: { context: (value) => typeof value === 'string', index: isSignedIndex },
};

function isConfiguration(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { voters, learners } = value as { voters?: unknown; learners?: unknown };
  if (!(voters instanceof Map) || !(learners instanceof Set)) return false;
  for (const [id, weight] of voters) if (!isId(id) || !isIndex(weight)) return false;
  for (const id of learners) if (!isId(id)) return false;
  return true;
}

function isClusterConfig(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { incoming, outgoing } = value as { incoming?: unknown; outgoing?: unknown };
  return isConfiguration(incoming) && (outgoing === undefined || isConfiguration(outgoing));
}

function isSnapshotMetadata(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { index, term, config } = value as { index?: unknown; term?: unknown; config?: unknown };
  return isIndex(index) && isIndex(term) && isClusterConfig(config);
}

function entryProblem(entry: unknown, position: number): string | undefined {
  if (typeof entry !== 'object' || entry === null) return `entry ${position} is not an object`;
  const { type, index, term } = entry as { type?: unknown; index?: unknown; term?: unknown };
  if (!isIndex(index) || index === 0 || !isIndex(term)) return `entry ${position} has an invalid index or term`;
  if (type === 'normal') return (entry as { data?: unknown }).data instanceof Uint8Array ? undefined : `entry ${position} has no Uint8Array data`;
  if (type === 'config') return isClusterConfig((entry as { config?: unknown }).config) ? undefined : `entry ${position} has an invalid configuration`;
  return `entry ${position} has unknown type ${String(type)}`;
}

/** Every {@link MessageType}, in a fixed order. */
export const MESSAGE_TYPES: readonly MessageType[] = Object.freeze(Object.keys(FIELDS) as MessageType[]);

/**
 * Checks the envelope every message shares: a known `type`, node ids in `from` and `to`, an
 * integer `term` ≥ 0. Cheap enough for a transport to run on every send.
 *
 * @returns what is wrong, or `undefined`
 *
 * @example
 * ```ts
 * messageEnvelopeProblem({ type: 'timeoutNow', from: 'a', to: 'b', term: -1 }); // 'timeoutNow: term must be an integer ≥ 0'
 * ```
 */
export function messageEnvelopeProblem(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return 'the message is not an object';
  const { type, from, to, term } = message as { type?: unknown; from?: unknown; to?: unknown; term?: unknown };
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) return `unknown message type ${String(type)}`;
  if (!isId(from) || !isId(to)) return `${type}: from and to must be node ids`;
  if (!isIndex(term)) return `${type}: term must be an integer ≥ 0`;
  return undefined;
}

/**
 * Checks that a value received from a transport is a well-formed {@link Message} (every field of
 * its type, every entry of an append in sequence) and, when `localId` is given, addressed to it.
 * Transports and nodes run it on everything they decode, and drop what fails.
 *
 * @returns what is wrong, or `undefined` when the message may be stepped into the core
 *
 * @example
 * ```ts
 * const problem = messageProblem(decoded, 'n1');
 * if (problem !== undefined) throw new InvalidMessageError(problem);
 * ```
 */
export function messageProblem(message: unknown, localId?: string): string | undefined {
  const envelope = messageEnvelopeProblem(message);
  if (envelope !== undefined) return envelope;
  const { type, to } = message as { type: MessageType; to: string };
  if (localId !== undefined && to !== localId) return `${type}: addressed to ${to}, not to ${localId}`;
  for (const [field, valid] of Object.entries(FIELDS[type])) {
    if (!valid((message as Record<string, unknown>)[field])) return `${type}: invalid field ${field}`;
  }
  if (type === 'appendRequest') {
    const { entries, prevLogIndex } = message as { entries: unknown[]; prevLogIndex: number };
    for (let i = 0; i < entries.length; i++) {
      const problem = entryProblem(entries[i], i);
      if (problem !== undefined) return `appendRequest: ${problem}`;
      if ((entries[i] as { index: number }).index !== prevLogIndex + 1 + i) return `appendRequest: entry ${i} is out of sequence`;
    }
  }
  return undefined;
}
