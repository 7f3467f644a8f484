/**
 * The page's side of the control API (./protocol.ts): a {@link ControlBackend} whose controls are
 * requests to the supervisor that served the page. The token comes from the address the
 * supervisor printed (`…/#token=…`): a fragment is never sent to a server, so the page itself
 * holds no secret.
 */
import { InvalidArgumentError } from '@greenraft/consensus';
import { type ControlBackend, ControlFailedError, type ControlName, UnsupportedControlError } from '../sources/source.js';
import { type ApiControl, BACKEND_CONTROLS, CONTROL_PATH, type ControlDescription } from './protocol.js';

/** Options of {@link connectControl}. */
export interface ConnectControlInit {
  /** The bearer token the supervisor printed. */
  readonly token: string;
  /**
   * The origin of the supervisor.
   * @default the page's own origin
   */
  readonly origin?: string;
  /**
   * How long one control may take, ms (a restart waits for the node to answer).
   * @default 60000
   */
  readonly timeoutMs?: number;
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
}

/** A connected control API: its backend, and the supervisor's automatic rounds when it runs them. */
export interface ControlConnection {
  readonly backend: ControlBackend;
  /** The period of the automatic rounds when the page connected, ms (0: off); absent when the supervisor runs none. */
  readonly autoRoundMs?: number;
  /** Pauses (0) or sets the period of the supervisor's automatic rounds. */
  setAutoRounds?(everyMs: number): Promise<void>;
}

/** The token in an address's fragment (`#token=…`), if any. */
export function tokenFromFragment(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token === null || token === '' ? undefined : token;
}

/**
 * Asks the supervisor which controls it offers and returns a backend of those.
 * @throws {@link ControlFailedError} when the supervisor cannot be reached or refuses the token.
 */
export async function connectControl(init: ConnectControlInit): Promise<ControlConnection> {
  if (typeof init?.token !== 'string' || init.token === '') throw new InvalidArgumentError('connectControl: a token is required');
  const origin = init.origin ?? globalThis.location?.origin;
  if (origin === undefined) throw new InvalidArgumentError('connectControl: origin is required outside a page');
  const doFetch = init.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = init.timeoutMs ?? 60_000;
  const headers = { authorization: `Bearer ${init.token}`, 'content-type': 'application/json' };

  const call = async (control: ApiControl | '', body?: unknown): Promise<unknown> => {
    const label: ControlName = control === '' || control === 'autoRounds' ? 'runRound' : control;
    let response: Response;
    try {
      response = await doFetch(`${origin}${CONTROL_PATH}${control === '' ? '' : `/${control}`}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ControlFailedError(label, `the supervisor did not answer: ${(error as Error).message}`, { cause: error });
    }
    let answer: { result?: unknown; error?: { code?: string; message?: string } } & Record<string, unknown>;
    try {
      answer = (await response.json()) as typeof answer;
    } catch (error) {
      throw new ControlFailedError(label, `the supervisor answered ${response.status} without JSON`, { cause: error });
    }
    if (response.ok) return control === '' ? answer : answer.result;
    const message = answer.error?.message ?? `the supervisor answered ${response.status}`;
    if (answer.error?.code === 'INVALID_ARGUMENT') throw new InvalidArgumentError(message);
    if (answer.error?.code === 'UNSUPPORTED_CONTROL') throw new UnsupportedControlError(label, message);
    throw new ControlFailedError(label, message);
  };

  const description = (await call('')) as ControlDescription;
  const offered = new Set(Array.isArray(description.controls) ? description.controls.filter((name) => (BACKEND_CONTROLS as readonly string[]).includes(name)) : []);
  const all: Required<ControlBackend> = {
    crash: async (node) => void (await call('crash', { node })),
    restart: async (node) => void (await call('restart', { node })),
    partition: async (a, b) => void (await call('partition', { a, b })),
    heal: async (a, b) => void (await call('heal', a === undefined && b === undefined ? {} : { a, b })),
    proposeTrade: async (trade) => (await call('proposeTrade', { seller: trade.seller, buyer: trade.buyer, kWh: trade.kWh, unitPrice: trade.unitPrice })) as Awaited<ReturnType<Required<ControlBackend>['proposeTrade']>>,
    runRound: async () => (await call('runRound', {})) as Awaited<ReturnType<Required<ControlBackend>['runRound']>>,
    setScoring: async (choice) => void (await call('setScoring', { choice })),
  };
  const backend: ControlBackend = Object.fromEntries(BACKEND_CONTROLS.filter((name) => offered.has(name)).map((name) => [name, all[name]]));
  if (typeof description.autoRoundMs !== 'number') return { backend };
  return {
    backend,
    autoRoundMs: description.autoRoundMs,
    setAutoRounds: async (everyMs) => void (await call('autoRounds', { everyMs })),
  };
}
