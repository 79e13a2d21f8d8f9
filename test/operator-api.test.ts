import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { AttemptRequest } from '../src/delivery-client.js';
import type { Sender } from '../src/dispatcher.js';
import { eventually } from './helpers/eventually.js';
import { FaultyFiles } from './helpers/faulty-files.js';
import { startTestRelay, tiledEvent, type HarnessOptions, type TestRelay } from './helpers/relay-harness.js';
import { answer, scriptedSender } from './helpers/scripted-sender.js';
import { verifyStandardWebhook } from './helpers/standard-webhooks.js';

type Json = Record<string, unknown>;

async function start(t: TestContext, options: HarnessOptions = {}) {
  const sender = scriptedSender();
  const relay = await startTestRelay(t, { sender, ...options });
  return { relay, sender };
}

async function call(relay: TestRelay, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await relay.api(method, path, body);
  return { status: response.status, json: await response.json() };
}

async function register(relay: TestRelay, body: Json, path = ''): Promise<number> {
  const { status, json } = await call(relay, 'POST', `/api/v1/webhooks/target/${path}`, body);
  assert.equal(status, 200, JSON.stringify(json));
  return json.id as number;
}

async function history(relay: TestRelay, id: number): Promise<Json[]> {
  return (await call(relay, 'GET', `/api/v1/webhooks/history/${id}`)).json as Json[];
}

function attempts(sender: { sent: AttemptRequest[] }, count: number): Promise<void> {
  return eventually(() => sender.sent.length >= count, `${count} attempts`);
}

/** Waits until every delivery in the relay's state is settled. */
function allSettled(relay: TestRelay): Promise<void> {
  return eventually(
    () => [...relay.relay.store.state.deliveries.values()].every((delivery) => delivery.outcome !== 'pending'),
    'every delivery to settle',
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

test('all targets are listed, and one is shown, with path, management and health', async (t) => {
  const { relay } = await start(t, {
    config: { targets: [{ name: 'lab', path: 'raw', url: 'https://example.org/lab', ordered: true }] },
  });
  const id = await register(relay, { url: 'https://example.org/hook', secret: 's3cret' }, 'raw/scans');
  const created = iso(relay.clock.now());

  const listed = await call(relay, 'GET', '/api/v1/webhooks/');
  assert.equal(listed.status, 200);
  const health = { consecutive_failures: 0, last_success_at: null, failing_since: null, disabled_reason: null };
  assert.deepEqual(listed.json, [
    {
      id: 1, url: 'https://example.org/lab', events: null, active: true, time_created: created,
      path: 'raw', name: 'lab', managed_by: 'config', ordered: true, has_secret: false, secret_overlap_until: null, health,
    },
    {
      id, url: 'https://example.org/hook', events: null, active: true, time_created: created,
      path: 'raw/scans', name: null, managed_by: 'api', ordered: false, has_secret: true, secret_overlap_until: null, health,
    },
  ]);
  assert.deepEqual((await call(relay, 'GET', `/api/v1/webhooks/${id}`)).json, listed.json[1]);
  assert.deepEqual(await call(relay, 'GET', '/api/v1/webhooks/99'), {
    status: 404,
    json: { detail: 'Webhook not found.', code: 'target_not_found' },
  });
});

test('PATCH changes url, events and ordered, checked as at registration, and survives a restart', async (t) => {
  const { relay } = await start(t, {
    config: { targets: [{ name: 'lab', url: 'https://example.org/lab' }] },
  });
  const id = await register(relay, { url: 'https://example.org/hook' });

  const changed = await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, {
    url: 'https://example.net/new',
    events: ['stream-closed'],
    ordered: true,
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.json));
  assert.equal(changed.json.url, 'https://example.net/new');
  assert.deepEqual(changed.json.events, ['stream-closed']);
  assert.equal(changed.json.ordered, true);

  const refusals: Array<[unknown, number, string, RegExp]> = [
    [{}, 422, 'invalid_request', /nothing to change/],
    [{ url: 'https://example.org/x', nme: 1 }, 422, 'invalid_request', /cannot change "nme"/],
    [{ active: 'no' }, 422, 'invalid_request', /active must be true or false/],
    [{ ordered: 1 }, 422, 'invalid_request', /ordered must be true or false/],
    [{ url: 'ftp://example.org/hook' }, 422, 'url_not_allowed', /must use http or https/],
    [{ url: 'https://10.0.0.1/hook' }, 400, 'target_forbidden', /private/],
    [{ events: ['node-created'] }, 422, 'invalid_request', /not an event type/],
    [{ secret: 7 }, 422, 'invalid_request', /secret must be a string/],
    ['{"__proto__": {"active": false}}', 400, 'forbidden_key', /__proto__/],
  ];
  for (const [body, status, code, detail] of refusals) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const answered = await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, text);
    assert.equal(answered.status, status, text);
    assert.equal(answered.json.code, code, text);
    assert.match(answered.json.detail, detail, text);
  }
  assert.deepEqual((await call(relay, 'GET', `/api/v1/webhooks/${id}`)).json, changed.json, 'a refused change stores nothing');

  const managed = await call(relay, 'PATCH', '/api/v1/webhooks/1', { active: false });
  assert.equal(managed.status, 409);
  assert.equal(managed.json.code, 'target_managed_by_config');

  const again = await relay.restart();
  assert.deepEqual((await call(again, 'GET', `/api/v1/webhooks/${id}`)).json, changed.json);
});

