import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { FakeClock } from './helpers/fake-clock.js';
import { startTestRelay, tiledEvent, type TestRelay } from './helpers/relay-harness.js';
import { answer, scriptedSender } from './helpers/scripted-sender.js';

/** GET /api/v1/activity: every target's recent deliveries by outcome, for the status page. */

const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const MINUTE = 60_000;
const NONE = [0, 0, 0];

async function register(relay: TestRelay, path: string): Promise<number> {
  const response = await relay.api('POST', `/api/v1/webhooks/target/${path}`, {
    url: 'https://receiver.example/hook',
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: number }).id;
}

async function ingestSettled(relay: TestRelay, path: string[]): Promise<void> {
  assert.equal((await relay.ingest(tiledEvent('stream-closed', path))).status, 202);
  const dispatcher = relay.relay.dispatcher;
  await eventually(() => dispatcher.backlog.running === 0 && dispatcher.backlog.ready === 0);
}

async function activity(relay: TestRelay, query = ''): Promise<{ status: number; body: unknown }> {
  const response = await relay.api('GET', `/api/v1/activity${query}`);
  return { status: response.status, body: await response.json() };
}

test('counts every target\'s deliveries of the window by outcome, in buckets', async (t) => {
  // Events under raw/broken fail; one failure is retried after a minute, then it has failed.
  const sender = scriptedSender((request) =>
    answer(request.body.toString().includes('broken') ? 500 : 200),
  );
  const relay = await startTestRelay(t, {
    clock: new FakeClock(START),
    sender,
    config: { delivery: { retryDelaysMs: [MINUTE] } },
  });
  const raw = await register(relay, 'raw');
  const paused = await register(relay, 'processed');
  const idle = await register(relay, 'archive');
  const pausing = await relay.api('PATCH', `/api/v1/webhooks/${paused}`, { active: false });
  assert.equal(pausing.status, 200);

  await ingestSettled(relay, ['raw', 'scan_1']);
  await ingestSettled(relay, ['raw', 'broken', 'scan_2']);
  relay.clock.advance(10 * MINUTE);
  await ingestSettled(relay, ['processed', 'result_1']);
  await ingestSettled(relay, ['raw', 'broken', 'scan_3']);

  assert.deepEqual(await activity(relay, '?minutes=30&buckets=3'), {
    status: 200,
    body: {
      now: '2026-01-15T12:10:00.000Z',
      from: '2026-01-15T11:50:00.000Z',
      to: '2026-01-15T12:20:00.000Z',
      bucket_seconds: 600,
      targets: [
        { id: raw, success: [0, 1, 0], failed: [0, 1, 0], skipped: NONE, pending: [0, 0, 1] },
        { id: paused, success: NONE, failed: NONE, skipped: [0, 0, 1], pending: NONE },
        { id: idle, success: NONE, failed: NONE, skipped: NONE, pending: NONE },
      ],
    },
  });
});

test('an hour in five-minute buckets is counted unless the query says otherwise', async (t) => {
  const clock = new FakeClock(START + 90_000);
  const relay = await startTestRelay(t, { clock, sender: scriptedSender() });
  const id = await register(relay, '');
  await ingestSettled(relay, ['raw', 'scan_1']);

  const response = await relay.api('GET', '/api/v1/activity');

  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await response.json(), {
    now: '2026-01-15T12:01:30.000Z',
    from: '2026-01-15T11:05:00.000Z',
    to: '2026-01-15T12:05:00.000Z',
    bucket_seconds: 300,
    targets: [
      {
        id,
        success: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        failed: new Array(12).fill(0),
        skipped: new Array(12).fill(0),
        pending: new Array(12).fill(0),
      },
    ],
  });
});

test('the activity needs a key with the read scope', async (t) => {
  const relay = await startTestRelay(t, { sender: scriptedSender() });

  const response = await relay.api('GET', '/api/v1/activity', undefined, {});

  assert.equal(response.status, 401);
  assert.deepEqual(await response.json(), {
    detail:
      "Not enough permissions. Requires scopes ['read:webhooks']: " +
      'send "Authorization: Apikey <key>" with a key that has this scope.',
    code: 'unauthorized',
  });
});

test('a window the activity cannot serve is refused with the reason', async (t) => {
  const relay = await startTestRelay(t, { sender: scriptedSender() });
  const cases: Array<[string, string]> = [
    ['?minutes=0', 'minutes must be an integer from 1 to 1440, got "0"'],
    ['?minutes=1441', 'minutes must be an integer from 1 to 1440, got "1441"'],
    ['?minutes=an+hour', 'minutes must be an integer from 1 to 1440, got "an hour"'],
    ['?buckets=289', 'buckets must be an integer from 1 to 288, got "289"'],
    ['?buckets=-1', 'buckets must be an integer from 1 to 288, got "-1"'],
    ['?minutes=1&buckets=7', 'buckets must split 1 minutes into whole seconds, got "7"'],
  ];

  for (const [query, detail] of cases) {
    assert.deepEqual(await activity(relay, query), {
      status: 422,
      body: { detail, code: 'invalid_request' },
    });
  }
});

test('the activity answers GET only', async (t) => {
  const relay = await startTestRelay(t, { sender: scriptedSender() });

  const response = await relay.api('POST', '/api/v1/activity', {});

  assert.equal(response.status, 405);
  assert.equal(response.headers.get('allow'), 'GET');
});
