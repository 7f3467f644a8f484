/**
 * The page's entry: picks the data source and mounts the dashboard.
 * - `?mode=live&endpoints=http://127.0.0.1:7101,http://127.0.0.1:7102`: the nodes of a running cluster;
 * - otherwise the `greenraft-dashboard` meta tag the server wrote into the page, when it wrote one
 *   (`{ "mode": "live", "endpoints": [...], "control": true }`); with `control`, the server is a
 *   supervisor of the node processes, and the token of its control API is in the address
 *   (`#token=…`, as `greenraft cluster` prints it);
 * - otherwise a cluster in this page (`?seed=7` picks its seed, `?rounds=0` pauses its automatic rounds).
 */
import './browser/polyfills.js';
import { mountDashboard } from './app.js';
import { type ControlConnection, connectControl, tokenFromFragment } from './control/connect.js';
import { inBrowserSource } from './sources/in-browser/in-browser-source.js';
import { liveSource } from './sources/live/live-source.js';
import './styles.css';

interface PageConfig {
  readonly mode?: 'live' | 'in-browser';
  readonly endpoints?: readonly string[];
  readonly control?: boolean;
}

/** The supervisor's controls, when the server is one and the address carries its token; else why not. */
async function supervisorControls(config: PageConfig): Promise<ControlConnection | string | undefined> {
  if (config.control !== true) return undefined;
  const token = tokenFromFragment(location.hash);
  if (token === undefined) return 'The process controls need the address greenraft cluster printed (it ends in #token=…).';
  try {
    return await connectControl({ token });
  } catch (error) {
    return `The process controls are unavailable: ${(error as Error).message}`;
  }
}

/** The configuration the server wrote into the page, if any. */
function servedConfig(): PageConfig | undefined {
  const content = document.querySelector<HTMLMetaElement>('meta[name="greenraft-dashboard"]')?.content;
  if (content === undefined || content === '') return undefined;
  try {
    return JSON.parse(content) as PageConfig;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const config: PageConfig =
    params.get('mode') !== null ? { mode: params.get('mode') === 'live' ? 'live' : 'in-browser', endpoints: (params.get('endpoints') ?? '').split(',').filter(Boolean) } : (servedConfig() ?? {});
  if (config.mode === 'live') {
    const control = await supervisorControls(config);
    const connected = typeof control === 'object' ? control : undefined;
    const source = liveSource({ endpoints: config.endpoints ?? [], ...(connected === undefined ? {} : { backend: connected.backend }) });
    const dashboard = await mountDashboard(source, {
      ...(connected?.autoRoundMs === undefined ? {} : { autoRoundMs: connected.autoRoundMs }),
      ...(connected?.setAutoRounds === undefined ? {} : { setAutoRounds: (ms: number) => void connected.setAutoRounds?.(ms).catch((error: Error) => console.error(error)) }),
    });
    if (typeof control === 'string') dashboard.model.apply({ type: 'log', at: Date.now(), level: 'warn', text: control });
    (globalThis as { greenraftDashboard?: unknown }).greenraftDashboard = dashboard;
    return;
  }
  const seed = Number(params.get('seed') ?? 1);
  const autoRoundMs = Number(params.get('rounds') ?? 4000);
  const source = inBrowserSource({ seed: Number.isFinite(seed) ? seed : 1, autoRoundMs: Number.isFinite(autoRoundMs) && autoRoundMs >= 0 ? autoRoundMs : 4000 });
  const dashboard = await mountDashboard(source, { autoRoundMs, setAutoRounds: (ms) => source.controls.setAutoRounds(ms) });
  // For scripts that drive the page (the screenshot script, the browser test).
  (globalThis as { greenraftDashboard?: unknown }).greenraftDashboard = dashboard;
}

main().catch((error: Error) => {
  const status = document.getElementById('summary');
  if (status !== null) status.textContent = `The dashboard could not start: ${error.message}`;
  console.error(error);
});