test('a change of target health made while a PATCH is being written does not undo the PATCH', async (t) => {
  let fail = (): void => {};
  const sender: Sender = {
    send: () => new Promise((resolve) => (fail = () => resolve(answer(500)))),
  };
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { sender, files, config: { delivery: { retryDelaysMs: [] } } });
  const id = await register(relay, { url: 'https://example.org/a' });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await eventually(() => relay.relay.dispatcher.backlog.running === 1, 'the attempt to start');

  // The PATCH waits for the disk; meanwhile the attempt fails and the target's health changes.
  files.hold('datasync');
  const patched = call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { events: ['stream-closed'] });
  await eventually(() => files.waiting('datasync') === 1, 'the PATCH to be written');
  fail();
  await eventually(() => relay.relay.store.state.targets.get(id)?.failingSince !== null, 'the failure to be noted');
  files.release('datasync');
  assert.equal((await patched).status, 200);
  await allSettled(relay);

  const expected = { events: ['stream-closed'], failing: true };
  const shown = (await call(relay, 'GET', `/api/v1/webhooks/${id}`)).json;
  assert.deepEqual({ events: shown.events, failing: shown.health.failing_since !== null }, expected);
  const restarted = await relay.restart({ files: new FaultyFiles() });
  const target = restarted.relay.store.state.targets.get(id);
  assert.deepEqual({ events: target?.events, failing: target?.failingSince !== null }, expected);
});

test('a paused target records matching events as skipped; resumed, it gets new ones', async (t) => {
  const { relay, sender } = await start(t);
  const id = await register(relay, { url: 'https://example.org/hook' });

  const paused = await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: false });
  assert.equal(paused.json.active, false);
  assert.equal(paused.json.health.disabled_reason, 'paused through the API');
  assert.equal((await relay.ingest(tiledEvent('stream-closed', ['a']))).status, 202);
  assert.deepEqual((await history(relay, id)).map((record) => [record.outcome, record.attempts, record.error_detail]), [
    ['skipped', 0, 'target was inactive (paused through the API)'],
  ]);

  const resumed = await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: true });
  assert.equal(resumed.json.health.disabled_reason, null);
  await relay.ingest(tiledEvent('stream-closed', ['b']));
  await attempts(sender, 1);
  assert.deepEqual(sender.bodies().map((body) => body.path), [['b']]);
});

