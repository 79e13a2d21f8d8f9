import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { startReceiver, status, unusedPort, type Received } from './helpers/receiver.js';
import { ADMIN_KEY, INGEST_SECRET, startTestRelay, tiledEvent, tiledJson, type TestRelay } from './helpers/relay-harness.js';
import { verifyStandardWebhook } from './helpers/standard-webhooks.js';

async function register(relay: TestRelay, path: string, body: Record<string, unknown>): Promise<number> {
  const response = await relay.api('POST', `/api/v1/webhooks/target/${path}`, body);
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { id: number }).id;
}

async function history(relay: TestRelay, id: number): Promise<Array<Record<string, unknown>>> {
  return (await (await relay.api('GET', `/api/v1/webhooks/history/${id}`)).json()) as Array<Record<string, unknown>>;
}

function settled(relay: TestRelay, deliveryId: number, attempts: number): Promise<unknown> {
  return eventually(() => (relay.relay.store.state.deliveries.get(deliveryId)?.attempts ?? 0) >= attempts, `attempt ${attempts} of delivery ${deliveryId}`);
}

test("Tiled's tutorial flow: two events reach a root target, signed, and the history shows success", async (t) => {
  const receiver = await startReceiver(t);
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url, secret: 'my-hmac-secret' });

  const first = tiledJson(tiledEvent('container-child-created', ['scan_001'], { metadata: { sample: 'Ni\u00e9' } }));
  const second = tiledJson(tiledEvent('stream-closed', ['scan_001']));
  assert.equal((await relay.ingest(first)).status, 202);
  assert.equal((await relay.ingest(second)).status, 202);

  const received = [await receiver.request(1), await receiver.request(2)].sort((a, b) => a.body.length - b.body.length);
  const bySize = [first, second].sort((a, b) => a.length - b.length);
  received.forEach((request, index) => {
    assert.equal(request.body.toString('utf8'), bySize[index]);
    const expected = `sha256=${createHmac('sha256', 'my-hmac-secret').update(request.body).digest('hex')}`;
    assert.equal(request.headers['x-tiled-signature'], expected);
    assert.equal(verifyStandardWebhook('my-hmac-secret', request.headers, request.body), true);
  });

  await settled(relay, 2, 1);
  const records = await history(relay, id);
  assert.equal(records.length, 2);
  for (const record of records) {
    assert.equal(record.outcome, 'success');
    assert.equal(record.attempts, 1);
    assert.equal(record.status_code, 200);
    assert.equal(record.error_detail, null);
    assert.equal(record.webhook_id, id);
  }
});

test('a delivery carries exactly the Tiled and Standard Webhooks headers', async (t) => {
  const receiver = await startReceiver(t);
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
  const body = tiledJson(tiledEvent('stream-closed', ['a', 'b']));
  await relay.ingest(body);
  const request = await receiver.request(1);

  const eventId = request.headers['x-tiled-event-id'];
  assert.match(String(eventId), /^[0-9a-f]{32}$/);
  const { 'webhook-signature': standard, 'x-tiled-signature': tiled, ...rest } = request.headers;
  assert.deepEqual(rest, {
    'content-type': 'application/json',
    'user-agent': 'hookrelay/0.1.0',
    'x-tiled-event-id': eventId,
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(relay.clock.now() / 1000)),
    'content-length': String(Buffer.byteLength(body)),
    host: new URL(receiver.url).host,
    connection: 'keep-alive',
  });
  assert.match(String(tiled), /^sha256=[0-9a-f]{64}$/);
  assert.equal(verifyStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', request.headers, request.body), true);

  await settled(relay, 1, 1);
  const [record] = await history(relay, id);
  assert.deepEqual(record, {
    id: 1,
    webhook_id: id,
    event_type: 'stream-closed',
    payload: JSON.parse(body),
    status_code: 200,
    attempts: 1,
    outcome: 'success',
    error_detail: null,
    time_created: new Date(relay.clock.now()).toISOString(),
    delivered_at: new Date(relay.clock.now()).toISOString(),
    event_id: eventId,
    ingest_event_id: record?.ingest_event_id,
    next_attempt_at: null,
  });
});

test('a target without a secret gets no signature headers', async (t) => {
  const receiver = await startReceiver(t);
  const relay = await startTestRelay(t);
  await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  const request = await receiver.request(1);
  assert.equal(request.headers['x-tiled-signature'], undefined);
  assert.equal(request.headers['webhook-signature'], undefined);
  assert.equal(request.headers['webhook-id'], request.headers['x-tiled-event-id']);
});

