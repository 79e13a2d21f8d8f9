import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient, ApiError, describeError } from '../../src/status-page/browser/api-client.js';
import type { DeliveryView, TargetDetail } from '../../src/status-page/browser/api-types.js';
import {
  pingAction,
  redeliverAction,
  replayAction,
  setActiveAction,
} from '../../src/status-page/browser/operator-actions.js';
import { eventually } from '../helpers/eventually.js';
import { ADMIN_KEY, startTestRelay, tiledEvent, type TestRelay } from '../helpers/relay-harness.js';
import { answer, scriptedSender } from '../helpers/scripted-sender.js';

/** The status page's actions, each against a relay: what it asks, and what it reports. */

const RECEIVER = 'https://receiver.example/hook';

async function registered(relay: TestRelay, client: ApiClient, path: string) {
  const response = await relay.api('POST', `/api/v1/webhooks/target/${path}`, { url: RECEIVER });
  const { id } = (await response.json()) as { id: number };
  return client.get<TargetDetail>(`api/v1/webhooks/${id}`);
}

async function settled(relay: TestRelay): Promise<void> {
  const dispatcher = relay.relay.dispatcher;
  await eventually(() => dispatcher.backlog.running === 0 && dispatcher.backlog.ready === 0);
}

test('a ping reports how its one attempt went', async (t) => {
  const sender = scriptedSender(() => ({ statusCode: 503, error: 'HTTP 503: maintenance' }));
  const relay = await startTestRelay(t, { sender });
  const client = new ApiClient(ADMIN_KEY, `${relay.url}/`);
  const target = await registered(relay, client, 'raw');

  const report = await pingAction(target).run(client);

  assert.equal(report, `Ping to target #${target.id} (raw): failed (HTTP 503: maintenance).`);
  assert.equal(sender.sent.length, 1);
});

test('pausing and resuming report the change, which the relay holds', async (t) => {
  const relay = await startTestRelay(t, { sender: scriptedSender() });
  const client = new ApiClient(ADMIN_KEY, `${relay.url}/`);
  const target = await registered(relay, client, '');

  const paused = await setActiveAction(target, false).run(client);
  const stateWhilePaused = (await client.get<TargetDetail>(`api/v1/webhooks/${target.id}`)).active;
  const resumed = await setActiveAction(target, true).run(client);

  assert.deepEqual([paused, stateWhilePaused, resumed], [
    `Target #${target.id} (/ (root)) is paused.`,
    false,
    `Target #${target.id} (/ (root)) is resumed.`,
  ]);
});

test('pausing a config file\'s target fails with the relay\'s 409 and its reason', async (t) => {
  const relay = await startTestRelay(t, {
    sender: scriptedSender(),
    config: { targets: [{ name: 'archive', path: 'archive', url: RECEIVER }] },
  });
  const client = new ApiClient(ADMIN_KEY, `${relay.url}/`);
  const [target] = await client.get<TargetDetail[]>('api/v1/webhooks/');

  const error = await setActiveAction(target as TargetDetail, false).run(client).catch((e) => e);

  assert.ok(error instanceof ApiError);
  assert.equal(
    describeError(error),
    'Webhook 1 ("archive") is managed by the config file: change or remove it under "targets" ' +
      'there and reload the relay. (409 target_managed_by_config)',
  );
});

test('a replay and a redelivery report what they queued', async (t) => {
  const relay = await startTestRelay(t, {
    sender: scriptedSender(() => answer(500)),
    config: { delivery: { retryDelaysMs: [] } },
  });
  const client = new ApiClient(ADMIN_KEY, `${relay.url}/`);
  const target = await registered(relay, client, 'raw');
  await relay.ingest(tiledEvent('stream-closed', ['raw', 'scan_1']));
  await settled(relay);
  const since = new Date(relay.clock.now() - 3_600_000).toISOString();
  const failed = { since, outcomes: ['failed' as const], described: 'failed deliveries' };
  const skipped = { since, outcomes: ['skipped' as const], described: 'skipped deliveries' };

  const first = await replayAction(target, failed).run(client);
  await settled(relay);
  const second = await replayAction(target, skipped).run(client);
  const [delivery] = await client.get<DeliveryView[]>(`api/v1/webhooks/history/${target.id}`);
  assert.ok(delivery !== undefined);
  const again = await redeliverAction(delivery).run(client);

  assert.deepEqual([first, second, again], [
    'Replay of the failed deliveries: 1 queued.',
    'Replay of the skipped deliveries: none queued.',
    `Delivery ${delivery.id} is queued again.`,
  ]);
});