test('replay queues failed and skipped deliveries of a time range again, with the same event ids', async (t) => {
  const { relay, sender } = await start(t, { config: { delivery: { retryDelaysMs: [] } } });
  const id = await register(relay, { url: 'https://example.org/hook' });
  const start0 = relay.clock.now();

  sender.answerWith(() => answer(500));
  await relay.ingest(tiledEvent('stream-closed', ['failed']));
  await attempts(sender, 1);
  relay.clock.advance(3_600_000);
  await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: false });
  await relay.ingest(tiledEvent('stream-closed', ['skipped']));
  await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: true });
  relay.clock.advance(3_600_000);
  sender.answerWith(() => answer(200));
  await relay.ingest(tiledEvent('stream-closed', ['success']));
  await attempts(sender, 2);
  await allSettled(relay);
  const before = await history(relay, id);

  const replayed = await call(relay, 'POST', `/api/v1/webhooks/${id}/replay`, { since: iso(start0) });
  assert.deepEqual(replayed, { status: 202, json: { queued: 2 } });
  await attempts(sender, 4);
  await allSettled(relay);
  const eventIds = new Map(before.map((record) => [(record.payload as Json).path?.toString(), record.event_id]));
  for (const request of sender.sent.slice(2)) {
    const path = (JSON.parse(request.body.toString('utf8')) as Json).path?.toString();
    assert.equal(request.headers['X-Tiled-Event-ID'], eventIds.get(path), `${path} keeps its event id`);
  }
  assert.deepEqual((await history(relay, id)).map((record) => [(record.payload as Json).path?.toString(), record.outcome, record.attempts]), [
    ['success', 'success', 1],
    ['skipped', 'success', 1],
    ['failed', 'success', 2],
  ]);

  const onlySuccess = { since: iso(start0 + 5_400_000), until: iso(start0 + 7_300_000), outcomes: ['success'] };
  assert.deepEqual(await call(relay, 'POST', `/api/v1/webhooks/${id}/replay`, onlySuccess), { status: 202, json: { queued: 1 } });
  await attempts(sender, 5);
  assert.equal(sender.bodies()[4]?.path?.toString(), 'success');
});

test('a replay is refused for a bad window, a pending outcome or an inactive target', async (t) => {
  const { relay } = await start(t);
  const id = await register(relay, { url: 'https://example.org/hook' });
  const cases: Array<[Json, number, string, RegExp]> = [
    [{}, 422, 'invalid_request', /since is required/],
    [{ since: 'yesterday' }, 422, 'invalid_request', /since must be an ISO 8601 time/],
    [{ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 422, 'invalid_request', /until must be later/],
    [{ since: '2026-01-01T00:00:00Z', outcomes: ['pending'] }, 422, 'invalid_request', /outcomes must be/],
    [{ since: '2026-01-01T00:00:00Z', outcomes: [] }, 422, 'invalid_request', /outcomes must be/],
  ];
  for (const [body, status, code, detail] of cases) {
    const answered = await call(relay, 'POST', `/api/v1/webhooks/${id}/replay`, body);
    assert.equal(answered.status, status, JSON.stringify(body));
    assert.equal(answered.json.code, code);
    assert.match(answered.json.detail, detail);
  }
  await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: false });
  const inactive = await call(relay, 'POST', `/api/v1/webhooks/${id}/replay`, { since: '2026-01-01T00:00:00Z' });
  assert.equal(inactive.status, 409);
  assert.equal(inactive.json.code, 'target_inactive');
  assert.match(inactive.json.detail, /inactive \(paused through the API\): resume it/);
});

test('redeliver sends a settled delivery again now, with the same event id, and attempts keep counting', async (t) => {
  const { relay, sender } = await start(t);
  const id = await register(relay, { url: 'https://example.org/hook', secret: 'redeliver-secret' });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await attempts(sender, 1);
  await allSettled(relay);

  const redelivered = await call(relay, 'POST', '/api/v1/webhooks/redeliver/1');
  assert.equal(redelivered.status, 202);
  assert.equal(redelivered.json.outcome, 'pending');
  assert.equal(redelivered.json.attempts, 1);
  await attempts(sender, 2);
  await allSettled(relay);
  const [first, second] = sender.sent;
  assert.equal(second?.headers['X-Tiled-Event-ID'], first?.headers['X-Tiled-Event-ID']);
  assert.deepEqual(second?.body, first?.body);
  const [record] = await history(relay, id);
  assert.equal(record?.outcome, 'success');
  assert.equal(record?.attempts, 2);

  assert.deepEqual(await call(relay, 'POST', '/api/v1/webhooks/redeliver/999'), {
    status: 404,
    json: { detail: 'Delivery not found.', code: 'delivery_not_found' },
  });
  assert.equal((await call(relay, 'POST', '/api/v1/webhooks/redeliver/first')).json.code, 'invalid_request');
});