test('a sub-path target fires for its subtree only, and filters pick event types', async (t) => {
  const receiver = await startReceiver(t);
  const relay = await startTestRelay(t);
  const onA = await register(relay, 'a', { url: `${receiver.url}?a` });
  const created = await register(relay, '', { url: `${receiver.url}?created`, events: ['container-child-created'] });

  await relay.ingest(tiledEvent('container-child-created', ['a', 'x']));
  await relay.ingest(tiledEvent('container-child-metadata-updated', ['a', 'x']));
  await relay.ingest(tiledEvent('container-child-created', ['b', 'y']));
  await relay.ingest(tiledEvent('stream-closed', ['b', 'y']));
  await receiver.request(4);
  await settled(relay, 4, 1);

  const types = async (id: number) => (await history(relay, id)).map((record) => `${record.event_type} ${JSON.stringify((record.payload as { path: string[] }).path)}`);
  assert.deepEqual(await types(onA), ['container-child-metadata-updated ["a","x"]', 'container-child-created ["a","x"]']);
  assert.deepEqual(await types(created), ['container-child-created ["b","y"]', 'container-child-created ["a","x"]']);
  assert.equal(receiver.received.length, 4);
});

test('the same event gets a different event id for each target', async (t) => {
  const receiver = await startReceiver(t);
  const relay = await startTestRelay(t);
  await register(relay, '', { url: `${receiver.url}?one` });
  await register(relay, '', { url: `${receiver.url}?two` });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  const ids = [await receiver.request(1), await receiver.request(2)].map((request) => request.headers['x-tiled-event-id']);
  assert.notEqual(ids[0], ids[1]);
});

test('a failing delivery is retried after 1 s, 5 s and 25 s plus jitter, with one event id, then fails', async (t) => {
  const receiver = await startReceiver(t, status(500, {}, 'receiver is down'));
  const relay = await startTestRelay(t, { random: () => 0.5, config: { delivery: { jitterMs: 1000 } } });
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await receiver.request(1);
  await settled(relay, 1, 1);

  for (const [attempt, delay] of [[2, 1500], [3, 5500], [4, 25500]] as const) {
    relay.clock.advance(delay - 1);
    assert.deepEqual(relay.relay.dispatcher.backlog, { waiting: 1, ready: 0, running: 0 }, `attempt ${attempt} waits`);
    relay.clock.advance(1);
    await receiver.request(attempt);
    await settled(relay, 1, attempt);
  }
  assert.deepEqual(relay.relay.dispatcher.backlog, { waiting: 0, ready: 0, running: 0 });
  assert.equal(receiver.received.length, 4);

  const ids = new Set(receiver.received.map((request: Received) => request.headers['x-tiled-event-id']));
  assert.equal(ids.size, 1);
  const [record] = await history(relay, id);
  assert.equal(record?.outcome, 'failed');
  assert.equal(record?.attempts, 4);
  assert.equal(record?.status_code, 500);
  assert.equal(record?.error_detail, 'HTTP 500: receiver is down');
  assert.equal(record?.next_attempt_at, null);
  assert.ok(relay.logs.some((entry) => entry.msg === 'delivery failed and will not be retried' && entry.delivery === 1));
});

test('a delivery that fails once and then succeeds ends as success after 2 attempts', async (t) => {
  const receiver = await startReceiver(t, status(503));
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await settled(relay, 1, 1);
  const [pending] = await history(relay, id);
  assert.equal(pending?.outcome, 'pending');
  assert.equal(pending?.next_attempt_at, new Date(relay.clock.now() + 1000).toISOString());

  receiver.answer(status(204));
  relay.clock.advance(1000);
  await settled(relay, 1, 2);
  const [done] = await history(relay, id);
  assert.deepEqual([done?.outcome, done?.attempts, done?.status_code, done?.error_detail], ['success', 2, 204, null]);
});

test('a redirect is a failure and is never followed', async (t) => {
  const canary = await startReceiver(t);
  const receiver = await startReceiver(t, status(302, { Location: canary.url }));
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await settled(relay, 1, 1);
  const [record] = await history(relay, id);
  assert.deepEqual([record?.outcome, record?.status_code, record?.error_detail], ['pending', 302, 'HTTP 302: ']);
  assert.equal(canary.received.length, 0);
});

test('a receiver that does not answer in time fails the attempt at the timeout', async (t) => {
  const receiver = await startReceiver(t, () => {});
  const relay = await startTestRelay(t, { config: { delivery: { timeoutMs: 10_000 } } });
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await receiver.request(1);
  relay.clock.advance(9_999);
  assert.equal(relay.relay.dispatcher.backlog.running, 1);
  assert.equal(relay.relay.store.state.deliveries.get(1)?.attempts, 0);
  relay.clock.advance(1);
  await settled(relay, 1, 1);
  const [record] = await history(relay, id);
  assert.deepEqual([record?.status_code, record?.error_detail], [null, 'ETIMEDOUT: no answer within 10000 ms']);
});

test('a refused connection is a failed attempt without a status', async (t) => {
  const relay = await startTestRelay(t);
  const port = await unusedPort();
  const id = await register(relay, '', { url: `http://127.0.0.1:${port}/hook` });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await settled(relay, 1, 1);
  const [record] = await history(relay, id);
  assert.equal(record?.status_code, null);
  assert.equal(record?.error_detail, `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`);
});

