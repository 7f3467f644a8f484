/**
 * The frames of the client WebSocket protocol (docs/client-protocol.md) and the checks of what a
 * node sends. Nothing a node sends reaches the caller unchecked: an answer is an object with a
 * non-negative integer `id` and `ok`, an event an object with a string `event`.
 */
import type { LeaderHint, WireError } from './errors.js';

/** The protocol version this client speaks (`hello` answers `protocol`). */
export const PROTOCOL_VERSION = 1;

/** A JSON value, as results and events carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A decoded frame from a node. */
export type ServerFrame =
  | { readonly kind: 'answer'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly kind: 'answer'; readonly id: number; readonly ok: false; readonly error: WireError }
  | { readonly kind: 'event'; readonly event: string; readonly data: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A leader hint from an answer: `leader` as an id or `{ id, url | clientUrl }`, and `leaderUrl`. */
export function leaderHint(leader: unknown, leaderUrl: unknown): LeaderHint | undefined {
  if (typeof leader === 'string' && leader !== '') return { id: leader, url: typeof leaderUrl === 'string' && leaderUrl !== '' ? leaderUrl : undefined };
  if (isRecord(leader) && typeof leader.id === 'string' && leader.id !== '') {
    const url = typeof leader.url === 'string' ? leader.url : typeof leader.clientUrl === 'string' ? leader.clientUrl : leaderUrl;
    return { id: leader.id, url: typeof url === 'string' && url !== '' ? url : undefined };
  }
  return undefined;
}

/**
 * Decodes one text frame; returns a string saying what is wrong when it is not a frame of the
 * protocol (the connection is then closed as broken).
 */
export function decodeFrame(text: string): ServerFrame | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'a frame is not valid JSON';
  }
  if (!isRecord(value)) return 'a frame is not a JSON object';
  if (typeof value.event === 'string') return { kind: 'event', event: value.event, data: value.data };
  const { id } = value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return 'an answer has no valid id';
  if (value.ok === true) return { kind: 'answer', id, ok: true, result: value.result };
  if (value.ok !== false) return `answer ${id} has no boolean ok`;
  const error = value.error;
  if (!isRecord(error) || typeof error.code !== 'string') return `answer ${id} has no error code`;
  const retryAfterMs = typeof error.retryAfterMs === 'number' && Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0 ? error.retryAfterMs : undefined;
  return {
    kind: 'answer',
    id,
    ok: false,
    error: {
      code: error.code,
      message: typeof error.message === 'string' ? error.message : error.code,
      leader: leaderHint(error.leader, error.leaderUrl),
      retryAfterMs,
      reason: typeof error.reason === 'string' ? error.reason : undefined,
    },
  };
}

/** What `hello` answers: the node, the leader it knows, the protocol version. */
export interface HelloResult {
  /** The id of the node the client is connected to. */
  readonly node: string;
  /** The leader that node knows of, if any. */
  readonly leader: LeaderHint | undefined;
  readonly protocol: number;
}

/** Checks a `hello` result; a string says what is wrong. */
export function parseHello(result: unknown): HelloResult | string {
  if (!isRecord(result) || typeof result.node !== 'string') return 'the hello answer names no node';
  const protocol = typeof result.protocol === 'number' ? result.protocol : PROTOCOL_VERSION;
  return { node: result.node, leader: leaderHint(result.leader, result.leaderUrl), protocol };
}

/** The result checks of each operation: the fields the client reads, with their types. */
type FieldType = 'number' | 'boolean' | 'string|null' | 'object' | 'any';

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string|null':
      return value === null || typeof value === 'string';
    case 'object':
      return isRecord(value);
    case 'any':
      return value !== undefined;
  }
}

/** Checks that `result` is an object with `fields` of the given types; a string says what is wrong. */
export function checkResult(result: unknown, fields: Readonly<Record<string, FieldType>>, op: string): string | undefined {
  if (!isRecord(result)) return `the ${op} answer is not an object`;
  for (const [field, type] of Object.entries(fields)) {
    // A read of an absent key may leave `value` out rather than send null.
    const value = field === 'value' && !(field in result) ? null : result[field];
    if (!hasType(value, type)) return `the ${op} answer has no valid ${field}`;
  }
  return undefined;
}

/**
 * `http://host:port` (a node's client URL, as `leaderUrl` and `--endpoints` give it) or
 * `ws://host:port[/v1/ws]` → the WebSocket URL of the client protocol; `undefined` when
 * `endpoint` is not one of those.
 */
export function websocketUrl(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const scheme = schemes[url.protocol];
  if (scheme === undefined || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined;
  const path = url.pathname === '/' || url.pathname === '' ? '/v1/ws' : url.pathname.replace(/\/+$/, '');
  if (path !== '/v1/ws') return undefined;
  return `${scheme}//${url.host}${path}`;
}