test('a redelivered delivery gets the retry schedule afresh, also across a restart', async (t) => {
  const { relay, sender } = await start(t, { config: { delivery: { retryDelaysMs: [1_000, 1_000] } } });
  await register(relay, { url: 'https://example.org/hook' });
  sender.answerWith(() => answer(503));
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await attempts(sender, 1);
  await eventually(() => relay.relay.store.state.deliveries.get(1)?.nextAttemptAt !== null);

  const pending = await call(relay, 'POST', '/api/v1/webhooks/redeliver/1');
  assert.equal(pending.status, 409);
  assert.equal(pending.json.code, 'delivery_pending');
  relay.clock.advance(1_000);
  await attempts(sender, 2);
  relay.clock.advance(1_000);
  await attempts(sender, 3);
  await allSettled(relay);
  assert.equal(relay.relay.store.state.deliveries.get(1)?.outcome, 'failed');

  assert.equal((await call(relay, 'POST', '/api/v1/webhooks/redeliver/1')).status, 202);
  await attempts(sender, 4);
  await eventually(() => relay.relay.store.state.deliveries.get(1)?.attempts === 4);
  assert.equal((await history(relay, 1))[0]?.outcome, 'pending', 'attempt 4 is retried: the schedule started over');

  // Attempt 5 is the second of the new run, so it is retried too, once more.
  const restartedSender = scriptedSender(() => answer(503));
  const again = await relay.restart({ sender: restartedSender });
  again.clock.advance(1_000);
  await attempts(restartedSender, 1);
  await eventually(() => again.relay.store.state.deliveries.get(1)?.attempts === 5);
  assert.equal((await history(again, 1))[0]?.outcome, 'pending');
  again.clock.advance(1_000);
  await attempts(restartedSender, 2);
  await allSettled(again);
  const [last] = await history(again, 1);
  assert.equal(last?.outcome, 'failed');
  assert.equal(last?.attempts, 6);
});

test('ping sends a signed test event to that target alone and records the result', async (t) => {
  const { relay, sender } = await start(t);
  const id = await register(relay, { url: 'https://example.org/one', secret: 'ping-secret' });
  const other = await register(relay, { url: 'https://example.org/two' });

  const pinged = await call(relay, 'POST', `/api/v1/webhooks/${id}/ping`);
  assert.equal(pinged.status, 200);
  assert.equal(pinged.json.event_type, 'ping');
  assert.equal(pinged.json.outcome, 'success');
  assert.equal(pinged.json.attempts, 1);
  assert.equal(pinged.json.status_code, 200);
  assert.deepEqual(pinged.json.payload, {
    type: 'ping',
    timestamp: iso(relay.clock.now()),
    path: [],
    webhook_id: id,
    detail: 'a test event sent by hookrelay; it does not come from the catalog',
  });
  const [request] = sender.sent;
  assert.equal(sender.sent.length, 1);
  assert.equal(request?.url, 'https://example.org/one');
  assert.equal(request?.headers['X-Tiled-Signature'], `sha256=${createHmac('sha256', 'ping-secret').update(request.body).digest('hex')}`);
  assert.deepEqual((await history(relay, id)).map((record) => record.id), [pinged.json.id]);
  assert.deepEqual(await history(relay, other), []);

  sender.answerWith(() => answer(500));
  const failed = await call(relay, 'POST', `/api/v1/webhooks/${id}/ping`);
  assert.equal(failed.json.outcome, 'failed');
  assert.equal(failed.json.status_code, 500);
  relay.clock.advance(60_000);
  assert.equal(sender.sent.length, 2, 'a ping is not retried');
  assert.equal((await call(relay, 'GET', `/api/v1/webhooks/${id}`)).json.health.consecutive_failures, 0);
});

