// The in-page cluster in Chromium: how long a trading round takes (4 entries of signed
// transactions, replicated to five nodes that each verify every signature), the commit latency
// the leader reports, entries per second, and the page's event-loop lag while it runs.
//   npm run build -w @greenraft/dashboard && node apps/dashboard/bench/in-browser.mjs [rounds]
// Figures are for this machine at the time: re-run them on a quiet one.
import { serveDashboard } from '../dist/index.js';
import { hasChromium, launchChromium } from '../scripts/chromium.mjs';

const rounds = Number(process.argv[2] ?? 20);
if (!hasChromium()) {
  console.error('bench: /usr/bin/chromium is missing (apt-get install -y chromium)');
  process.exit(1);
}
const server = await serveDashboard({ port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(`${server.url}?seed=3&rounds=0`);
  await page.locator('article.node[data-role="leader"]').first().waitFor();
  const figures = await page.evaluate(async (count) => {
    const { source, model } = globalThis.greenraftDashboard;
    const durations = [];
    const startIndex = model.leader()?.commitIndex ?? 0;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await source.controls.runRound();
      durations.push(performance.now() - t0);
    }
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const series = model.series();
    const latencies = series.map((p) => p.commitLatencyMs).filter((v) => v !== null);
    const lag = [...model.eventLoopLag().values()];
    durations.sort((a, b) => a - b);
    return {
      rounds: count,
      roundMsMedian: durations[Math.floor(count / 2)],
      roundMsMax: durations.at(-1),
      entriesPerSecond: ((model.leader()?.commitIndex ?? 0) - startIndex) / elapsed,
      commitLatencyMsMean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
      lagMsMean: lag.reduce((a, b) => a + b.meanMs, 0) / Math.max(1, lag.length),
      lagMsMax: Math.max(0, ...lag.map((l) => l.maxMs)),
      leaderChanges: model.leaderHistory().length - 1,
      handovers: model.log().filter((line) => line.text.includes('hands leadership')).length,
      ledgerHeight: model.market().head?.height,
    };
  }, rounds);
  console.log(`in-page cluster, ${figures.rounds} rounds in Chromium (preliminary: a loaded machine):`);
  console.log(`  round: median ${figures.roundMsMedian.toFixed(0)} ms, max ${figures.roundMsMax.toFixed(0)} ms`);
  console.log(`  entries committed: ${figures.entriesPerSecond.toFixed(1)}/s; commit latency at the leader: mean ${figures.commitLatencyMsMean.toFixed(1)} ms`);
  console.log(`  page event-loop lag (last second): mean ${figures.lagMsMean.toFixed(1)} ms, max ${figures.lagMsMax.toFixed(1)} ms`);
  console.log(`  leader changes: ${figures.leaderChanges} (handovers to a heavier voter: ${figures.handovers}); ledger height ${figures.ledgerHeight}`);
} finally {
  await browser.close();
  await server.close();
}
