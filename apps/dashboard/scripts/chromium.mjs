// Debian's Chromium driven by playwright-core (which cannot download a browser here): one place
// for the path and the flags, shared by the browser tests and the screenshot script.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, offline, headless run: no sandbox (root in CI), no GPU, no QUIC, no background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when Debian's Chromium is installed. */
export function hasChromium() {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Launches Chromium with a fresh profile in a temporary folder (removed by `close`), a laptop-sized
 * viewport and a bounded launch time.
 */
export async function launchChromium({ viewport = { width: 1366, height: 768 }, timeoutMs = 60_000 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'greenraft-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: timeoutMs,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
