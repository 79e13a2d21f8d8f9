import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { startReceiver, status } from './helpers/receiver.js';
import { startTestRelay, tiledEvent, type TestRelay } from './helpers/relay-harness.js';

async function register(relay: TestRelay, body: Record<string, unknown>): Promise<number> {
  const response = await relay.api('POST', '/api/v1/webhooks/target/', body);
  return ((await response.json()) as { id: number }).id;
}

async function history(relay: TestRelay, id: number): Promise<Array<Record<string, unknown>>> {
  return (await (await relay.api('GET', `/api/v1/webhooks/history/${id}`)).json()) as Array<Record<string, unknown>>;
}

function attempts(relay: TestRelay, deliveryId: number, count: number): Promise<unknown> {
  return eventually(() => (relay.relay.store.state.deliveries.get(deliveryId)?.attempts ?? 0) >= count, `attempt ${count}`);
}

test('a restart in the middle of a retry schedule resumes it with the same event id', async (t) => {
  const receiver = await startReceiver(t, status(500));
  const first = await startTestRelay(t);
  const id = await register(first, { url: receiver.url, secret: 's' });
  await first.ingest(tiledEvent('stream-closed', ['x']));
  await attempts(first, 1, 1);
  first.clock.advance(1000);
  await attempts(first, 1, 2);

  const second = await first.restart();
  const started = second.logs.find((entry) => entry.msg === 'hookrelay listening');
  assert.deepEqual(
    { targets: started?.targets, pending: started?.pending, dataFile: started?.dataFile },
    { targets: 1, pending: 1, dataFile: second.config.dataFile },
  );
  assert.equal(started?.url, second.url);
  const [waiting] = await history(second, id);
  assert.deepEqual([waiting?.outcome, waiting?.attempts, waiting?.next_attempt_at], [
    'pending',
    2,
    new Date(second.clock.now() + 5000).toISOString(),
  ]);

  receiver.answer(status(200));
  second.clock.advance(5000);
  await receiver.request(3);
  await attempts(second, 1, 3);
  const [done] = await history(second, id);
  assert.deepEqual([done?.outcome, done?.attempts, done?.status_code], ['success', 3, 200]);
  const ids = new Set(receiver.received.map((request) => request.headers['x-tiled-event-id']));
  assert.equal(ids.size, 1);
});

test('deliveries overdue at startup go out promptly, spread over the jitter window', async (t) => {
  const receiver = await startReceiver(t, status(500));
  const first = await startTestRelay(t);
  await register(first, { url: receiver.url });
  await first.ingest(tiledEvent('stream-closed', ['x']));
  await attempts(first, 1, 1);
  await first.relay.close();

  first.clock.advance(600_000);
  receiver.answer(status(200));
  const second = await first.restart({ random: () => 0.25, config: { delivery: { jitterMs: 1000 } } });
  assert.deepEqual(second.relay.dispatcher.backlog, { waiting: 1, ready: 0, running: 0 });
  second.clock.advance(249);
  assert.equal(receiver.received.length, 1);
  second.clock.advance(1);
  await receiver.request(2);
  await attempts(second, 1, 2);
});

test('a delivery under way when the relay stops is sent again after restart, with the same event id', async (t) => {
  const receiver = await startReceiver(t, () => {});
  const first = await startTestRelay(t);
  const id = await register(first, { url: receiver.url });
  await first.ingest(tiledEvent('stream-closed', ['x']));
  await receiver.request(1);
  await first.relay.close();
  // Cutting the attempt off is not a failure of the receiver's.
  assert.deepEqual(first.logs.filter((entry) => entry.level !== 'info').map((entry) => entry.msg), []);

  receiver.answer(status(200));
  const second = await first.restart();
  await receiver.request(2);
  await attempts(second, 1, 1);
  const [record] = await history(second, id);
  assert.deepEqual([record?.outcome, record?.attempts], ['success', 1]);
  assert.equal(receiver.received[0]?.headers['x-tiled-event-id'], receiver.received[1]?.headers['x-tiled-event-id']);
});

test('targets, history and the dedup of event ids survive a restart', async (t) => {
  const receiver = await startReceiver(t);
  const first = await startTestRelay(t);
  const id = await register(first, { url: receiver.url, secret: 'kept-secret', events: ['stream-closed'] });
  await first.ingest(tiledEvent('stream-closed', ['x']), { 'X-Tiled-Event-ID': 'catalog-event-1' });
  await attempts(first, 1, 1);
  const before = await history(first, id);

  const second = await first.restart();
  assert.deepEqual(await history(second, id), before);
  const [target] = (await (await second.api('GET', '/api/v1/webhooks/target/')).json()) as Array<Record<string, unknown>>;
  assert.deepEqual(target?.events, ['stream-closed']);
  const repeat = await second.ingest(tiledEvent('stream-closed', ['x']), { 'X-Tiled-Event-ID': 'catalog-event-1' });
  assert.equal(repeat.status, 200);

  await second.ingest(tiledEvent('stream-closed', ['y']));
  const request = await receiver.request(2);
  assert.match(String(request.headers['x-tiled-signature']), /^sha256=/);
  assert.equal(second.relay.store.state.nextDeliveryId, 3);
});

test('config targets are created from the file, kept, reconciled on restart and refused by DELETE', async (t) => {
  const receiver = await startReceiver(t);
  const targets = [
    { name: 'pipeline', path: 'raw', url: `${receiver.url}?pipeline`, secret: 'a' },
    { name: 'notify', url: `${receiver.url}?notify`, events: ['stream-closed'] },
  ];
  const first = await startTestRelay(t, { config: { targets } });
  const listed = (await (await first.api('GET', '/api/v1/webhooks/target/raw')).json()) as Array<{ id: number }>;
  assert.equal(listed.length, 1);
  const pipeline = listed[0]?.id ?? 0;

  const refused = await first.api('DELETE', `/api/v1/webhooks/${pipeline}`);
  assert.equal(refused.status, 409);
  assert.deepEqual(await refused.json(), {
    detail: `Webhook ${pipeline} ("pipeline") is managed by the config file: change or remove it under "targets" there and reload the relay.`,
    code: 'target_managed_by_config',
  });

  await first.ingest(tiledEvent('stream-closed', ['raw', 'x']));
  await attempts(first, 2, 1);

  const changed = [{ ...targets[0], url: `${receiver.url}?moved` }];
  const second = await first.restart({ config: { targets: changed } });
  const state = second.relay.store.state;
  assert.deepEqual([...state.targets.values()].map((target) => [target.id, target.name, target.url]), [
    [pipeline, 'pipeline', `${receiver.url}?moved`],
  ]);
  assert.equal((await history(second, pipeline)).length, 1, 'the history stays with the target');
  assert.ok(second.logs.some((entry) => entry.msg === 'config targets reconciled' && entry.updated === 1 && entry.deleted === 1));
});
