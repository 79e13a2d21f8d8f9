import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { Sender } from '../src/dispatcher.js';
import { eventually } from './helpers/eventually.js';
import { FaultyFiles } from './helpers/faulty-files.js';
import { startReceiver, status } from './helpers/receiver.js';
import { answer } from './helpers/scripted-sender.js';
import {
  ADMIN_KEY,
  INGEST_SECRET,
  READ_KEY,
  eventId,
  recordingSender,
  signature,
  startTestRelay,
  tiledEvent,
  tiledJson,
  type TestRelay,
} from './helpers/relay-harness.js';

const packageFile = new URL('../../package.json', import.meta.url);
const { version } = JSON.parse(readFileSync(packageFile, 'utf8')) as { version: string };
const WRITE_ONLY_KEY = 'test-write-only-key-0123456789';
const iso = (ms: number) => new Date(ms).toISOString();

interface MetricsPage {
  samples: Record<string, number>;
  types: Record<string, string>;
}

/** Samples of a Prometheus text page by `name{labels}` as written, and every family's type. */
function parseMetrics(text: string): MetricsPage {
  const samples: Record<string, number> = {};
  const types: Record<string, string> = {};
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types[type[1] as string] = type[2] as string;
    if (line.startsWith('#')) continue;
    const sample = /^(\S+) (\S+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    samples[sample[1] as string] = Number(sample[2]);
  }
  return { samples, types };
}

const READER = { Authorization: `Apikey ${READ_KEY}` };

/** A GET with the read-only key, or the headers given. */
function read(relay: TestRelay, path: string, headers: Record<string, string> = READER) {
  return relay.api('GET', path, undefined, headers);
}

async function scrape(relay: TestRelay): Promise<MetricsPage> {
  const response = await read(relay, '/metrics');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseMetrics(await response.text());
}

async function register(relay: TestRelay, url: string): Promise<number> {
  const response = await relay.api('POST', '/api/v1/webhooks/target/', { url });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: number }).id;
}

async function health(url: string): Promise<{ status: number; cache: unknown; json: unknown }> {
  const response = await fetch(`${url}/healthz`);
  const cache = response.headers.get('cache-control');
  return { status: response.status, cache, json: await response.json() };
}

const HEALTHY = { status: 'ok', serving: true, data_file: { writable: true, error: null } };

test('healthz answers 200 without a key while the data file is writable', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });
  assert.deepEqual(await health(relay.url), { status: 200, cache: 'no-store', json: HEALTHY });
});

test('healthz answers 503 after a failed fdatasync, and 200 once a write succeeds', async (t) => {
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { files, sender: recordingSender() });
  files.fail('datasync', 'EIO');
  assert.equal((await relay.ingest(tiledEvent('stream-closed', ['a']))).status, 503);

  assert.deepEqual(await health(relay.url), {
    status: 503,
    cache: 'no-store',
    json: {
      status: 'failing',
      serving: true,
      data_file: { writable: false, error: 'fdatasync of the data file failed: EIO' },
    },
  });
  assert.equal((await relay.ingest(tiledEvent('stream-closed', ['b']))).status, 202);
  assert.deepEqual(await health(relay.url), { status: 200, cache: 'no-store', json: HEALTHY });
});

test('healthz answers a client that the failed-authentication limiter holds back', async (t) => {
  const relay = await startTestRelay(t, {
    sender: recordingSender(),
    config: { security: { allowHttp: true, maxAuthFailuresPerMinute: 1 } },
  });
  const wrong = { Authorization: 'Apikey not-a-key-at-all-0123456789' };
  assert.equal((await read(relay, '/metrics', wrong)).status, 401);
  assert.equal((await read(relay, '/metrics', wrong)).status, 429);
  assert.deepEqual(await health(relay.url), { status: 200, cache: 'no-store', json: HEALTHY });
});

