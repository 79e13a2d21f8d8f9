import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { test } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { FaultyFiles } from './helpers/faulty-files.js';
import {
  eventId,
  recordingSender,
  signature,
  startTestRelay,
  tiledEvent,
  tiledJson,
  INGEST_SECRET,
} from './helpers/relay-harness.js';

const created = tiledEvent('container-child-created', ['raw', 'scan_001'], { metadata: { sample: 'Ni\u00e9' } });

function eventsStored(dataFile: string): number {
  return readFileSync(dataFile, 'utf8').split('\n').filter((line) => line.includes('"type":"event"')).length;
}

test('a signed event is stored and acknowledged with 202', async (t) => {
  const { ingest, config } = await startTestRelay(t);
  const response = await ingest(created, { 'X-Tiled-Event-ID': eventId(1) });
  assert.equal(response.status, 202);
  assert.deepEqual(await response.json(), { event_id: eventId(1), duplicate: false, deliveries: 0 });
  assert.equal(eventsStored(config.dataFile), 1);
});

test('the exact body bytes are stored, escapes and spacing included', async (t) => {
  const { ingest, config } = await startTestRelay(t);
  const body = tiledJson(created);
  assert.match(body, /"sample": "Ni\\u00e9"/);
  await ingest(body, { 'X-Tiled-Event-ID': eventId(2) });
  const line = readFileSync(config.dataFile, 'utf8').split('\n').find((entry) => entry.includes('"type":"event"'));
  assert.equal(JSON.parse(line ?? '{}').body, body);
});

test('an event id seen before is answered 200 and stored once', async (t) => {
  const { ingest, config } = await startTestRelay(t);
  assert.equal((await ingest(created, { 'X-Tiled-Event-ID': eventId(3) })).status, 202);
  const again = await ingest(created, { 'X-Tiled-Event-ID': eventId(3) });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { event_id: eventId(3), duplicate: true, deliveries: 0 });
  assert.equal(eventsStored(config.dataFile), 1);
});

test('concurrent repeats of one event id are stored once', async (t) => {
  const { ingest, config } = await startTestRelay(t);
  const answers = await Promise.all(Array.from({ length: 10 }, () => ingest(created, { 'X-Tiled-Event-ID': eventId(4) })));
  assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
  assert.equal(eventsStored(config.dataFile), 1);
});

test('an event without an id gets one from the relay', async (t) => {
  const { ingest } = await startTestRelay(t);
  const response = await ingest(created);
  assert.equal(response.status, 202);
  assert.match(((await response.json()) as { event_id: string }).event_id, /^[0-9a-f]{32}$/);
});

