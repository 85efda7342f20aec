/**
 * Debian's Chromium, driven through playwright-core, for the dashboard's
 * browser tests. Without it those tests are skipped with a message, except
 * in CI (`.ci/run` sets `CI` and installs it with apt-get), where it must run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
export const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env['CI']) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run installs it with apt-get`);
if (!haveBrowser) console.warn(`dashboard browser test skipped: no browser at ${CHROMIUM} (apt-get install chromium)`);

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Saves a full-page screenshot as test-results/<name>.png, for a look after the run. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: `${shots}${name}.png`, fullPage: true });
}