test('healthz answers 503 once the relay has begun to close', async (t) => {
  const files = new FaultyFiles();
  const sender = recordingSender();
  const relay = await startTestRelay(t, { files, sender, shutdownGraceMs: 60_000 });
  const socket = connect(Number(new URL(relay.url).port), '127.0.0.1');
  t.after(() => socket.destroy());
  let answers = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (answers += chunk));

  // An event waiting for its fdatasync keeps the connection open while the relay closes; a
  // request sent behind it on the same connection is then answered by the closing relay.
  files.hold('datasync');
  const body = tiledJson(tiledEvent('stream-closed', ['last']));
  const headers = [
    'POST /ingest HTTP/1.1',
    'Host: relay',
    'Content-Type: application/json',
    `X-Tiled-Signature: ${signature(INGEST_SECRET, body)}`,
    `Content-Length: ${body.length}`,
  ];
  socket.write(`${headers.join('\r\n')}\r\n\r\n${body}`);
  await eventually(() => files.waiting('datasync') === 1, 'the event to be written');
  const closing = relay.relay.close();
  socket.write('GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n');
  files.release('datasync');
  const answered = () => answers.split('HTTP/1.1 ').length === 3 && answers.endsWith('}');
  await eventually(answered, 'both answers');
  socket.destroy();
  await closing;

  const [ingested, healthz] = answers.split(/(?=HTTP\/1\.1 )/);
  assert.match(ingested ?? '', /^HTTP\/1\.1 202 Accepted\r\n/);
  assert.match(healthz ?? '', /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.deepEqual(JSON.parse((healthz ?? '').slice((healthz ?? '').indexOf('\r\n\r\n') + 4)), {
    status: 'failing',
    serving: false,
    data_file: { writable: true, error: null },
  });
});

test('metrics count events, deliveries and attempts as they happen, every label set', async (t) => {
  const succeeding = await startReceiver(t, status(200));
  const failing = await startReceiver(t, status(500));
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { files, config: { delivery: { retryDelaysMs: [] } } });
  const syncsAtStart = files.calls.datasync;
  const startedAt = relay.clock.now();
  const good = await register(relay, succeeding.url);
  const bad = await register(relay, failing.url);
  const paused = await register(relay, 'https://example.org/paused');
  await relay.api('PATCH', `/api/v1/webhooks/${paused}`, { active: false });

  for (const n of [1, 2, 1]) {
    await relay.ingest(tiledEvent('stream-closed', [`n${n}`]), { 'X-Tiled-Event-ID': eventId(n) });
  }
  const deliveries = relay.relay.store.state.deliveries;
  const settled = () => [...deliveries.values()].every((each) => each.outcome !== 'pending');
  await eventually(settled, 'every delivery to settle');

  // Progress is written after the deliveries settle in memory: scrape until the page and the
  // file agree, which they do once the last write is done.
  let page = await scrape(relay);
  await eventually(async () => {
    page = await scrape(relay);
    const fsyncs = page.samples.hookrelay_fsync_duration_seconds_count;
    const size = page.samples.hookrelay_data_file_size_bytes;
    const syncs = files.calls.datasync - syncsAtStart;
    return size === statSync(relay.config.dataFile).size && fsyncs === syncs;
  }, 'the data file to be written');

  const { samples, types } = page;
  const isFsync = ([name]: [string, number]) => name.startsWith('hookrelay_fsync_');
  const memoryNames = [
    'hookrelay_process_resident_memory_bytes',
    'hookrelay_heap_used_bytes',
    'hookrelay_external_memory_bytes',
  ];
  const isMemory = ([name]: [string, number]) => memoryNames.includes(name);
  const histogram = Object.entries(samples).filter(isFsync);
  const others = Object.fromEntries(
    Object.entries(samples).filter((entry) => !isFsync(entry) && !isMemory(entry)),
  );
  for (const name of memoryNames) {
    assert.ok((samples[name] ?? 0) > 0, `${name} is the process's own, more than 0`);
  }
  assert.ok((samples.hookrelay_process_resident_memory_bytes ?? 0) > (samples.hookrelay_heap_used_bytes ?? 0));
  assert.deepEqual(others, {
    [`hookrelay_build_info{version="${version}"}`]: 1,
    hookrelay_start_time_seconds: startedAt / 1000,
    hookrelay_events_ingested_total: 2,
    hookrelay_events_duplicate_total: 1,
    'hookrelay_deliveries_total{outcome="success"}': 2,
    'hookrelay_deliveries_total{outcome="failed"}': 2,
    'hookrelay_deliveries_total{outcome="skipped"}': 2,
    'hookrelay_delivery_attempts_total{class="2xx"}': 2,
    'hookrelay_delivery_attempts_total{class="3xx"}': 0,
    'hookrelay_delivery_attempts_total{class="4xx"}': 0,
    'hookrelay_delivery_attempts_total{class="5xx"}': 2,
    'hookrelay_delivery_attempts_total{class="error"}': 0,
    hookrelay_pending_deliveries: 0,
    hookrelay_oldest_pending_delivery_age_seconds: 0,
    [`hookrelay_target_consecutive_failures{target="${good}"}`]: 0,
    [`hookrelay_target_consecutive_failures{target="${bad}"}`]: 2,
    [`hookrelay_target_consecutive_failures{target="${paused}"}`]: 0,
    hookrelay_data_file_size_bytes: statSync(relay.config.dataFile).size,
    hookrelay_data_file_writable: 1,
    hookrelay_config_last_reload_successful: 1,
    hookrelay_config_last_reload_success_timestamp_seconds: startedAt / 1000,
  });

  const count = samples.hookrelay_fsync_duration_seconds_count ?? 0;
  const buckets = histogram.filter(([name]) => name.includes('_bucket')).map(([, value]) => value);
  assert.ok(count >= 6, `one fsync per registration, change and new event at least, got ${count}`);
  assert.equal(buckets.length, 16);
  assert.equal(buckets.at(-1), count, 'the +Inf bucket holds every observation');
  assert.ok(buckets.every((value, index) => index === 0 || value >= (buckets[index - 1] ?? 0)));
  assert.ok((samples.hookrelay_fsync_duration_seconds_sum ?? -1) >= 0);
  assert.deepEqual(types, {
    hookrelay_build_info: 'gauge',
    hookrelay_start_time_seconds: 'gauge',
    hookrelay_events_ingested_total: 'counter',
    hookrelay_events_duplicate_total: 'counter',
    hookrelay_deliveries_total: 'counter',
    hookrelay_delivery_attempts_total: 'counter',
    hookrelay_pending_deliveries: 'gauge',
    hookrelay_oldest_pending_delivery_age_seconds: 'gauge',
    hookrelay_target_consecutive_failures: 'gauge',
    hookrelay_data_file_size_bytes: 'gauge',
    hookrelay_data_file_writable: 'gauge',
    hookrelay_process_resident_memory_bytes: 'gauge',
    hookrelay_heap_used_bytes: 'gauge',
    hookrelay_external_memory_bytes: 'gauge',
    hookrelay_fsync_duration_seconds: 'histogram',
    hookrelay_config_last_reload_successful: 'gauge',
    hookrelay_config_last_reload_success_timestamp_seconds: 'gauge',
  });
});