test('a new secret signs beside the old one during the overlap, then alone', async (t) => {
  const { relay, sender } = await start(t);
  const id = await register(relay, { url: 'https://example.org/hook', secret: 'old-secret-value' });
  const rotated = await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { secret: 'new-secret-value' });
  assert.equal(rotated.json.secret_overlap_until, iso(relay.clock.now() + 86_400_000));

  const verifies = (request: AttemptRequest | undefined, secret: string) =>
    verifyStandardWebhook(secret, request?.headers ?? {}, request?.body ?? Buffer.alloc(0));
  const tiled = (request: AttemptRequest | undefined) => request?.headers['X-Tiled-Signature'];
  const hmac = (secret: string, body: Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  await relay.ingest(tiledEvent('stream-closed', ['during']));
  await attempts(sender, 1);
  const during = sender.sent[0];
  assert.equal(during?.headers['webhook-signature']?.split(' ').length, 2);
  assert.ok(verifies(during, 'old-secret-value') && verifies(during, 'new-secret-value'));
  assert.equal(tiled(during), hmac('new-secret-value', during?.body ?? Buffer.alloc(0)));

  // The overlap is kept in the data file (sealed), so a restart does not cut it short.
  const restartedSender = scriptedSender();
  const again = await relay.restart({ sender: restartedSender });
  const dataFile = readFileSync(again.config.dataFile, 'utf8');
  assert.ok(!dataFile.includes('old-secret-value') && !dataFile.includes('new-secret-value'));
  await again.ingest(tiledEvent('stream-closed', ['after-restart']));
  await attempts(restartedSender, 1);
  assert.ok(verifies(restartedSender.sent[0], 'old-secret-value'));

  again.clock.advance(86_400_000);
  await again.ingest(tiledEvent('stream-closed', ['after']));
  await attempts(restartedSender, 2);
  const after = restartedSender.sent[1];
  assert.equal(after?.headers['webhook-signature']?.split(' ').length, 1);
  assert.ok(verifies(after, 'new-secret-value'));
  assert.ok(!verifies(after, 'old-secret-value'));
  assert.equal((await call(again, 'GET', `/api/v1/webhooks/${id}`)).json.secret_overlap_until, null);
});

test('a target whose every attempt failed for disableAfterMs is disabled; a success resets the clock', async (t) => {
  const { relay, sender } = await start(t, { config: { delivery: { retryDelaysMs: [], disableAfterMs: 10_000 } } });
  const id = await register(relay, { url: 'https://example.org/hook' });
  const health = async (on = relay) => (await call(on, 'GET', `/api/v1/webhooks/${id}`)).json as Json & { health: Json };
  const send = async (name: string, on = relay) => {
    await on.ingest(tiledEvent('stream-closed', [name]));
    await allSettled(on);
  };

  sender.answerWith(() => answer(500));
  await send('first-failure');
  assert.equal((await health()).health.failing_since, iso(relay.clock.now()));
  relay.clock.advance(5_000);
  sender.answerWith(() => answer(200));
  await send('success');
  assert.deepEqual((await health()).health, {
    consecutive_failures: 0,
    last_success_at: iso(relay.clock.now()),
    failing_since: null,
    disabled_reason: null,
  });

  sender.answerWith(() => answer(500));
  const failingSince = relay.clock.now();
  await send('second-run');
  // The start of the run survives a restart; it is what disableAfterMs is measured from.
  const restartedSender = scriptedSender(() => answer(500));
  const again = await relay.restart({ sender: restartedSender });
  assert.equal((await health(again)).health.failing_since, iso(failingSince));
  again.clock.advance(9_999);
  await send('still-under', again);
  assert.equal((await health(again)).active, true);
  again.clock.advance(1);
  await send('over', again);
  await eventually(async () => (await health(again)).active === false, 'the target to be disabled');
  assert.equal((await health(again)).health.disabled_reason, `every attempt failed since ${iso(failingSince)}`);
  assert.ok(again.logs.some((line) => line.msg === 'target disabled' && line.target === id));
});

