/** The browser tests' wait for a leader that is not handing over. */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * The id of the leader the page's model knows once leadership has settled: every running node
 * follows it in its term, outside a joint configuration, for `holdMs`. A weighted cluster's
 * preferred leader moves a few milliseconds after a weight change commits (after a settled
 * round, or once a heavier node is back), so a leader seen at once may be handing over.
 */
export async function settledLeaderId(page: Page, holdMs: number, timeoutMs = 30_000): Promise<string> {
  await page.locator('article.node[data-role="leader"]').first().waitFor();
  let seen: { key: string; since: number } | undefined;
  await expect
    .poll(
      async () => {
        const key = await page.evaluate(() => {
          type View = { id: string; up: boolean; term: number; leader: string | null; config?: { outgoing: unknown } };
          const model = (globalThis as unknown as { greenraftDashboard: { model: { leader(): View | undefined; nodes(): View[] } } }).greenraftDashboard.model;
          const leader = model.leader();
          if (leader === undefined || (leader.config?.outgoing ?? null) !== null) return undefined;
          return model.nodes().every((node) => !node.up || (node.leader === leader.id && node.term === leader.term)) ? `${leader.id}@${leader.term}` : undefined;
        });
        if (key === undefined || key !== seen?.key) seen = key === undefined ? undefined : { key, since: Date.now() };
        return seen !== undefined && Date.now() - seen.since >= holdMs;
      },
      { timeout: timeoutMs, interval: 100 },
    )
    .toBe(true);
  return seen!.key.split('@')[0]!;
}
