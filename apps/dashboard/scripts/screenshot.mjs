// Regenerates the dashboard screenshot of the README (apps/dashboard/screenshot.png): the built
// page, served on a free loopback port, in in-browser mode with a fixed seed, after a few trading
// rounds and a trade, at 1366×768. Run it with `npm run screenshot -w @greenraft/dashboard`
// (which builds first); `node scripts/screenshot.mjs OUT.png` writes elsewhere.
import { fileURLToPath } from 'node:url';
import { serveDashboard } from '../dist/serve.js';
import { hasChromium, launchChromium } from './chromium.mjs';

const out = process.argv[2] ?? fileURLToPath(new URL('../screenshot.png', import.meta.url));
if (!hasChromium()) {
  console.error('screenshot: /usr/bin/chromium is missing (apt-get install -y chromium)');
  process.exit(1);
}
const server = await serveDashboard({ port: 0 });
const browser = await launchChromium({ viewport: { width: 1366, height: 768 } });
try {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${server.url}?seed=7&rounds=0`);
  await page.locator('article.node[data-role="leader"]').first().waitFor();
  const status = page.locator('.control-status');
  for (let round = 1; round <= 4; round++) {
    await page.getByRole('button', { name: 'Run a trading round' }).click();
    await page.waitForFunction((n) => document.querySelector('.control-status')?.textContent?.startsWith(`Round ${n} settled`), round);
  }
  await page.getByLabel('Seller (generator)').selectOption('solar');
  await page.getByLabel('Buyer (consumer)').selectOption('mill');
  await page.getByLabel('Energy (kWh)').fill('480');
  await page.getByRole('button', { name: 'Propose trade' }).click();
  await page.waitForFunction(() => document.querySelector('.control-status')?.textContent?.startsWith('Trade '));
  // Let the charts fill a little, and the weights of the last round land.
  await page.waitForTimeout(4000);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: out });
  console.log(`${out}: ${await status.textContent()}`);
} finally {
  await browser.close();
  await server.close();
}
