/**
 * The page's entry: picks the data source and mounts the dashboard.
 * - `?mode=live&endpoints=http://127.0.0.1:7101,http://127.0.0.1:7102`: the nodes of a running cluster;
 * - otherwise the `greenraft-dashboard` meta tag the server wrote into the page, when it wrote one
 *   (`{ "mode": "live", "endpoints": [...] }`);
 * - otherwise a cluster in this page (`?seed=7` picks its seed, `?rounds=0` pauses its automatic rounds).
 */
import './browser/polyfills.js';
import { mountDashboard } from './app.js';
import { inBrowserSource } from './sources/in-browser/in-browser-source.js';
import { liveSource } from './sources/live/live-source.js';
import './styles.css';

interface PageConfig {
  readonly mode?: 'live' | 'in-browser';
  readonly endpoints?: readonly string[];
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
    await mountDashboard(liveSource({ endpoints: config.endpoints ?? [] }));
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
