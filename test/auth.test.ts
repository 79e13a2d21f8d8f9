import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { ADMIN_KEY, INGEST_SECRET, recordingSender, signature, startTestRelay, tiledEvent, tiledJson, type TestRelay } from './helpers/relay-harness.js';

/** Sends a raw GET with the given header lines; answers status and body. */
function rawGet(relay: TestRelay, headerLines: string[]): Promise<{ status: number; body: string }> {
  const { port } = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET /api/v1/webhooks/target/ HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n${headerLines.map((line) => `${line}\r\n`).join('')}\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
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
  for (const [index, answer] of answers.entries()) assert.deepEqual(answer, first, `form ${index}: ${JSON.stringify(forms[index])}`);
  assert.equal((await rawGet(relay, [`Authorization: Apikey ${ADMIN_KEY}`])).status, 200);
  assert.equal((await rawGet(relay, [`authorization: APIKEY ${ADMIN_KEY}`])).status, 200);
});

test('repeated failed authentication from one address is answered 429 until its budget refills', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender(), config: { security: { maxAuthFailuresPerMinute: 5 } } });
  const wrong = { Authorization: 'Apikey wrong-key-000000000000' };
  for (let n = 0; n < 5; n += 1) assert.equal((await relay.api('GET', '/api/v1/webhooks/target/', undefined, wrong)).status, 401);

  const limited = await relay.api('GET', '/api/v1/webhooks/target/', undefined, wrong);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '12');
  assert.equal(((await limited.json()) as { code: string }).code, 'too_many_requests');
  assert.equal((await relay.api('GET', '/api/v1/webhooks/target/')).status, 429, 'even the right key waits');

  const ingest = await relay.ingest(tiledEvent('stream-closed', ['x']));
  assert.equal(ingest.status, 202, 'ingest has a budget of its own');

  relay.clock.advance(12_000);
  assert.equal((await relay.api('GET', '/api/v1/webhooks/target/')).status, 200);
  assert.equal((await relay.api('GET', '/api/v1/webhooks/target/', undefined, wrong)).status, 401);
  assert.equal((await relay.api('GET', '/api/v1/webhooks/target/', undefined, wrong)).status, 429);
});

test('wrong ingest signatures spend the ingest budget, not the API one', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender(), config: { security: { maxAuthFailuresPerMinute: 3 } } });
  const body = tiledJson(tiledEvent('stream-closed', ['x']));
  for (let n = 0; n < 3; n += 1) assert.equal((await relay.ingest(body, { 'X-Tiled-Signature': signature('wrong', body) })).status, 401);
  assert.equal((await relay.ingest(body)).status, 429);
  assert.equal((await relay.api('GET', '/api/v1/webhooks/target/')).status, 200);
  relay.clock.advance(20_000);
  assert.equal((await relay.ingest(body, { 'X-Tiled-Signature': signature(INGEST_SECRET, body) })).status, 202);
});

test('without secretKeys the relay warns, stores secrets as they are, and keeps the file private', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender(), config: { secretKeys: [] } });
  await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a', secret: 'visible-secret' });
  assert.ok(relay.logs.some((entry) => entry.level === 'warn' && String(entry.msg).startsWith('no secretKeys configured')));
  assert.equal(statSync(relay.config.dataFile).mode & 0o777, 0o600);
  assert.ok(readFileSync(relay.config.dataFile, 'utf8').includes('"secret":"plain:visible-secret"'));
});

test('compaction seals stored secrets with the first secret key, so keys added later reach them', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender(), config: { secretKeys: [] } });
  await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a', secret: 'later-sealed' });
  const keyed = await relay.restart({ config: { secretKeys: ['a-new-secret-key-0123456789'], compaction: { ratio: 1, minBytes: 0 } } });
  // A deleted target leaves records the live state no longer needs, so compaction runs.
  const throwaway = (await (await keyed.api('POST', '/api/v1/webhooks/target/x', { url: 'https://example.org/b' })).json()) as { id: number };
  await keyed.api('DELETE', `/api/v1/webhooks/${throwaway.id}`);
  await keyed.relay.maintenance.run();
  const file = readFileSync(keyed.config.dataFile, 'utf8');
  assert.ok(!file.includes('later-sealed'));
  assert.match(file, /"secret":"aes256gcm:/);
  const restarted = await keyed.restart();
  assert.equal(restarted.relay.store.state.targets.get(1)?.secret, 'later-sealed');
});
