/**
 * The page in a real browser (Debian's Chromium, driven by playwright-core), in in-browser mode:
 * it elects a leader; "Crash" on the leader gets a new leader elected, and "Restart" brings the
 * node back; a proposed trade shows in the ledger view; the controls work from the keyboard; the
 * page is readable at 1366×768 without scrolling sideways, labelled and legible; and it requests
 * nothing but its own origin. In live mode, against real server nodes, it shows the nodes and
 * moves leadership through their API. Screenshots go to a temporary folder, or to
 * DASHBOARD_SCREENSHOTS.
 *
 * Without /usr/bin/chromium the suite is skipped, with a message, unless CI is set: in CI it runs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../scripts/chromium.mjs';
import { settledLeaderId } from './settled-leader.js';
import { type MarketCluster, startMarketCluster } from './live-cluster.js';
import { removeBuild, servePage } from './page.js';
import type { DashboardServer } from '../src/serve.js';

const available = hasChromium();
const runs = available || process.env.CI !== undefined;
if (!runs) console.warn(`dashboard browser tests skipped: ${CHROMIUM_PATH} is missing (install it: apt-get install -y chromium). In CI they run.`);

const WAIT_MS = 30_000;

/** How many lines of the page's activity log hold `text`. */
const logged = (page: Page, text: string | RegExp) => page.locator('#activity li', { hasText: text }).count();
/** The elections the Leaders panel shows, and those the model counts. */
const elections = (page: Page) =>
  page.evaluate(() => ({
    shown: document.querySelector('[data-testid="elections"]')?.textContent ?? '',
    counted: (globalThis as unknown as { greenraftDashboard: { model: { elections(): { elections: number; failed: number } } } }).greenraftDashboard.model.elections(),
  }));

let shots: string;
let keepShots = false;
beforeAll(() => {
  keepShots = process.env.DASHBOARD_SCREENSHOTS !== undefined && process.env.DASHBOARD_SCREENSHOTS !== '';
  shots = keepShots ? process.env.DASHBOARD_SCREENSHOTS! : mkdtempSync(join(tmpdir(), 'greenraft-dashboard-shots-'));
  mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await removeBuild();
  if (!keepShots && shots !== undefined) rmSync(shots, { recursive: true, force: true });
});

