import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';
import {
  ADMIN_KEY,
  READ_KEY,
  startTestRelay,
  tiledEvent,
  type TestRelay,
} from '../helpers/relay-harness.js';
import { hasChromium, launchChromium, MISSING_CHROMIUM } from './chromium.js';

/**
 * The status page in real headless Chromium against a relay in this process. Every wait is on a
 * condition of the page, never on time; the relay's clock is fake, so the page's ages and charts
 * are the same on every run.
 */

const SCREENSHOT = process.env.HOOKRELAY_SCREENSHOT ?? join(tmpdir(), 'hookrelay-status-page.png');

let browser: ReturnType<typeof launchChromium> | null = null;
after(async () => {
  if (browser !== null) await (await browser).close();
});

/** A new tab (its own sessionStorage) in the one browser this file starts. */
async function newPage(t: TestContext): Promise<Page> {
  browser ??= launchChromium();
  const context: BrowserContext = (await browser).context;
  const page = await context.newPage();
  t.after(() => page.close());
  return page;
}

async function signIn(page: Page, relay: TestRelay, key: string): Promise<void> {
  await page.goto(`${relay.url}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Show status' }).click();
}

async function register(relay: TestRelay, path: string, url: string): Promise<number> {
  const response = await relay.api('POST', `/api/v1/webhooks/target/${path}`, { url });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: number }).id;
}

async function settle(relay: TestRelay): Promise<void> {
  const dispatcher = relay.relay.dispatcher;
  await eventually(() => dispatcher.backlog.running === 0 && dispatcher.backlog.ready === 0);
}

/**
 * A minute at a time, letting each attempt that falls due finish before the clock moves on:
 * otherwise the same move would also pass the attempt's timeout, which runs on this clock too.
 */
async function fiveMinutesPass(relay: TestRelay): Promise<void> {
  for (let minute = 0; minute < 5; minute += 1) {
    relay.clock.advance(60_000);
    await settle(relay);
  }
}

/**
 * An hour of traffic, one round every five minutes: scans to a healthy receiver, processed data
 * to a failing one (retried once after a minute, so the newest is still pending), a paused target
 * that skips, and a target from the config file.
 */
async function anHourOfTraffic(relay: TestRelay, healthy: Receiver, failing: Receiver) {
  const scans = await register(relay, 'raw/scans', healthy.url);
  await register(relay, 'processed', failing.url);
  const paused = await register(relay, 'raw', healthy.url);
  const pausing = await relay.api('PATCH', `/api/v1/webhooks/${paused}`, { active: false });
  assert.equal(pausing.status, 200);

  for (let round = 0; round < 12; round += 1) {
    const scan = `scan_${String(round).padStart(4, '0')}`;
    await relay.ingest(tiledEvent('stream-closed', ['raw', 'scans', scan]));
    await relay.ingest(tiledEvent('container-child-created', ['raw', 'scans', scan]));
    if (round % 3 === 2) await relay.ingest(tiledEvent('stream-closed', ['processed', scan]));
    if (round % 4 === 0) await relay.ingest(tiledEvent('stream-closed', ['archive', scan]));
    await settle(relay);
    if (round < 11) await fiveMinutesPass(relay);
  }
  return { scans };
}

test('the page shows targets and deliveries, and a redelivery adds an attempt', async (t) => {
  if (!hasChromium()) return t.skip(MISSING_CHROMIUM);
  // The healthy receiver stumbles on one scan, so the chosen target has failures to show.
  const stumbling = status(500, {}, 'scan_0010 is locked by another writer');
  const healthy = await startReceiver(t, (request, response) => {
    const answer = request.body.includes('scan_0010') ? stumbling : status(200);
    answer(request, response);
  });
  const failing = await startReceiver(t, status(503, {}, 'receiver is down for maintenance'));
  const relay = await startTestRelay(t, {
    clock: new FakeClock(Date.UTC(2026, 0, 15, 11, 2, 30)),
    config: {
      delivery: { retryDelaysMs: [60_000] },
      targets: [{ name: 'archive', path: 'archive', url: healthy.url }],
    },
  });
  const { scans } = await anHourOfTraffic(relay, healthy, failing);
  const history = await relay.api('GET', `/api/v1/webhooks/history/${scans}?limit=1`);
  const newest = ((await history.json()) as Array<{ id: number }>)[0]?.id;

  const page = await newPage(t);
  await signIn(page, relay, ADMIN_KEY);
  await page.getByRole('button', { name: `Show target ${scans}, raw/scans` }).click();
  const row = page.getByRole('row').filter({
    has: page.getByRole('button', { name: `Redeliver delivery ${newest}` }),
  });
  await row.locator('td:nth-child(4)', { hasText: /^1$/ }).waitFor();
  const before = healthy.received.length;

  await row.getByRole('button', { name: `Redeliver delivery ${newest}` }).click();
  await row.locator('td:nth-child(4)', { hasText: /^2$/ }).waitFor();
  const queued = `Delivery ${newest} is queued again.`;
  await page.getByRole('status').filter({ hasText: queued }).waitFor();
  assert.equal(healthy.received.length, before + 1);
  assert.equal(await row.locator('td:nth-child(3)').textContent(), 'success');

  await page.screenshot({ path: SCREENSHOT });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);
  const dark = process.env.HOOKRELAY_SCREENSHOT_DARK;
  if (dark !== undefined) {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: dark });
  }
});

test('a key the relay refuses is forgotten and asked for again', async (t) => {
  if (!hasChromium()) return t.skip(MISSING_CHROMIUM);
  const relay = await startTestRelay(t);
  const page = await newPage(t);

  await signIn(page, relay, 'not-a-key-of-this-relay');
  const alert = page.locator('#key-error', { hasText: 'The relay refused this key' });
  await alert.waitFor();

  assert.equal(await page.evaluate('sessionStorage.length'), 0);
  assert.equal(await page.getByLabel('API key').isVisible(), true);
  assert.equal(await page.locator('#dashboard').isHidden(), true);
});

test('a read-only key shows the relay, and an action shows why the relay refused it', async (t) => {
  if (!hasChromium()) return t.skip(MISSING_CHROMIUM);
  const healthy = await startReceiver(t);
  const relay = await startTestRelay(t);
  const id = await register(relay, 'raw', healthy.url);
  const page = await newPage(t);

  await signIn(page, relay, READ_KEY);
  await page.getByRole('button', { name: `Show target ${id}, raw` }).click();
  await page.getByRole('button', { name: 'Send ping' }).click();

  const refusal = page.getByRole('status').filter({ hasText: 'failed: Not enough permissions' });
  await refusal.waitFor();
  const text = (await refusal.textContent()) ?? '';
  assert.match(text, /Requires scopes \['write:webhooks'\].*\(401 unauthorized\)$/);
  assert.equal(await page.evaluate("sessionStorage.getItem('hookrelay.apiKey')"), READ_KEY);
  assert.equal(healthy.received.length, 0);
});
