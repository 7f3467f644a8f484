// Regenerates the dashboard screenshot of the README (apps/dashboard/screenshot.png): the page in
// live mode against a real local cluster of processes, `greenraft cluster --nodes 5 --weighted
// --state-machine market --round-every 2500` of the built CLI (5 node processes over WebSocket
// with WAL storage, trading by themselves), after a few rounds and a trade, at 1366×768. Run it
// with `npm run screenshot -w @greenraft/dashboard` (which builds the CLI and the page first);
// `node scripts/screenshot.mjs OUT.png` writes elsewhere.
import { fileURLToPath } from 'node:url';
import { hasChromium, launchChromium } from './chromium.mjs';
import { hasBuiltCli, startCliCluster } from './cli-cluster.mjs';

const out = process.argv[2] ?? fileURLToPath(new URL('../screenshot.png', import.meta.url));
if (!hasChromium()) {
  console.error('screenshot: /usr/bin/chromium is missing (apt-get install -y chromium)');
  process.exit(1);
}
if (!hasBuiltCli()) {
  console.error('screenshot: the CLI is not built (npx turbo run build --filter=@greenraft/cli)');
  process.exit(1);
}
const cluster = await startCliCluster(['cluster', '--nodes', '5', '--weighted', '--state-machine', 'market', '--round-every', '2500']);
let browser;
try {
  browser = await launchChromium({ viewport: { width: 1366, height: 768 } });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(cluster.started.dashboard);
  await page.locator('article.node[data-role="leader"]').first().waitFor();
  // A few rounds, so the weights have moved and the charts have a history.
  await page.waitForFunction(() => /^Round [3-9]|^Round \d\d/.test(document.querySelector('#market caption')?.textContent ?? ''));
  await page.getByLabel('Seller (generator)').selectOption('n1');
  await page.getByLabel('Buyer (consumer)').selectOption('n4');
  await page.getByLabel('Energy (kWh)').fill('480');
  await page.getByRole('button', { name: 'Propose trade' }).click();
  await page.waitForFunction(() => document.querySelector('.control-status')?.textContent?.startsWith('Trade '));
  // Let the charts fill a little more, and the weights of the last round land.
  await page.waitForTimeout(4000);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: out });
  console.log(`${out}: ${await page.locator('#summary').textContent()}`);
} finally {
  await browser?.close();
  await cluster.stop().catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
