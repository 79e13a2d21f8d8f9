import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_KEY, READ_KEY, recordingSender, startTestRelay as startRelay, tiledEvent, type HarnessOptions } from './helpers/relay-harness.js';
import type { TestContext } from 'node:test';

// These tests are about the API: deliveries go to a sender that dials nothing.
const startTestRelay = (t: TestContext, options: HarnessOptions = {}) => startRelay(t, { sender: recordingSender(), ...options });

const apikey = (key: string) => ({ Authorization: `Apikey ${key}` });

test('registering returns Tiled\'s webhook object with 200', async (t) => {
  const { api, clock } = await startTestRelay(t);
  const response = await api('POST', '/api/v1/webhooks/target/', {
    url: 'https://Hooks.Example.org/tiled',
    secret: 'mysecret',
    events: ['container-child-created', 'stream-closed'],
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    id: 1,
    url: 'https://hooks.example.org/tiled',
    events: ['container-child-created', 'stream-closed'],
    active: true,
    time_created: new Date(clock.now()).toISOString(),
  });
});

test('an empty events list is stored as null, and stays null after a restart', async (t) => {
  const relay = await startTestRelay(t);
  const response = await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/hook', events: [] });
  assert.equal(((await response.json()) as { events: unknown }).events, null);

  const restarted = await relay.restart();
  const listed = (await (await restarted.api('GET', '/api/v1/webhooks/target/')).json()) as Array<{ events: unknown }>;
  assert.deepEqual(listed.map((target) => target.events), [null]);
});

test('a registration is refused with Tiled\'s status codes and nothing is stored', async (t) => {
  const resolve = async (host: string): Promise<string[]> => {
    if (host === 'internal.example.org') return ['93.184.216.34', '10.1.2.3'];
    if (host === 'nowhere.example.org') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return ['93.184.216.34'];
  };
  const { api } = await startTestRelay(t, { resolve, config: { security: { allowHttp: false, allowHosts: [] } } });
  const cases: Array<[unknown, number, string, RegExp]> = [
    [{ url: 'http://example.org/hook' }, 422, 'url_not_allowed', /must use HTTPS/],
    [{ url: 'ftp://example.org/hook' }, 422, 'url_not_allowed', /must use http or https/],
    [{ url: 'https://user:pw@example.org/hook' }, 422, 'url_not_allowed', /must not carry credentials/],
    [{ url: 'not a url' }, 422, 'invalid_request', /not a valid absolute URL/],
    [{}, 422, 'invalid_request', /url must be a non-empty string/],
    [{ url: 'https://example.org/hook', events: ['node-created'] }, 422, 'invalid_request', /"node-created" is not an event type/],
    [{ url: 'https://example.org/hook', events: 'stream-closed' }, 422, 'invalid_request', /events must be a list/],
    [{ url: 'https://example.org/hook', secret: 42 }, 422, 'invalid_request', /secret must be a string/],
    [{ url: 'https://127.0.0.1/hook' }, 400, 'target_forbidden', /"127.0.0.1" loopback \(127.0.0.0\/8\)/],
    [{ url: 'https://169.254.169.254/latest' }, 400, 'target_forbidden', /link-local/],
    [{ url: 'https://internal.example.org/hook' }, 400, 'target_forbidden', /resolves to 10.1.2.3, which is private/],
    [{ url: 'https://nowhere.example.org/hook' }, 400, 'target_unresolvable', /does not resolve \(ENOTFOUND\)/],
    ['[1]', 422, 'invalid_request', /must be a JSON object/],
    ['{"url": ', 400, 'invalid_json', /not valid JSON/],
  ];
  for (const [body, status, code, detail] of cases) {
    const response = await api('POST', '/api/v1/webhooks/target/', body);
    const answer = (await response.json()) as { code: string; detail: string };
    assert.equal(response.status, status, JSON.stringify(body));
    assert.equal(answer.code, code, JSON.stringify(body));
    assert.match(answer.detail, detail, JSON.stringify(body));
  }
  assert.deepEqual(await (await api('GET', '/api/v1/webhooks/target/')).json(), []);
});

test('allowPrivateAddresses or allowHosts lets an internal target register', async (t) => {
  const open = await startTestRelay(t, { config: { security: { allowPrivateAddresses: true } } });
  assert.equal((await open.api('POST', '/api/v1/webhooks/target/', { url: 'https://10.0.0.7/hook' })).status, 200);
  const named = await startTestRelay(t, {
    resolve: async () => ['10.0.0.8'],
    config: { security: { allowHosts: ['receiver.lab'] } },
  });
  assert.equal((await named.api('POST', '/api/v1/webhooks/target/', { url: 'https://receiver.lab/hook' })).status, 200);
  assert.equal((await named.api('POST', '/api/v1/webhooks/target/', { url: 'https://other.lab/hook' })).status, 400);
});

test('the list on a path shows only the targets registered on exactly that path', async (t) => {
  const { api } = await startTestRelay(t);
  await api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/root' });
  await api('POST', '/api/v1/webhooks/target/raw/scans', { url: 'https://example.org/scans' });
  await api('POST', '/api/v1/webhooks/target/raw', { url: 'https://example.org/raw' });

  const urls = async (path: string) =>
    ((await (await api('GET', path)).json()) as Array<{ url: string }>).map((target) => target.url);
  assert.deepEqual(await urls('/api/v1/webhooks/target/'), ['https://example.org/root']);
  assert.deepEqual(await urls('/api/v1/webhooks/target'), ['https://example.org/root']);
  assert.deepEqual(await urls('/api/v1/webhooks/target/raw/scans'), ['https://example.org/scans']);
  assert.deepEqual(await urls('/api/v1/webhooks/target/raw//scans/'), ['https://example.org/scans']);
  assert.deepEqual(await urls('/api/v1/webhooks/target/raw'), ['https://example.org/raw']);
  assert.deepEqual(await urls('/api/v1/webhooks/target/other'), []);
});

