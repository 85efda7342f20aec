/**
 * Debian's Chromium, driven through playwright-core, for the dashboard's
 * browser tests. Without it those tests are skipped with a message, except
 * in CI (`.ci/run` sets `CI` and installs it with apt-get), where it must run.
 */
import { existsSync } from 'node:fs';

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
