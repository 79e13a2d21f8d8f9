import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium package; .ci/run installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

export const MISSING_CHROMIUM =
  `${CHROMIUM} is not installed, so the status page was not tested in a browser: ` +
  'install it with `apt-get install -y chromium` (.ci/run does so in CI)';

/**
 * The machine has no way out to the internet: these flags keep Chromium from trying to reach
 * Google's services (sync, component updates, QUIC probes) at start.
 */
const QUIET_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** Headless Chromium with a fresh profile, at a laptop's screen size, in the light theme. */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'hookrelay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: QUIET_FLAGS,
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
  });
  // A condition that does not come within this long will not come: fail well before the
  // test runner's own limit, with Playwright's account of what it waited for.
  context.setDefaultTimeout(10_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