describe.runIf(runs)('the dashboard in Chromium, in-browser mode', () => {
  let served: DashboardServer;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  const requests: string[] = [];
  const sockets: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    served = await servePage();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('request', (request) => requests.push(request.url()));
    page.on('websocket', (socket) => sockets.push(socket.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    // Rounds only when the test asks: a round's weight epoch may hand leadership to a heavier node.
    await page.goto(`${served.url}?seed=11&rounds=0`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  /** The leader once leadership has settled (not while a weighted cluster hands over). */
  const leaderId = () => settledLeaderId(page, 500);

  it('sees a leader, fits a laptop screen and requests only its own origin', async () => {
    expect(['solar', 'wind', 'gas', 'mill', 'city']).toContain(await leaderId());
    // The summary and the cards agree on who leads.
    await expect
      .poll(() => page.evaluate(() => document.querySelector('[data-testid="current-leader"]')?.textContent === document.querySelector('article.node[data-role="leader"]')?.getAttribute('data-node')), { timeout: WAIT_MS })
      .toBe(true);
    // A round settles, and its weights come in by joint consensus.
    await page.getByRole('button', { name: 'Run a trading round' }).click();
    await expect.poll(() => page.locator('.control-status').textContent(), { timeout: WAIT_MS }).toMatch(/^Round 1 settled: 3 contracts/);
    await page.locator('#market table.contracts-table').waitFor();
    await page.locator('#activity li', { hasText: 'new weights by joint consensus' }).first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(shots, '1-leader.png') });
    const origin = new URL(served.url).origin;
    const foreign = requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    expect(requests.length).toBeGreaterThan(2);
    expect(foreign).toEqual([]);
    expect(sockets).toEqual([]);
  });

  it('elects a new leader when the leader crashes, and brings the node back on restart', async () => {
    const leader = await leaderId();
    await page.getByRole('button', { name: `Crash ${leader}` }).click();
    await page.locator(`article.node[data-node="${leader}"][data-role="down"]`).waitFor();
    // Its Crash button is now disabled: focus moved to its Restart button, on the same card.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label')), { timeout: WAIT_MS }).toBe(`Restart ${leader}`);
    await expect.poll(async () => page.locator('article.node[data-role="leader"]').first().getAttribute('data-node'), { timeout: WAIT_MS }).not.toBe(leader);
    const successor = await leaderId();
    expect(successor).not.toBe(leader);
    // The crash is logged once, by the page; the election that followed is counted.
    await expect.poll(() => logged(page, `${leader} crashed; its storage is kept.`), { timeout: WAIT_MS }).toBe(1);
    await expect.poll(async () => (await elections(page)).counted.elections, { timeout: WAIT_MS }).toBeGreaterThanOrEqual(2);
    const { shown, counted } = await elections(page);
    expect(shown).toMatch(new RegExp(`^${counted.elections} terms seen, ${counted.failed} without a leader$`));
    await page.screenshot({ path: join(shots, '2-new-leader.png') });
    await page.getByRole('button', { name: `Restart ${leader}` }).click();
    await expect.poll(() => logged(page, `${leader} restarted.`), { timeout: WAIT_MS }).toBe(1);
    // Back as a follower (or, the heaviest, soon the leader again by a handover).
    await page.locator(`article.node[data-node="${leader}"]:is([data-role="follower"], [data-role="leader"])`).waitFor();
    // It catches up: its applied index reaches what the leader had committed when it came back.
    const commitOf = async (id: string) => Number((await page.locator(`article.node[data-node="${id}"] dl.raft div:nth-child(2) dd`).textContent())!.replace(/,/g, ''));
    const target = await commitOf(successor);
    await expect
      .poll(async () => Number((await page.locator(`article.node[data-node="${leader}"] dl.raft div:nth-child(3) dd`).textContent())!.replace(/,/g, '')), { timeout: WAIT_MS })
      .toBeGreaterThanOrEqual(target);
    await page.screenshot({ path: join(shots, '3-restarted.png') });
  });

  it('shows a proposed trade in the ledger view', async () => {
    await page.getByLabel('Seller (generator)').selectOption('wind');
    await page.getByLabel('Buyer (consumer)').selectOption('city');
    await page.getByLabel('Energy (kWh)').fill('321');
    await page.getByLabel('Price (¥/kWh)').fill('0.61');
    await page.getByRole('button', { name: 'Propose trade' }).click();
    const offer = page.locator('#ledger li[data-type="proposeContract"]', { hasText: 'wind offers city 321 kWh at 0.61 ¥/kWh' });
    await offer.waitFor();
    await expect.poll(() => page.locator('.control-status').textContent(), { timeout: WAIT_MS }).toMatch(/^Trade wind\/\d+ is in block \d+/);
    await page.locator('#ledger').screenshot({ path: join(shots, '4-trade-in-ledger.png') });
  });

  it('works from the keyboard: a skip link, every control in reading order, Enter runs a round', async () => {
    // Start from the top of the document, as a fresh page would.
    const fromTop = () =>
      page.evaluate(() => {
        document.documentElement.tabIndex = -1;
        document.documentElement.focus();
        document.documentElement.removeAttribute('tabindex');
      });
    await fromTop();
    const focused: string[] = [];
    const describe = () =>
      page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        if (element === null || element === document.body) return 'body';
        return `${element.tagName.toLowerCase()}:${element.getAttribute('aria-label') ?? (element as HTMLInputElement).labels?.[0]?.textContent ?? element.textContent?.trim() ?? ''}`;
      });
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const current = await describe();
      focused.push(current);
      if (current === 'button:Transfer leadership') break;
    }
    expect(focused[0]).toBe('a:Skip to the controls');
    const position = (name: string) => focused.indexOf(name);
    for (const name of ['button:Run a trading round', 'select:Seller (generator)', 'input:Energy (kWh)', 'button:Propose trade', 'button:Cut link', 'button:Heal all links', 'button:Apply strategy', 'button:Transfer leadership']) {
      expect(position(name), `${name} in ${focused.join(' → ')}`).toBeGreaterThan(0);
    }
    // Reading order: the node cards' buttons, then the controls, top to bottom.
    const crashButtons = focused.filter((name) => name.startsWith('button:Crash ')).map((name) => focused.indexOf(name));
    expect(crashButtons.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...crashButtons)).toBeLessThan(position('button:Run a trading round'));
    expect(position('button:Run a trading round')).toBeLessThan(position('button:Propose trade'));
    expect(position('button:Propose trade')).toBeLessThan(position('button:Cut link'));
    expect(position('button:Cut link')).toBeLessThan(position('button:Transfer leadership'));
    // The focused control is visibly outlined.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');

    // The skip link moves focus to the controls; Tab then reaches "Run a trading round" and Enter runs it.
    await fromTop();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('controls');
    for (let i = 0; i < 5 && (await describe()) !== 'button:Run a trading round'; i++) await page.keyboard.press('Tab');
    expect(await describe()).toBe('button:Run a trading round');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.control-status').textContent(), { timeout: WAIT_MS }).toMatch(/^Round \d+ settled: \d+ contracts/);
  });

  it('labels every control and keeps text legible (WCAG AA contrast)', async () => {
    const problems = await page.evaluate(() => {
      const found: string[] = [];
      for (const control of document.querySelectorAll<HTMLElement>('button, select, input, a[href]')) {
        const name = control.getAttribute('aria-label') ?? (control as HTMLInputElement).labels?.[0]?.textContent ?? control.textContent;
        if (name === null || name.trim() === '') found.push(`unlabelled ${control.outerHTML.slice(0, 80)}`);
      }
      const parse = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
      const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
        const channel = (value: number) => {
          const c = value / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      };
      const background = (element: Element | null): number[] => {
        for (let node = element; node !== null; node = node.parentElement) {
          const parts = parse(getComputedStyle(node).backgroundColor);
          if (parts.length === 3 || (parts.length === 4 && parts[3]! > 0.5)) return parts.slice(0, 3);
        }
        return [255, 255, 255];
      };
      let checked = 0;
      for (const element of document.querySelectorAll<HTMLElement>('body *')) {
        const text = [...element.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent ?? '').join('').trim();
        if (text === '' || element.closest('[aria-hidden="true"], .u-legend, .skip') !== null || element.offsetParent === null) continue;
        const [foreground, behind] = [luminance(parse(getComputedStyle(element).color)), luminance(background(element))];
        const ratio = (Math.max(foreground, behind) + 0.05) / (Math.min(foreground, behind) + 0.05);
        checked++;
        if (ratio < 4.5) found.push(`contrast ${ratio.toFixed(2)} for "${text.slice(0, 40)}" (${element.tagName.toLowerCase()}.${element.className})`);
      }
      if (checked < 50) found.push(`only ${checked} text elements checked`);
      return found;
    });
    expect(problems).toEqual([]);
    expect(await page.locator('main').count()).toBe(1);
    expect(await page.locator('h1').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(shots, '5-full.png'), fullPage: true });
  });
});

