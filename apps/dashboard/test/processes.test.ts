/**
 * The page in a real browser (Debian's Chromium, driven by playwright-core) against a real local
 * cluster of processes: `greenraft cluster --nodes 3 --weighted --state-machine market` of the
 * built CLI, which serves the page it carries and the control API of its supervisor. The page
 * sees a leader; "Crash" on the leader kills its process (checked by pid) and a new leader is
 * elected; "Restart" starts it again on its data directory and it catches up; a proposed trade
 * shows in the ledger view; a round settles and its settlement shows; cutting the leader's links
 * gets a new leader elected, and healing them brings the cut node back. Screenshots go to a
 * temporary folder, or to DASHBOARD_SCREENSHOTS.
 *
 * Needs /usr/bin/chromium and the built CLI (npm test builds it first; or
 * npx turbo run build --filter=@greenraft/cli); without them the suite is skipped with a message,
 * unless CI is set: in CI it runs.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../scripts/chromium.mjs';
import { settledLeaderId } from './settled-leader.js';
import { type CliCluster, alive, hasBuiltCli, startCliCluster } from '../scripts/cli-cluster.mjs';

const ready = hasChromium() && hasBuiltCli();
const runs = ready || process.env.CI !== undefined;
if (!runs) console.warn(`dashboard process tests skipped: they need ${CHROMIUM_PATH} (apt-get install -y chromium) and the built CLI (npx turbo run build --filter=@greenraft/cli). In CI they run.`);

const WAIT_MS = 30_000;

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}
const IDS = ['n1', 'n2', 'n3'];

describe.runIf(runs)('the dashboard in Chromium, against a cluster of node processes', () => {
  let cluster: CliCluster;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  let shots: string;
  let keepShots = false;
  const errors: string[] = [];
  /** Every process a node has run as: the first start, then each restart the supervisor reports. */
  const pids = (id: string): number[] => [
    cluster.started.nodes.find((node) => node.id === id)!.pid,
    ...[...cluster.stderr().matchAll(new RegExp(`restarted node ${id} \\(pid (\\d+)\\)`, 'g'))].map((match) => Number(match[1])),
  ];
  /** The node's process now (a restarted node runs under a new pid). */
  const pid = (id: string): number => pids(id).at(-1)!;

  beforeAll(async () => {
    keepShots = (process.env.DASHBOARD_SCREENSHOTS ?? '') !== '';
    shots = keepShots ? process.env.DASHBOARD_SCREENSHOTS! : mkdtempSync(join(tmpdir(), 'greenraft-dashboard-shots-'));
    mkdirSync(shots, { recursive: true });
    cluster = await startCliCluster(['cluster', '--nodes', '3', '--weighted', '--state-machine', 'market']);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(cluster.started.dashboard!);
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    try {
      if (cluster !== undefined) {
        const { code } = await cluster.stop();
        expect(code, cluster.stderr()).toBe(0);
        // Every node process is gone, whatever ran.
        for (const id of IDS) for (const each of pids(id)) expect(alive(each), `${id} (pid ${each})`).toBe(false);
        expect(existsSync(cluster.started.dir)).toBe(false);
      }
    } finally {
      cluster?.kill();
      if (!keepShots && shots !== undefined) rmSync(shots, { recursive: true, force: true });
    }
  }, 60_000);

  /** The leader once leadership has settled (not while a weighted cluster hands over). */
  const leaderId = () => settledLeaderId(page, 1000, WAIT_MS);
  const indexOf = async (id: string, position: 2 | 3) => Number((await page.locator(`article.node[data-node="${id}"] dl.raft div:nth-child(${position}) dd`).textContent())!.replace(/,/g, ''));
  const status = () => page.locator('.control-status').textContent();
  /** How many lines of the page's activity log hold `text`. */
  const logged = (text: string | RegExp) => page.locator('#activity li', { hasText: text }).count();
  /** A failing step says what the supervisor printed, and the end of every node's log. */
  const step = async (body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (error) {
      const logs = cluster.started.nodes.map((node) => `--- ${node.id}\n${tail(node.log)}`).join('\n');
      (error as Error).message += `\nsupervisor stderr:\n${cluster.stderr()}\n${logs}`;
      throw error;
    }
  };

  it('shows the three node processes, a leader, and the supervisor\u2019s controls', async () => {
    await step(async () => {
      await expect.poll(() => page.locator('article.node:not([data-role="down"]):not([data-role="unknown"])').count(), { timeout: WAIT_MS }).toBe(3);
      expect(await page.locator('#mode').textContent()).toMatch(/^Live mode: 3 nodes at /);
      expect(IDS).toContain(await leaderId());
      // The participants registered themselves, each signed by its own node.
      await expect.poll(() => page.locator('article.node[data-node="n3"] .kind').textContent(), { timeout: WAIT_MS }).toBe('consumer');
      for (const name of ['Run a trading round', 'Propose trade', 'Cut link', 'Heal all links', 'Apply strategy', 'Transfer leadership']) {
        expect(await page.getByRole('button', { name }).isDisabled(), name).toBe(false);
      }
      await page.screenshot({ path: join(shots, 'processes-1-leader.png') });
    });
  });

  it('crashes the leader\u2019s process, sees a new leader elected, and brings the node back on restart', async () => {
    await step(async () => {
      const leader = await leaderId();
      const victim = pid(leader);
      await page.getByRole('button', { name: `Crash ${leader}` }).click();
      await page.locator(`article.node[data-node="${leader}"][data-role="down"]`).waitFor();
      await expect.poll(() => status(), { timeout: WAIT_MS }).toBe(`${leader} crashed; its storage is kept.`);
      await expect.poll(() => logged(`${leader} crashed; its storage is kept.`), { timeout: WAIT_MS }).toBe(1);
      expect(alive(victim)).toBe(false);
      expect(cluster.stderr()).toContain(`crashed node ${leader} (pid ${victim}, SIGKILL)`);
      await expect.poll(async () => page.locator('article.node[data-role="leader"]').first().getAttribute('data-node'), { timeout: WAIT_MS }).not.toBe(leader);
      const successor = await leaderId();
      expect(successor).not.toBe(leader);
      // The election counts, though no status sample may have caught a candidate.
      await expect.poll(() => page.locator('[data-testid="elections"]').textContent(), { timeout: WAIT_MS }).toMatch(/^([2-9]|\d\d+) terms seen, \d+ without a leader$/);
      await page.screenshot({ path: join(shots, 'processes-2-new-leader.png') });

      await page.getByRole('button', { name: `Restart ${leader}` }).click();
      await expect.poll(() => status(), { timeout: WAIT_MS }).toBe(`${leader} restarted.`);
      await expect.poll(() => logged(`${leader} restarted.`), { timeout: WAIT_MS }).toBe(1);
      await page.locator(`article.node[data-node="${leader}"]:is([data-role="follower"], [data-role="leader"])`).waitFor();
      const target = await indexOf(successor, 2);
      await expect.poll(() => indexOf(leader, 3), { timeout: WAIT_MS }).toBeGreaterThanOrEqual(target);
      expect(cluster.stderr()).toMatch(new RegExp(`restarted node ${leader} \\(pid \\d+\\) on its data directory`));
      // A crash from the page is not a death: nothing was reported as exiting by itself.
      expect(cluster.stderr()).not.toContain('it is not restarted');
    });
  });

  it('proposes a trade that shows in the ledger view, and settles a round', async () => {
    await step(async () => {
      await page.getByLabel('Seller (generator)').selectOption('n1');
      await page.getByLabel('Buyer (consumer)').selectOption('n3');
      await page.getByLabel('Energy (kWh)').fill('321');
      await page.getByLabel('Price (¥/kWh)').fill('0.61');
      await page.getByRole('button', { name: 'Propose trade' }).click();
      await page.locator('#ledger li[data-type="proposeContract"]', { hasText: 'n1 offers n3 321 kWh at 0.61 ¥/kWh' }).waitFor();
      await expect.poll(() => status(), { timeout: WAIT_MS }).toMatch(/^Trade n1\/\d+ is in block \d+/);
      await expect.poll(() => logged(/Trade n1\/\d+ is in block \d+ \(index \d+\): n1 sells n3 321 kWh at 0\.61 ¥\/kWh\./), { timeout: WAIT_MS }).toBe(1);
      await page.locator('#ledger').screenshot({ path: join(shots, 'processes-3-trade-in-ledger.png') });
      await page.getByRole('button', { name: 'Run a trading round' }).click();
      await expect.poll(() => status(), { timeout: WAIT_MS }).toMatch(/^Round 1 settled: 3 contracts/);
      await expect.poll(() => logged(/Round 1 settled: 3 contracts/), { timeout: WAIT_MS }).toBe(1);
      // The settlement came with the round's receipt: contracts with their money, and every node's outcome.
      await page.locator('#market table.contracts-table', { hasText: '321' }).waitFor();
      await page.locator('#market table.settlement-table').waitFor();
    });
  });

  it('cuts the leader\u2019s links, sees a new leader elected, and heals them', async () => {
    await step(async () => {
      const leader = await leaderId();
      const termOf = (id: string) =>
        page.evaluate((which) => (globalThis as unknown as { greenraftDashboard: { model: { nodes(): { id: string; term: number }[] } } }).greenraftDashboard.model.nodes().find((node) => node.id === which)!.term, id);
      const cutTerm = await termOf(leader);
      const others = IDS.filter((id) => id !== leader);
      for (const other of others) {
        await page.getByLabel('Node', { exact: true }).selectOption(leader);
        await page.getByLabel('and node').selectOption(other);
        await page.getByRole('button', { name: 'Cut link' }).click();
        await expect.poll(() => status(), { timeout: WAIT_MS }).toBe(`The link ${leader} ↔ ${other} is cut.`);
        await expect.poll(() => logged(`The link ${leader} ↔ ${other} is cut.`), { timeout: WAIT_MS }).toBe(1);
      }
      // The two others elect one of themselves in a later term; the cut node's process still runs.
      await expect.poll(() => page.evaluate(([cut, term]) => {
        const nodes = (globalThis as unknown as { greenraftDashboard: { model: { nodes(): { id: string; role: string; term: number }[] } } }).greenraftDashboard.model.nodes();
        return nodes.some((node) => node.id !== cut && node.role === 'leader' && node.term > term);
      }, [leader, cutTerm] as const), { timeout: WAIT_MS }).toBe(true);
      expect(alive(pid(leader))).toBe(true);
      await page.screenshot({ path: join(shots, 'processes-4-partitioned.png') });
      await page.getByRole('button', { name: 'Heal all links' }).click();
      await expect.poll(() => status(), { timeout: WAIT_MS }).toBe('Every link is healed.');
      await expect.poll(() => logged('Every link is healed.'), { timeout: WAIT_MS }).toBe(1);
      // Healed: every node follows one leader of one term again.
      await expect
        .poll(
          () =>
            page.evaluate(() => {
              const nodes = (globalThis as unknown as { greenraftDashboard: { model: { nodes(): { role: string; term: number; leader: string | null; up: boolean }[] } } }).greenraftDashboard.model.nodes();
              const leaders = new Set(nodes.map((node) => `${node.leader}@${node.term}`));
              return nodes.every((node) => node.up) && leaders.size === 1 && nodes.filter((node) => node.role === 'leader').length === 1;
            }),
          { timeout: WAIT_MS },
        )
        .toBe(true);
      expect(errors).toEqual([]);
      await page.screenshot({ path: join(shots, 'processes-5-healed.png'), fullPage: true });
    });
  });
});
