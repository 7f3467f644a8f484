/**
 * The server side of the control API (./protocol.ts), which `serveDashboard` mounts at
 * `/v1/control` when it is given a backend: a bearer token compared in constant time, the
 * page's own origin only (an `Origin` of another site is refused, and so is a `Host` that is not
 * the loopback address the server listens on, which stops DNS rebinding), JSON bodies of at most
 * {@link MAX_CONTROL_BODY_BYTES}, and every failure answered with a code and a message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError, isGreenraftError } from '@greenraft/consensus';
import type { ControlBackend } from '../sources/source.js';
import {
  BACKEND_CONTROLS,
  CONTROL_ERROR_STATUS,
  CONTROL_PATH,
  type ControlDescription,
  type ControlErrorCode,
  MAX_CONTROL_BODY_BYTES,
  isApiControl,
  parseControlRequest,
  runControlRequest,
} from './protocol.js';

/** The automatic trading rounds of a supervisor, which the page can pause and resume. */
export interface AutoRounds {
  /** The period now, ms (0: off). */
  readonly everyMs: number;
  /** Sets the period (0 pauses). */
  set(everyMs: number): void;
}

/** What `serveDashboard` needs to serve the control API. */
export interface DashboardControl {
  /** The controls, acting on the node processes. */
  readonly backend: ControlBackend;
  /** The bearer token every request must carry (at least 16 characters). */
  readonly token: string;
  /** The supervisor's automatic trading rounds, if it runs them. */
  readonly autoRounds?: AutoRounds;
  /** Called when a page connects (an authenticated `GET /v1/control`), before it is answered. */
  readonly onConnect?: () => void;
}

class ControlApiError extends Error {
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The hosts a loopback server answers to: its own address, and `localhost`, on its port. */
function loopbackHosts(host: string, port: number): Set<string> | undefined {
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
  if (!loopback) return undefined;
  const shown = host.includes(':') ? `[${host}]` : host;
  return new Set([`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ControlApiError('UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_CONTROL_BODY_BYTES) throw new ControlApiError('TOO_LARGE', `the body is over ${MAX_CONTROL_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY_BYTES) throw new ControlApiError('TOO_LARGE', `the body is over ${MAX_CONTROL_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ControlApiError('INVALID_ARGUMENT', 'the body is not JSON');
  }
}

/**
 * The handler of `/v1/control…` requests, for a server listening on `address`. It answers every
 * request itself (it never throws).
 */
export function controlApiHandler(control: DashboardControl, address: () => { host: string; port: number }): (request: IncomingMessage, response: ServerResponse, path: string) => Promise<void> {
  if (typeof control?.token !== 'string' || control.token.length < 16) throw new InvalidArgumentError('serveDashboard: control.token must be a string of at least 16 characters');
  if (typeof control.backend !== 'object' || control.backend === null) throw new InvalidArgumentError('serveDashboard: control.backend must be an object of controls');
  const expected = digest(`Bearer ${control.token}`);
  const offered = BACKEND_CONTROLS.filter((name) => typeof control.backend[name] === 'function');

  const answer = (response: ServerResponse, status: number, body: unknown) => {
    const bytes = Buffer.from(JSON.stringify(body));
    response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    response.end(bytes);
  };

  const check = (request: IncomingMessage) => {
    const { host, port } = address();
    const hosts = loopbackHosts(host, port);
    const claimed = request.headers.host ?? '';
    if (hosts !== undefined && !hosts.has(claimed)) throw new ControlApiError('FORBIDDEN', `requests must name this server (${host}:${port}) as their host`);
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${claimed}` && origin !== `https://${claimed}`) throw new ControlApiError('FORBIDDEN', 'requests from other origins are refused');
    const given = digest(request.headers.authorization ?? '');
    if (!timingSafeEqual(given, expected)) throw new ControlApiError('UNAUTHENTICATED', 'a valid bearer token is required (the one greenraft cluster printed with the dashboard address)');
  };

  return async (request, response, path) => {
    try {
      check(request);
      const name = path === CONTROL_PATH || path === `${CONTROL_PATH}/` ? '' : path.slice(CONTROL_PATH.length + 1);
      if (name === '') {
        if (request.method !== 'GET') throw new ControlApiError('METHOD_NOT_ALLOWED', `${CONTROL_PATH} answers GET`);
        control.onConnect?.();
        const description: ControlDescription = { controls: offered, ...(control.autoRounds === undefined ? {} : { autoRoundMs: control.autoRounds.everyMs }) };
        return answer(response, 200, description);
      }
      if (!isApiControl(name)) throw new ControlApiError('NOT_FOUND', `no control ${JSON.stringify(name)}`);
      if (request.method !== 'POST') throw new ControlApiError('METHOD_NOT_ALLOWED', `${CONTROL_PATH}/${name} answers POST`);
      const parsed = parseControlRequest(name, await readBody(request));
      if (parsed.control === 'autoRounds') {
        if (control.autoRounds === undefined) throw new ControlApiError('UNSUPPORTED_CONTROL', 'this supervisor runs no automatic rounds');
        control.autoRounds.set(parsed.everyMs);
        return answer(response, 200, { result: { everyMs: control.autoRounds.everyMs } });
      }
      if (!offered.includes(parsed.control)) throw new ControlApiError('UNSUPPORTED_CONTROL', `${parsed.control} is not offered by this supervisor`);
      const result = await runControlRequest(control.backend, parsed);
      return answer(response, 200, { result: result ?? null });
    } catch (error) {
      const code: ControlErrorCode =
        error instanceof ControlApiError
          ? error.code
          : isGreenraftError(error) && (error.code === 'INVALID_ARGUMENT' || error.code === 'CONTROL_FAILED' || error.code === 'UNSUPPORTED_CONTROL')
            ? error.code
            : 'INTERNAL';
      const message = code === 'INTERNAL' ? `the control failed unexpectedly: ${(error as Error)?.message ?? String(error)}` : (error as Error).message;
      if (!response.headersSent) answer(response, CONTROL_ERROR_STATUS[code], { error: { code, message } });
      else response.destroy();
    }
  };
}
