/**
 * Serves the built dashboard page over HTTP: GET and HEAD of the page's files only, with a
 * Content-Security-Policy that lets the page reach its own origin and, in live mode, the nodes
 * it is given, and nothing else. The page reads its mode from a `greenraft-dashboard` meta tag
 * that the server writes into `index.html` from `config`. Given a `control` backend, the same
 * server answers the control API at `/v1/control` (./control/api.ts).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, integerOption } from '@greenraft/consensus';
import { type DashboardControl, controlApiHandler } from './control/api.js';
import { CONTROL_PATH } from './control/protocol.js';

/** What the page shows: a cluster inside it, or the nodes of a running cluster. */
export interface DashboardPageConfig {
  readonly mode: 'in-browser' | 'live';
  /** Live mode: every node's client URL (`http://host:port`). */
  readonly endpoints?: readonly string[];
  /**
   * Live mode: the server also answers the control API (a supervisor of the node processes);
   * the page takes the token from its address (`#token=…`).
   */
  readonly control?: boolean;
}

/** Options of {@link serveDashboard}. */
export interface ServeDashboardInit {
  /**
   * The folder of the built page (`index.html` and `assets/`).
   * @default the page built beside this module (`dist/page`)
   */
  root?: string;
  /**
   * The address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The port; 0 lets the system pick a free one.
   * @default 0
   */
  port?: number;
  /**
   * Written into the page: its mode and, live, the nodes it connects to.
   * @default none: the page runs its in-browser cluster
   */
  config?: DashboardPageConfig;
  /**
   * The controls of a supervisor of the node processes, answered at `/v1/control` with a bearer
   * token (live mode only; `config.control` is then set for the page).
   * @default none: the server serves the page's files only
   */
  control?: DashboardControl;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** `http://host:port/`. */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The built page next to this module, once the app is built (`dist/index.js` beside `dist/page/`). */
export const BUILT_PAGE = fileURLToPath(new URL('./page/', import.meta.url));

function checkConfig(config: DashboardPageConfig | undefined): DashboardPageConfig | undefined {
  if (config === undefined) return undefined;
  if (config.mode !== 'live' && config.mode !== 'in-browser') throw new InvalidArgumentError("serveDashboard: config.mode must be 'live' or 'in-browser'");
  const endpoints = config.endpoints ?? [];
  if (!Array.isArray(endpoints) || !endpoints.every((url) => typeof url === 'string' && URL.canParse(url) && /^(https?|wss?):$/.test(new URL(url).protocol))) {
    throw new InvalidArgumentError('serveDashboard: config.endpoints must be http(s) or ws(s) URLs');
  }
  if (config.mode === 'live' && endpoints.length === 0) throw new InvalidArgumentError('serveDashboard: live mode needs at least one endpoint');
  if (config.control !== undefined && typeof config.control !== 'boolean') throw new InvalidArgumentError('serveDashboard: config.control must be a boolean');
  return { mode: config.mode, endpoints: [...endpoints], ...(config.control === true ? { control: true } : {}) };
}

/** `connect-src`: the page's origin, and each node's origin in both its HTTP and WebSocket forms. */
function connectSources(config: DashboardPageConfig | undefined): string {
  const sources = new Set(["'self'"]);
  for (const endpoint of config?.endpoints ?? []) {
    const url = new URL(endpoint);
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    sources.add(`${secure ? 'https' : 'http'}://${url.host}`);
    sources.add(`${secure ? 'wss' : 'ws'}://${url.host}`);
  }
  return [...sources].join(' ');
}

/**
 * Serves the dashboard page. Resolves once it listens.
 * @throws {@link InvalidArgumentError} for a bad `config`, a bad port or a root without `index.html`.
 */
export async function serveDashboard(init: ServeDashboardInit = {}): Promise<DashboardServer> {
  let config = checkConfig(init.config);
  if (init.control !== undefined) {
    if (config?.mode !== 'live') throw new InvalidArgumentError('serveDashboard: control needs config.mode live');
    config = { ...config, control: true };
  }
  const port = integerOption('serveDashboard: port', init.port ?? 0, { min: 0, max: 65535 });
  const root = await realpath(resolve(init.root ?? BUILT_PAGE)).catch(() => undefined);
  if (root === undefined || !(await stat(join(root, 'index.html')).catch(() => undefined))?.isFile()) {
    throw new InvalidArgumentError(`serveDashboard: no built page at ${init.root ?? BUILT_PAGE} (build it: npm run build -w @greenraft/dashboard)`);
  }
  const policy = [
    "default-src 'self'",
    `connect-src ${connectSources(config)}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
  const attribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const meta = config === undefined ? '' : `<meta name="greenraft-dashboard" content="${attribute(JSON.stringify(config))}" />`;

  const answer = (response: ServerResponse, status: number, body: Buffer | string, type: string, head: boolean, extra: Record<string, string> = {}) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    response.writeHead(status, {
      'Content-Type': type,
      'Content-Length': bytes.length,
      'Content-Security-Policy': policy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      ...extra,
    });
    response.end(head ? undefined : bytes);
  };

  let bound = { host: init.host ?? '127.0.0.1', port: 0 };
  const control = init.control === undefined ? undefined : controlApiHandler(init.control, () => bound);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const head = request.method === 'HEAD';
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://dashboard').pathname);
    } catch {
      return answer(response, 400, 'bad path\n', 'text/plain; charset=utf-8', head);
    }
    if (control !== undefined && (path === CONTROL_PATH || path.startsWith(`${CONTROL_PATH}/`))) return control(request, response, path);
    if (request.method !== 'GET' && !head) return answer(response, 405, 'method not allowed\n', 'text/plain; charset=utf-8', head, { Allow: 'GET, HEAD' });
    if (path.includes('\0')) return answer(response, 400, 'bad path\n', 'text/plain; charset=utf-8', head);
    const relative = path.endsWith('/') ? `${path}index.html` : path;
    const file = resolve(root, `.${relative}`);
    // Nothing outside the page's folder, whatever the path or a symbolic link says.
    const real = await realpath(file).catch(() => undefined);
    if (real === undefined || (real !== root && !real.startsWith(root + sep))) return answer(response, 404, 'not found\n', 'text/plain; charset=utf-8', head);
    const info = await stat(real).catch(() => undefined);
    if (!info?.isFile()) return answer(response, 404, 'not found\n', 'text/plain; charset=utf-8', head);
    let body = await readFile(real);
    if (meta !== '' && real === join(root, 'index.html')) body = Buffer.from(body.toString('utf8').replace('<head>', `<head>\n    ${meta}`));
    // Built assets carry a content hash in their names: cache them for good; the page itself never.
    const cache = relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return answer(response, 200, body, CONTENT_TYPES[extname(real)] ?? 'application/octet-stream', head, { 'Cache-Control': cache });
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) answer(response, 500, 'internal error\n', 'text/plain; charset=utf-8', false);
      else response.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = init.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  bound = { host: address.address, port: address.port };
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
