import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { test } from 'node:test';
import { ADMIN_KEY, recordingSender, startTestRelay, tiledEvent, tiledJson, type TestRelay } from './helpers/relay-harness.js';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

const FRAGMENTS = [
  '"__proto__": {"polluted": true}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '"prototype": 1',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(300)}1${'}'.repeat(300)}`,
  '1e400',
  '"\\ud800"',
  '"\\u0000"',
  'null',
  'true',
  '"type": 5',
  '"path": "x"',
  '"path": [1, 2]',
  '"url": "http://127.0.0.1/"',
  '"events": [null]',
  '"secret": {}',
  `"${'z'.repeat(5000)}"`,
  '\u00e9\u{1f600}',
  '\\',
  ',,,',
];

function mutate(text: string, next: () => number): string | Buffer {
  const at = Math.floor(next() * (text.length + 1));
  const to = at + Math.floor(next() * 20);
  switch (Math.floor(next() * 6)) {
    case 0:
      return text.slice(0, at) + String.fromCharCode(Math.floor(next() * 256)) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text.slice(to);
    case 2:
      return text.slice(0, at) + text.slice(at, to) + text.slice(at);
    case 3:
      return text.slice(0, at) + (FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] ?? '') + text.slice(at);
    case 4:
      return Buffer.from(Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 256)));
    default:
      return FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] ?? '';
  }
}

function send(relay: TestRelay, agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${relay.url}${path}`, { method, agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

test('seeded fuzzing of ingest and admin bodies never yields a 5xx, a crash or prototype pollution', async (t) => {
  const seed = Number(process.env.HOOKRELAY_FUZZ_SEED ?? 424_242);
  t.diagnostic(`seed ${seed} (set HOOKRELAY_FUZZ_SEED to replay)`);
  const next = random(seed);
  const relay = await startTestRelay(t, {
    sender: recordingSender(),
    resolve: async () => ['93.184.216.34'],
    config: { ingest: { secret: null }, security: { allowHttp: true, allowHosts: [] } },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const seen = new Map<number, number>();

  const valid = tiledJson(tiledEvent('container-child-created', ['raw', 'scan'], { metadata: { a: [1, { b: 'c' }] } }));
  const registration = JSON.stringify({ url: 'https://example.org/hook', secret: 's', events: ['stream-closed'] });
  const admin = { Authorization: `Apikey ${ADMIN_KEY}` };
  for (let round = 0; round < 1500; round += 1) {
    const json = next() < 0.9 ? { 'Content-Type': next() < 0.5 ? 'application/json' : 'application/json; charset=utf-8' } : {};
    const id = next() < 0.5 ? { 'X-Tiled-Event-ID': next() < 0.8 ? `e${round}` : 'bad id!' } : {};
    const ingested = await send(relay, agent, 'POST', '/ingest', { ...json, ...id }, mutate(valid, next));

    const path = next() < 0.8 ? 'raw/scan' : encodeURIComponent(String.fromCharCode(Math.floor(next() * 0x2fff)));
    const registered = await send(relay, agent, 'POST', `/api/v1/webhooks/target/${path}`, { ...json, ...admin }, mutate(registration, next));

    const target = next() < 0.5 ? String(Math.floor(next() * 5)) : String(mutate('12', next));
    const method = next() < 0.5 ? 'GET' : 'DELETE';
    const where = method === 'GET' ? `/api/v1/webhooks/history/${encodeURIComponent(target)}?limit=${Math.floor(next() * 600)}` : `/api/v1/webhooks/${encodeURIComponent(target)}`;
    const other = await send(relay, agent, method, where, admin);

    for (const status of [ingested, registered, other]) {
      seen.set(status, (seen.get(status) ?? 0) + 1);
      assert.ok(status < 500, `round ${round}: status ${status} (seed ${seed})`);
    }
  }
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);

  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((await relay.ingest(valid, { 'Content-Type': 'application/json' })).status, 202);
  assert.ok((seen.get(202) ?? 0) > 10 && (seen.get(200) ?? 0) > 10, 'the fuzzing reached the code behind the checks too');
});
