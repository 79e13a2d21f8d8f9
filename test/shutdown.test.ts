import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type Logger } from '../src/log.js';
import { closeWithin } from '../src/shutdown.js';
import { FakeClock } from './helpers/fake-clock.js';
import { startReceiver } from './helpers/receiver.js';
import { startTestRelay, tiledEvent } from './helpers/relay-harness.js';
import { stalledClient } from './helpers/stalled-client.js';

/** A fake clock, and a logger on it whose lines the test reads. */
function harness(): { clock: FakeClock; logger: Logger; lines: unknown[] } {
  const clock = new FakeClock(0);
  const lines: unknown[] = [];
  const sink = (line: string): void => {
    lines.push(JSON.parse(line));
  };
  return { clock, logger: createLogger({ clock, sink }), lines };
}

test('a slow client and a hung receiver share one grace period when closing', async (t) => {
  const receiver = await startReceiver(t, () => {});
  const relay = await startTestRelay(t, { shutdownGraceMs: 1_500 });
  await relay.api('POST', '/api/v1/webhooks/target/', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await receiver.request(1);
  await stalledClient(t, relay.url);

  const started = performance.now();
  await relay.relay.close();
  const tookMs = performance.now() - started;
  // Each wait alone takes the whole grace: two graces one after the other take 3 s or more.
  assert.ok(tookMs >= 1_400 && tookMs < 2_600, `closing took ${Math.round(tookMs)} ms`);
  assert.equal(relay.relay.store.state.deliveries.get(1)?.outcome, 'pending');
});

test('the process stops waiting for a close still under way at its limit', async () => {
  const { clock, logger, lines } = harness();
  const stopping = closeWithin(() => new Promise<void>(() => {}), 3_000, { clock, logger });
  clock.advance(2_999);
  assert.deepEqual(lines, []);
  clock.advance(1);

  assert.equal(await stopping, 'abandoned');
  assert.deepEqual(lines, [
    {
      time: '1970-01-01T00:00:03.000Z',
      level: 'warn',
      msg: 'exiting before the data file was closed; the next start reads it as a crash',
      limitMs: 3_000,
    },
  ]);
});

test('a close that ends within the limit is waited for, and its failure passed on', async () => {
  const { clock, logger, lines } = harness();
  assert.equal(await closeWithin(async () => {}, 3_000, { clock, logger }), 'closed');
  const failing = async (): Promise<void> => Promise.reject(new Error('EIO'));
  await assert.rejects(closeWithin(failing, 3_000, { clock, logger }), /EIO/);
  assert.deepEqual(lines, []);
  assert.equal(clock.pendingTimers, 0);
});
