/**
 * The control API a supervisor of node processes serves beside the page (`greenraft cluster`):
 * one `POST /v1/control/<control>` per control of {@link ControlBackend}, a JSON body in and a
 * JSON answer out, authenticated by a bearer token. `GET /v1/control` says which controls the
 * supervisor offers. Both ends, the page's {@link connectControl} and the server's handler, check
 * requests with the functions of this module.
 */
import { InvalidArgumentError } from '@greenraft/consensus';
import { type ControlBackend, UnsupportedControlError } from '../sources/source.js';

/** Where the control API is mounted on the page's server. */
export const CONTROL_PATH = '/v1/control';

/** The controls a supervisor can offer, as the API names them (the {@link ControlBackend} methods). */
export const BACKEND_CONTROLS = ['crash', 'restart', 'partition', 'heal', 'proposeTrade', 'runRound', 'setScoring'] as const;

/** A control of the API: a backend control, or the automatic rounds. */
export type ApiControl = (typeof BACKEND_CONTROLS)[number] | 'autoRounds';

/** The largest request body the API reads, bytes. */
export const MAX_CONTROL_BODY_BYTES = 16 * 1024;

/** What `GET /v1/control` answers. */
export interface ControlDescription {
  /** The backend controls offered. */
  readonly controls: readonly (typeof BACKEND_CONTROLS)[number][];
  /** The period of the supervisor's automatic trading rounds, ms (0: off), when it runs them. */
  readonly autoRoundMs?: number;
}

/** The error codes of the API's answers. */
export type ControlErrorCode = 'INVALID_ARGUMENT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'UNSUPPORTED_CONTROL' | 'CONTROL_FAILED' | 'INTERNAL';

/** The HTTP status of each error code. */
export const CONTROL_ERROR_STATUS: Readonly<Record<ControlErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_CONTROL: 501,
  CONTROL_FAILED: 503,
  INTERNAL: 500,
};

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function fields(body: unknown, control: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError(`${control}: the body must be a JSON object`);
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw new InvalidArgumentError(`${control}: unknown field ${JSON.stringify(unknown)}`);
  return record;
}

function nodeId(value: unknown, control: string, field: string): string {
  if (typeof value !== 'string' || !NODE_ID.test(value)) throw new InvalidArgumentError(`${control}: ${field} must be a node id`);
  return value;
}

function finite(value: unknown, control: string, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError(`${control}: ${field} must be a number`);
  return value;
}

/** A checked request of the API: the control and its arguments, as the backend takes them. */
export type ControlRequest =
  | { readonly control: 'crash' | 'restart'; readonly node: string }
  | { readonly control: 'partition'; readonly a: string; readonly b: string }
  | { readonly control: 'heal'; readonly a?: string; readonly b?: string }
  | { readonly control: 'proposeTrade'; readonly seller: string; readonly buyer: string; readonly kWh: number; readonly unitPrice: number }
  | { readonly control: 'runRound' }
  | { readonly control: 'setScoring'; readonly choice: string }
  | { readonly control: 'autoRounds'; readonly everyMs: number };

/** True for a control the API knows. */
export function isApiControl(name: string): name is ApiControl {
  return name === 'autoRounds' || (BACKEND_CONTROLS as readonly string[]).includes(name);
}

/**
 * Checks the body of a request for `control`.
 * @throws {@link InvalidArgumentError} naming the field at fault.
 */
export function parseControlRequest(control: ApiControl, body: unknown): ControlRequest {
  switch (control) {
    case 'crash':
    case 'restart':
      return { control, node: nodeId(fields(body, control, ['node']).node, control, 'node') };
    case 'partition': {
      const f = fields(body, control, ['a', 'b']);
      const a = nodeId(f.a, control, 'a');
      const b = nodeId(f.b, control, 'b');
      if (a === b) throw new InvalidArgumentError('partition: a and b must be two different nodes');
      return { control, a, b };
    }
    case 'heal': {
      const f = fields(body, control, ['a', 'b']);
      if (f.a === undefined && f.b === undefined) return { control };
      const a = nodeId(f.a, control, 'a');
      const b = nodeId(f.b, control, 'b');
      if (a === b) throw new InvalidArgumentError('heal: a and b must be two different nodes');
      return { control, a, b };
    }
    case 'proposeTrade': {
      const f = fields(body, control, ['seller', 'buyer', 'kWh', 'unitPrice']);
      return { control, seller: nodeId(f.seller, control, 'seller'), buyer: nodeId(f.buyer, control, 'buyer'), kWh: finite(f.kWh, control, 'kWh'), unitPrice: finite(f.unitPrice, control, 'unitPrice') };
    }
    case 'runRound':
      fields(body, control, []);
      return { control };
    case 'setScoring': {
      const choice = fields(body, control, ['choice']).choice;
      if (typeof choice !== 'string' || choice.length === 0 || choice.length > 128) throw new InvalidArgumentError('setScoring: choice must name a scoring strategy');
      return { control, choice };
    }
    case 'autoRounds': {
      const everyMs = fields(body, control, ['everyMs']).everyMs;
      if (!(typeof everyMs === 'number' && Number.isInteger(everyMs) && everyMs >= 0 && everyMs <= 3_600_000)) {
        throw new InvalidArgumentError('autoRounds: everyMs must be an integer from 0 (off) to 3600000');
      }
      return { control, everyMs };
    }
  }
}

/** Runs a checked request on `backend`; resolves with what the answer's `result` carries. */
export async function runControlRequest(backend: ControlBackend, request: Exclude<ControlRequest, { control: 'autoRounds' }>): Promise<unknown> {
  const handler = <K extends keyof ControlBackend>(name: K): NonNullable<ControlBackend[K]> => {
    const found = backend[name];
    if (typeof found !== 'function') throw new UnsupportedControlError(name, `${name} is not offered by this supervisor`);
    return found.bind(backend) as NonNullable<ControlBackend[K]>;
  };
  switch (request.control) {
    case 'crash':
      return handler('crash')(request.node);
    case 'restart':
      return handler('restart')(request.node);
    case 'partition':
      return handler('partition')(request.a, request.b);
    case 'heal':
      return request.a === undefined ? handler('heal')() : handler('heal')(request.a, request.b);
    case 'proposeTrade':
      return handler('proposeTrade')({ seller: request.seller, buyer: request.buyer, kWh: request.kWh, unitPrice: request.unitPrice });
    case 'runRound':
      return handler('runRound')();
    case 'setScoring':
      return handler('setScoring')(request.choice);
  }
}