test('percent-encoded keys in the path are decoded', async (t) => {
  const { api } = await startTestRelay(t);
  await api('POST', '/api/v1/webhooks/target/scan%20001', { url: 'https://example.org/a' });
  const listed = (await (await api('GET', '/api/v1/webhooks/target/scan 001')).json()) as unknown[];
  assert.equal(listed.length, 1);
});

test('delete answers {"deleted": id}, stops delivery and removes the history', async (t) => {
  const { api, ingest } = await startTestRelay(t);
  const { id } = (await (await api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' })).json()) as { id: number };
  await ingest(tiledEvent('stream-closed', ['x']));
  assert.equal((await api('GET', `/api/v1/webhooks/history/${id}`)).status, 200);

  const deleted = await api('DELETE', `/api/v1/webhooks/${id}`);
  assert.equal(deleted.status, 200);
  assert.deepEqual(await deleted.json(), { deleted: id });
  assert.deepEqual(await (await ingest(tiledEvent('stream-closed', ['y']))).json().then((a) => (a as { deliveries: number }).deliveries), 0);
  const history = await api('GET', `/api/v1/webhooks/history/${id}`);
  assert.equal(history.status, 404);
  assert.deepEqual(await history.json(), { detail: 'Webhook not found.', code: 'target_not_found' });
});

test('unknown ids are 404 and ids that are not integers 422', async (t) => {
  const { api } = await startTestRelay(t);
  for (const [method, path] of [['DELETE', '/api/v1/webhooks/999999'], ['GET', '/api/v1/webhooks/history/999999']]) {
    const response = await api(method ?? '', path ?? '');
    assert.equal(response.status, 404, path);
    assert.deepEqual(await response.json(), { detail: 'Webhook not found.', code: 'target_not_found' });
  }
  assert.equal((await api('DELETE', '/api/v1/webhooks/abc')).status, 422);
  assert.equal((await api('GET', '/api/v1/webhooks/history/1.5')).status, 422);
});

test('every endpoint answers 401 without a key, with a wrong key, or without the scope', async (t) => {
  const { api } = await startTestRelay(t);
  const calls: Array<[string, string, unknown]> = [
    ['POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' }],
    ['GET', '/api/v1/webhooks/target/', undefined],
    ['DELETE', '/api/v1/webhooks/999999', undefined],
    ['GET', '/api/v1/webhooks/history/999999', undefined],
  ];
  const credentials: Array<Record<string, string>> = [
    {},
    apikey('not-the-key-at-all-0000000'),
    apikey(`${ADMIN_KEY}x`),
    { Authorization: `Bearer ${ADMIN_KEY}` },
    { Authorization: 'Apikey' },
  ];
  for (const [method, path, body] of calls) {
    for (const headers of credentials) {
      const response = await api(method, path, body, headers);
      assert.equal(response.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
      assert.equal(((await response.json()) as { code: string }).code, 'unauthorized');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Apikey scope="(read|write):webhooks"$/);
    }
  }
  const readOnly = await api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' }, apikey(READ_KEY));
  assert.equal(readOnly.status, 401);
  assert.match(((await readOnly.json()) as { detail: string }).detail, /Requires scopes \['write:webhooks'\]/);
  assert.equal((await api('GET', '/api/v1/webhooks/target/', undefined, apikey(READ_KEY))).status, 200);

  const created = (await (await api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' })).json()) as { id: number };
  assert.equal((await api('DELETE', `/api/v1/webhooks/${created.id}`, undefined, apikey(READ_KEY))).status, 401);
  assert.equal((await api('GET', `/api/v1/webhooks/history/${created.id}`, undefined, apikey(READ_KEY))).status, 200);
});

test('the key may also come as ?api_key=', async (t) => {
  const { url } = await startTestRelay(t);
  assert.equal((await fetch(`${url}/api/v1/webhooks/target/?api_key=${ADMIN_KEY}`)).status, 200);
  assert.equal((await fetch(`${url}/api/v1/webhooks/target/?api_key=wrong`)).status, 401);
});

test('history limit is 50 by default and must be from 1 to 500', async (t) => {
  const { api, ingest } = await startTestRelay(t);
  const { id } = (await (await api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' })).json()) as { id: number };
  for (let n = 0; n < 60; n += 1) await ingest(tiledEvent('stream-closed', [`n${n}`]));

  const ids = async (query: string) =>
    ((await (await api('GET', `/api/v1/webhooks/history/${id}${query}`)).json()) as Array<{ id: number }>).map((d) => d.id);
  const all = await ids('');
  assert.equal(all.length, 50);
  assert.equal(all[0], 60, 'newest first');
  assert.deepEqual(await ids('?limit=3'), [60, 59, 58]);
  assert.equal((await ids('?limit=500')).length, 60);
  for (const limit of ['0', '501', 'ten', '-1', '2.5']) {
    const response = await api('GET', `/api/v1/webhooks/history/${id}?limit=${limit}`);
    assert.equal(response.status, 422, limit);
    assert.match(((await response.json()) as { detail: string }).detail, /limit must be an integer from 1 to 500/);
  }
});

test('the secret is never returned by any endpoint', async (t) => {
  const { api, ingest } = await startTestRelay(t);
  const secret = 'never-show-this-secret';
  const created = await (await api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a', secret })).text();
  await ingest(tiledEvent('stream-closed', ['x']));
  const listed = await (await api('GET', '/api/v1/webhooks/target/')).text();
  const history = await (await api('GET', '/api/v1/webhooks/history/1')).text();
  for (const text of [created, listed, history]) assert.ok(!text.includes(secret));
});
