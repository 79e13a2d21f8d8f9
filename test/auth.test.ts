import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import {
  ADMIN_KEY,
  eventId,
  READ_KEY,
  recordingSender,
  signature,
  startTestRelay,
  tiledEvent,
  tiledJson,
  type TestRelay,
} from './helpers/relay-harness.js';

/** Sends a raw GET with the given header lines; answers status and body. */
function rawGet(
  relay: TestRelay,
  headerLines: string[],
): Promise<{ status: number; body: string }> {
  const { port } = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const head = 'GET /api/v1/webhooks/target/ HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n';
    const headers = headerLines.map((line) => `${line}\r\n`).join('');
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(`${head}${headers}\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
        body: text.slice(text.indexOf('\r\n\r\n') + 4),
      });
    });
  });
}

test('every malformed or wrong Authorization gets the same 401', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });
  const forms = [
    [],
    ['Authorization:'],
    ['Authorization: Apikey'],
    ['Authorization: Apikey '],
    ['Authorization: apikey wrong-key-0000000000'],
    ['Authorization: Bearer ' + ADMIN_KEY],
    ['Authorization: Basic ' + Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')],
    [`Authorization: Apikey ${ADMIN_KEY} extra`],
    [`Authorization: Apikey ${ADMIN_KEY}x`],
    [`Authorization: Apikey ${ADMIN_KEY.slice(0, -1)}`],
    [`Authorization: Apikey ${'k'.repeat(ADMIN_KEY.length)}`],
    ['Authorization: Apikey k'],
    [`Authorization: Apikey ${'k'.repeat(10_000)}`],
    [`Authorization: ${ADMIN_KEY}`],
    [`Authorization: Apikey\t${ADMIN_KEY}\u00e9`],
  ];
  const answers = [];
  for (const lines of forms) answers.push(await rawGet(relay, lines));
  const [first] = answers;
  assert.equal(first?.status, 401);
  for (const [index, answer] of answers.entries()) {
    assert.deepEqual(answer, first, `form ${index}: ${JSON.stringify(forms[index])}`);
  }
  assert.equal((await rawGet(relay, [`Authorization: Apikey ${ADMIN_KEY}`])).status, 200);
  assert.equal((await rawGet(relay, [`authorization: APIKEY ${ADMIN_KEY}`])).status, 200);
});

/** Status, Retry-After and body of an answer, to compare as one object. */
async function outcome(response: Response): Promise<Record<string, unknown>> {
  const retryAfter = response.headers.get('retry-after');
  return { status: response.status, retryAfter, body: await response.json() };
}

function tooMany(seconds: number): Record<string, unknown> {
  const detail = `too many failed attempts from this address; try again in ${seconds} s`;
  return { status: 429, retryAfter: String(seconds), body: { detail, code: 'too_many_requests' } };
}

const DENIED = {
  detail:
    "Not enough permissions. Requires scopes ['read:webhooks']: " +
    'send "Authorization: Apikey <key>" with a key that has this scope.',
  code: 'unauthorized',
};

test('once the API budget is spent a wrong key gets 429 and a right key 200', async (t) => {
  const config = { security: { maxAuthFailuresPerMinute: 5 } };
  const relay = await startTestRelay(t, { sender: recordingSender(), config });
  const wrong = { Authorization: 'Apikey wrong-key-000000000000' };
  const readOnly = { Authorization: `Apikey ${READ_KEY}` };
  const list = (headers?: Record<string, string>) =>
    relay.api('GET', '/api/v1/webhooks/target/', undefined, headers);
  const register = (headers: Record<string, string>) =>
    relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' }, headers);
  const refused = { status: 401, retryAfter: null, body: DENIED };
  for (let n = 0; n < 5; n += 1) assert.deepEqual(await outcome(await list(wrong)), refused);

  assert.deepEqual(await outcome(await list(wrong)), tooMany(12));
  assert.deepEqual(await outcome(await list()), { status: 200, retryAfter: null, body: [] });
  assert.deepEqual(await outcome(await register(readOnly)), tooMany(12), 'a key lacking the scope');
  assert.equal((await list(readOnly)).status, 200);
  const body = tiledJson(tiledEvent('stream-closed', ['x']));
  const forged = await relay.ingest(body, { 'X-Tiled-Signature': signature('wrong', body) });
  assert.equal(forged.status, 401, 'ingest has a budget of its own');

  relay.clock.advance(12_000);
  assert.equal((await list(wrong)).status, 401);
  assert.deepEqual(await outcome(await list(wrong)), tooMany(12));
});

test('with the ingest budget spent a bad signature gets 429 and a signed event 202', async (t) => {
  const config = { security: { maxAuthFailuresPerMinute: 3 } };
  const relay = await startTestRelay(t, { sender: recordingSender(), config });
  const body = tiledJson(tiledEvent('stream-closed', ['x']));
  const forged = { 'X-Tiled-Signature': signature('wrong', body) };
  const detail = 'X-Tiled-Signature does not match the body for the ingest secret';
  const refused = { status: 401, retryAfter: null, body: { detail, code: 'invalid_signature' } };
  for (let n = 0; n < 3; n += 1) {
    assert.deepEqual(await outcome(await relay.ingest(body, forged)), refused);
  }

  assert.deepEqual(await outcome(await relay.ingest(body, forged)), tooMany(20));
  const unsigned = await relay.ingest(body, { 'X-Tiled-Signature': null });
  assert.deepEqual(await outcome(unsigned), tooMany(20));
  const signed = await relay.ingest(body, { 'X-Tiled-Event-ID': eventId(1) });
  assert.deepEqual(await outcome(signed), {
    status: 202,
    retryAfter: null,
    body: { event_id: eventId(1), duplicate: false, deliveries: 0 },
  });
  const listed = await relay.api('GET', '/api/v1/webhooks/target/');
  assert.equal(listed.status, 200, 'the API has a budget of its own');

  relay.clock.advance(20_000);
  assert.equal((await relay.ingest(body, forged)).status, 401);
  assert.deepEqual(await outcome(await relay.ingest(body, forged)), tooMany(20));
});

/** A relay without secretKeys, holding one target registered with `secret`. */
async function relayWithoutSecretKeys(t: TestContext, secret: string): Promise<TestRelay> {
  const relay = await startTestRelay(t, {
    sender: recordingSender(),
    config: { secretKeys: [] },
  });
  await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a', secret });
  return relay;
}

test(
  'without secretKeys the relay warns, stores secrets as they are, and keeps the file private',
  async (t) => {
    const relay = await relayWithoutSecretKeys(t, 'visible-secret');
    assert.ok(
      relay.logs.some(
        (entry) =>
          entry.level === 'warn' && String(entry.msg).startsWith('no secretKeys configured'),
      ),
    );
    assert.equal(statSync(relay.config.dataFile).mode & 0o777, 0o600);
    assert.ok(
      readFileSync(relay.config.dataFile, 'utf8').includes('"secret":"plain:visible-secret"'),
    );
  },
);

test(
  'compaction seals stored secrets with the first secret key, so keys added later reach them',
  async (t) => {
    const relay = await relayWithoutSecretKeys(t, 'later-sealed');
    const keyed = await relay.restart({
      config: {
        secretKeys: ['a-new-secret-key-0123456789'],
        compaction: { ratio: 1, minBytes: 0 },
      },
    });
    // A deleted target leaves records the live state no longer needs, so compaction runs.
    const throwaway = (await (
      await keyed.api('POST', '/api/v1/webhooks/target/x', { url: 'https://example.org/b' })
    ).json()) as { id: number };
    await keyed.api('DELETE', `/api/v1/webhooks/${throwaway.id}`);
    await keyed.relay.maintenance.run();
    const file = readFileSync(keyed.config.dataFile, 'utf8');
    assert.ok(!file.includes('later-sealed'));
    assert.match(file, /"secret":"aes256gcm:/);
    const restarted = await keyed.restart();
    assert.equal(restarted.relay.store.state.targets.get(1)?.secret, 'later-sealed');
  },
);