test('410 Gone disables the target; later events are recorded as skipped', async (t) => {
  const receiver = await startReceiver(t, status(410));
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await settled(relay, 1, 1);
  await eventually(() => relay.relay.store.state.targets.get(id)?.active === false, 'the target to be disabled');

  const [target] = (await (await relay.api('GET', '/api/v1/webhooks/target/')).json()) as Array<{ active: boolean }>;
  assert.equal(target?.active, false);
  const answer = await relay.ingest(tiledEvent('stream-closed', ['y']));
  assert.equal(((await answer.json()) as { deliveries: number }).deliveries, 1);
  const records = await history(relay, id);
  assert.deepEqual(records.map((record) => [record.outcome, record.attempts, record.error_detail]), [
    ['skipped', 0, 'target was inactive (the receiver answered 410 Gone)'],
    ['failed', 1, 'HTTP 410: '],
  ]);
  assert.equal(receiver.received.length, 1);
});

test('Retry-After on a 429 puts the next attempt off as asked', async (t) => {
  const receiver = await startReceiver(t, status(429, { 'Retry-After': '120' }));
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await settled(relay, 1, 1);
  const [record] = await history(relay, id);
  assert.equal(record?.next_attempt_at, new Date(relay.clock.now() + 120_000).toISOString());
  relay.clock.advance(119_999);
  assert.deepEqual(relay.relay.dispatcher.backlog, { waiting: 1, ready: 0, running: 0 });
  relay.clock.advance(1);
  await receiver.request(2);
});

test('a slow target fills only its own slots and never holds the others back', async (t) => {
  const held: Array<() => void> = [];
  const slow = await startReceiver(t, (_request, response) => held.push(() => response.end()));
  const fast = await startReceiver(t);
  const relay = await startTestRelay(t, { config: { delivery: { concurrency: 4, perTargetConcurrency: 2 } } });
  await register(relay, '', { url: slow.url });
  await register(relay, '', { url: fast.url });

  for (let n = 0; n < 10; n += 1) await relay.ingest(tiledEvent('stream-closed', [`n${n}`]));
  await fast.request(10);
  assert.equal(slow.received.length, 2);
  assert.equal(relay.relay.dispatcher.backlog.ready, 8);

  // Each answer frees a slot for the next of the slow target's deliveries.
  await eventually(() => {
    for (const release of held.splice(0)) release();
    return slow.received.length === 10;
  }, 'the slow target to get all ten');
  for (const release of held.splice(0)) release();
});

test('no more attempts than delivery.concurrency are under way at once, over all targets', async (t) => {
  const held: Array<() => void> = [];
  const answerLater = (_request: unknown, response: { end(): void }) => held.push(() => response.end());
  const receivers = [await startReceiver(t, answerLater), await startReceiver(t, answerLater), await startReceiver(t, answerLater)];
  const relay = await startTestRelay(t, { config: { delivery: { concurrency: 4, perTargetConcurrency: 3 } } });
  for (const receiver of receivers) await register(relay, '', { url: receiver.url });

  for (let n = 0; n < 4; n += 1) await relay.ingest(tiledEvent('stream-closed', [`n${n}`]));
  await eventually(() => held.length === 4, 'four attempts to arrive');
  assert.deepEqual(relay.relay.dispatcher.backlog, { waiting: 0, ready: 8, running: 4 });

  await eventually(() => {
    for (const release of held.splice(0)) release();
    return receivers.every((receiver) => receiver.received.length === 4);
  }, 'every target to get all four');
  for (const release of held.splice(0)) release();
});

test('a target that starts failing is logged once, and so is its recovery', async (t) => {
  const receiver = await startReceiver(t, status(500));
  const relay = await startTestRelay(t);
  const id = await register(relay, '', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await relay.ingest(tiledEvent('stream-closed', ['y']));
  await settled(relay, 2, 1);
  await settled(relay, 1, 1);
  receiver.answer(status(200));
  relay.clock.advance(1000);
  await settled(relay, 1, 2);
  await settled(relay, 2, 2);

  const lines = relay.logs.filter((entry) => entry.target === id).map(({ time: _time, delivery: _delivery, ...entry }) => entry);
  assert.deepEqual(lines, [
    { level: 'warn', msg: 'target failing', target: id, status: 500, error: 'HTTP 500: ' },
    { level: 'info', msg: 'target recovered', target: id, failures: 2 },
  ]);
});

test('secrets never reach the logs, the API answers or the data file in the clear', async (t) => {
  const receiver = await startReceiver(t, status(500));
  const relay = await startTestRelay(t);
  const secret = 'target-secret-that-must-stay-hidden';
  await register(relay, '', { url: receiver.url, secret });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await settled(relay, 1, 1);
  const request = await receiver.request(1);

  const signature = String(request.headers['x-tiled-signature']);
  const written = readFileSync(relay.config.dataFile, 'utf8');
  const logged = JSON.stringify(relay.logs);
  const answered = await (await relay.api('GET', '/api/v1/webhooks/history/1')).text();
  for (const hidden of [secret, signature.slice(7), String(request.headers['webhook-signature']), ADMIN_KEY, INGEST_SECRET]) {
    for (const [where, text] of [['data file', written], ['logs', logged], ['API', answered]] as const) {
      assert.ok(!text.includes(hidden), `${hidden.slice(0, 12)}… appears in the ${where}`);
    }
  }
});
