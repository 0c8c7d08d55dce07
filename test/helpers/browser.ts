/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (a tool's own
 * browser download cannot work here). `.ci/run` installs Chromium through scripts/ensure-chromium.sh.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PICTOR_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser is installed (CI always installs it; a test may skip with a reason elsewhere). */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Launches a fresh headless Chromium (a new temporary profile) with no background networking. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