test('pending deliveries and the age of the oldest show in metrics and status', async (t) => {
  // The attempt lasts until the test ends, so the delivery stays pending and nothing more is
  // written meanwhile.
  let finish = (): void => {};
  const silent: Sender = {
    send: () => new Promise((resolve) => (finish = () => resolve(answer(200)))),
  };
  t.after(() => finish());
  const relay = await startTestRelay(t, { sender: silent });
  const startedAt = relay.clock.now();
  await register(relay, 'https://example.org/hook');
  relay.clock.advance(5_000);
  const acceptedAt = relay.clock.now();
  await relay.ingest(tiledEvent('stream-closed', ['slow']));
  relay.clock.advance(30_000);

  const { samples } = await scrape(relay);
  assert.deepEqual(
    [samples.hookrelay_pending_deliveries, samples.hookrelay_oldest_pending_delivery_age_seconds],
    [1, 30],
  );
  const shown = await read(relay, '/api/v1/status');
  assert.equal(shown.status, 200);
  assert.deepEqual(await shown.json(), {
    events_ingested: 1,
    pending_deliveries: 1,
    oldest_pending_at: iso(acceptedAt),
    data_file_bytes: statSync(relay.config.dataFile).size,
    started_at: iso(startedAt),
    version,
    healthy: true,
  });
});

test('the metrics and the status need a key with the read scope', async (t) => {
  const relay = await startTestRelay(t, {
    sender: recordingSender(),
    config: {
      apiKeys: [
        { key: WRITE_ONLY_KEY, scopes: ['write:webhooks'] },
        { key: ADMIN_KEY, scopes: ['read:webhooks'] },
      ],
    },
  });
  const refusal = {
    detail:
      "Not enough permissions. Requires scopes ['read:webhooks']: " +
      'send "Authorization: Apikey <key>" with a key that has this scope.',
    code: 'unauthorized',
  };
  for (const path of ['/metrics', '/api/v1/status']) {
    for (const headers of [{}, { Authorization: `Apikey ${WRITE_ONLY_KEY}` }]) {
      const response = await read(relay, path, headers);
      const given = { status: response.status, json: await response.json() };
      assert.deepEqual(given, { status: 401, json: refusal }, path);
    }
    assert.equal((await read(relay, path, { Authorization: `Apikey ${ADMIN_KEY}` })).status, 200);
  }
});