describe.runIf(runs)('the dashboard in Chromium, live mode against server nodes', () => {
  let cluster: MarketCluster;
  let served: DashboardServer;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  const requests: string[] = [];
  const sockets: string[] = [];

  beforeAll(async () => {
    cluster = await startMarketCluster();
    served = await servePage({ mode: 'live', endpoints: cluster.urls });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('request', (request) => requests.push(request.url()));
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(served.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await cluster?.close();
  });

  it('shows every node and its leader, and moves leadership through the nodes\' API', async () => {
    await expect.poll(() => page.locator('article.node:not([data-role="down"]):not([data-role="unknown"])').count(), { timeout: WAIT_MS }).toBe(3);
    const leader = (await page.locator('article.node[data-role="leader"]').first().getAttribute('data-node'))!;
    expect(await page.locator('#mode').textContent()).toMatch(/^Live mode: 3 nodes at /);
    // Without a supervisor of the processes, crashing is not offered; leadership is.
    expect(await page.getByRole('button', { name: `Crash ${leader}` }).isDisabled()).toBe(true);
    const target = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    const before = (await elections(page)).counted.elections;
    await page.getByRole('button', { name: `Make ${target} leader` }).click();
    await page.locator(`article.node[data-node="${target}"][data-role="leader"]`).waitFor();
    // The transfer's outcome is logged once, and the target's campaign counts as an election.
    await expect.poll(() => logged(page, `Leadership handed to ${target}.`), { timeout: WAIT_MS }).toBe(1);
    await expect.poll(async () => (await elections(page)).counted.elections, { timeout: WAIT_MS }).toBeGreaterThan(before);
    await page.screenshot({ path: join(shots, '6-live.png') });
    const origins = new Set([new URL(served.url).origin, ...cluster.urls.map((url) => new URL(url).origin)]);
    expect(requests.filter((url) => !url.startsWith('data:') && !origins.has(new URL(url).origin))).toEqual([]);
    expect(sockets.length).toBeGreaterThanOrEqual(3);
    for (const url of sockets) expect(origins.has(new URL(url.replace(/^ws/, 'http')).origin), url).toBe(true);
  });
});