test('refused events get a clear error and nothing is stored', async (t) => {
  const { ingest, config } = await startTestRelay(t);
  const body = tiledJson(created);
  const cases: Array<[string, Promise<Response>, number, string, RegExp]> = [
    ['no signature', ingest(body, { 'X-Tiled-Signature': null }), 401, 'invalid_signature', /X-Tiled-Signature is missing/],
    ['wrong secret', ingest(body, { 'X-Tiled-Signature': signature('other', body) }), 401, 'invalid_signature', /does not match/],
    ['signature of other bytes', ingest(`${body} `, { 'X-Tiled-Signature': signature(INGEST_SECRET, body) }), 401, 'invalid_signature', /does not match/],
    ['bad event id', ingest(body, { 'X-Tiled-Event-ID': 'has spaces in it' }), 400, 'invalid_event_id', /must be 1-128 letters/],
    ['long event id', ingest(body, { 'X-Tiled-Event-ID': 'a'.repeat(129) }), 400, 'invalid_event_id', /must be 1-128/],
    ['not JSON', ingest('{"type": '), 400, 'invalid_json', /not valid JSON/],
    ['not an object', ingest('[1, 2]'), 422, 'invalid_event', /must be a JSON object/],
    ['no type', ingest('{"path": ["a"]}'), 422, 'invalid_event', /needs "type"/],
    ['empty type', ingest('{"type": "", "path": ["a"]}'), 422, 'invalid_event', /needs "type"/],
    ['no path', ingest('{"type": "test"}'), 422, 'invalid_event', /needs "path"/],
    ['path not strings', ingest('{"type": "test", "path": ["a", 1]}'), 422, 'invalid_event', /needs "path"/],
    ['not JSON content', ingest(body, { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type', /must be application\/json/],
  ];
  for (const [what, pending, status, code, detail] of cases) {
    const response = await pending;
    assert.equal(response.status, status, what);
    const answer = (await response.json()) as { code: string; detail: string };
    assert.equal(answer.code, code, what);
    assert.match(answer.detail, detail, what);
  }
  assert.equal(eventsStored(config.dataFile), 0);
});

test('a body that is not UTF-8 is refused as invalid JSON', async (t) => {
  const { url } = await startTestRelay(t, { config: { ingest: { secret: null } } });
  const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
  const response = await fetch(`${url}/ingest`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { detail: 'request body is not valid UTF-8', code: 'invalid_json' });
});

test('without an ingest secret, unsigned events are accepted', async (t) => {
  const { ingest } = await startTestRelay(t, { config: { ingest: { secret: null } } });
  assert.equal((await ingest(created, { 'X-Tiled-Signature': null })).status, 202);
});

test('a body over the limit is refused with 413, declared or streamed', async (t) => {
  const { ingest, url, config } = await startTestRelay(t, { config: { ingest: { maxBodyBytes: 2048 } } });
  const big = tiledJson({ ...created, metadata: { blob: 'x'.repeat(3000) } });
  const declared = await ingest(big);
  assert.equal(declared.status, 413);
  assert.deepEqual(await declared.json(), {
    detail: 'request body is larger than the limit of 2048 bytes',
    code: 'payload_too_large',
  });

  const streamed = await new Promise<number>((resolve, reject) => {
    const outgoing = request(`${url}/ingest`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', reject);
    outgoing.write(big.slice(0, 1500));
    outgoing.end(big.slice(1500));
  });
  assert.equal(streamed, 413);
  assert.equal(eventsStored(config.dataFile), 0);
});

test('when the data file cannot be written, ingest answers 503 with Retry-After and recovers', async (t) => {
  const files = new FaultyFiles();
  const { ingest, config } = await startTestRelay(t, { files });
  files.fail('datasync', 'ENOSPC', Infinity);
  const refused = await ingest(created, { 'X-Tiled-Event-ID': eventId(5) });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.equal(((await refused.json()) as { code: string }).code, 'storage_unavailable');

  files.heal();
  assert.equal((await ingest(created, { 'X-Tiled-Event-ID': eventId(5) })).status, 202);
  assert.equal(eventsStored(config.dataFile), 1);
});

test('unknown paths are 404 and wrong methods 405, as JSON errors', async (t) => {
  const { url } = await startTestRelay(t);
  const missing = await fetch(`${url}/nothing-here`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { detail: 'no such endpoint: /nothing-here', code: 'not_found' });
  const wrong = await fetch(`${url}/ingest`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
});

test('ingests that arrive while one waits for its fdatasync all share the next one', async (t) => {
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { files, sender: recordingSender() });
  await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' });
  const state = relay.relay.store.state;
  const syncsBefore = files.calls.datasync;
  const firstDelivery = state.nextDeliveryId;
  const later = 10;

  const send = (n: number) =>
    relay.ingest(tiledEvent('stream-closed', [`n${n}`]), { 'X-Tiled-Event-ID': eventId(n) });

  files.hold('datasync');
  const first = send(0);
  await eventually(() => files.waiting('datasync') === 1, 'the first ingest to wait for its sync');
  const rest = Array.from({ length: later }, (_, n) => send(n + 1));
  // Each ingest takes its delivery id just before it is handed to the data file.
  const appended = (): boolean => state.nextDeliveryId === firstDelivery + 1 + later;
  await eventually(appended, 'every later ingest to be appended');
  assert.equal(files.waiting('datasync'), 1);
  files.release('datasync');

  const answers = await Promise.all([first, ...rest].map(async (answer) => (await answer).status));
  assert.deepEqual(answers, Array.from({ length: later + 1 }, () => 202));
  assert.equal(files.calls.datasync - syncsBefore, 2, 'one sync for the first, one for the rest');
});