test('an ordered target gets one delivery at a time in ingest order, holding later ones during retries', async (t) => {
  const { relay, sender } = await start(t, { config: { delivery: { retryDelaysMs: [1_000, 1_000] } } });
  await register(relay, { url: 'https://example.org/hook', ordered: true });
  sender.answerWith(() => answer(500));
  for (const name of ['e1', 'e2', 'e3']) await relay.ingest(tiledEvent('stream-closed', [name]));
  await attempts(sender, 1);
  await eventually(() => relay.relay.dispatcher.backlog.running === 0);
  assert.deepEqual(relay.relay.dispatcher.backlog, { waiting: 3, ready: 0, running: 0 });

  relay.clock.advance(1_000);
  await attempts(sender, 2);
  sender.answerWith(() => answer(200));
  relay.clock.advance(1_000);
  await attempts(sender, 5);
  await allSettled(relay);
  assert.deepEqual(sender.bodies().map((body) => body.path?.toString()), ['e1', 'e1', 'e1', 'e2', 'e3']);
});

test('an ordered target that stops asking for order releases what it held', async (t) => {
  const paths: string[] = [];
  let release = (): void => {};
  const sender: Sender = {
    // The first attempt stays under way until the test releases it.
    send: (request) => {
      paths.push(String((JSON.parse(request.body.toString('utf8')) as Json).path));
      if (paths.length > 1) return Promise.resolve(answer(200));
      return new Promise((resolve) => {
        release = () => resolve(answer(200));
      });
    },
  };
  const relay = await startTestRelay(t, { sender });
  const id = await register(relay, { url: 'https://example.org/hook', ordered: true });
  for (const name of ['e1', 'e2', 'e3']) await relay.ingest(tiledEvent('stream-closed', [name]));
  await eventually(() => paths.length === 1);
  assert.equal(relay.relay.dispatcher.backlog.waiting, 2);

  await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { ordered: false });
  await eventually(() => paths.length === 3, 'the held deliveries to go');
  assert.deepEqual(paths, ['e1', 'e2', 'e3']);
  release();
  await allSettled(relay);
});

test('a replay takes events accepted from since up to but not including until', async (t) => {
  const { relay, sender } = await start(t, { config: { delivery: { retryDelaysMs: [] } } });
  const id = await register(relay, { url: 'https://example.org/hook' });
  sender.answerWith(() => answer(500));
  const accepted: number[] = [];
  for (const name of ['before', 'first', 'at-until']) {
    accepted.push(relay.clock.now());
    await relay.ingest(tiledEvent('stream-closed', [name]));
    relay.clock.advance(60_000);
  }
  await attempts(sender, 3);
  await allSettled(relay);

  sender.answerWith(() => answer(200));
  const window = { since: iso(accepted[1] ?? 0), until: iso(accepted[2] ?? 0) };
  const replayed = await call(relay, 'POST', `/api/v1/webhooks/${id}/replay`, window);
  assert.deepEqual(replayed, { status: 202, json: { queued: 1 } });
  await attempts(sender, 4);
  await allSettled(relay);
  assert.deepEqual(sender.bodies().map((body) => String(body.path)), ['before', 'first', 'at-until', 'first']);
});

test('a ping reaches a paused target, which stays paused', async (t) => {
  const { relay, sender } = await start(t);
  const id = await register(relay, { url: 'https://example.org/hook' });
  await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: false });

  const pinged = await call(relay, 'POST', `/api/v1/webhooks/${id}/ping`);
  assert.deepEqual([pinged.status, pinged.json.outcome, pinged.json.attempts], [200, 'success', 1]);
  assert.deepEqual(sender.sent.map((request) => request.url), ['https://example.org/hook']);
  const shown = (await call(relay, 'GET', `/api/v1/webhooks/${id}`)).json;
  assert.deepEqual([shown.active, shown.health.disabled_reason], [false, 'paused through the API']);
});

test('a redelivery for a paused target is refused until the target is resumed', async (t) => {
  const { relay, sender } = await start(t);
  const id = await register(relay, { url: 'https://example.org/hook' });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await attempts(sender, 1);
  await allSettled(relay);
  await call(relay, 'PATCH', `/api/v1/webhooks/${id}`, { active: false });

  const refused = await call(relay, 'POST', '/api/v1/webhooks/redeliver/1');
  assert.deepEqual(refused, {
    status: 409,
    json: {
      detail:
        `Webhook ${id} is inactive (paused through the API): resume it with PATCH {"active": true} ` +
        'first, or its deliveries are only skipped again.',
      code: 'target_inactive',
    },
  });
  assert.equal(sender.sent.length, 1, 'nothing is sent');
});
