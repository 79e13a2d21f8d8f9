import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { settingChanges } from '../src/config-reload.js';
import { oneAtATime } from '../src/reloader.js';
import type { AttemptRequest } from '../src/delivery-client.js';
import { eventually } from './helpers/eventually.js';
import { FaultyFiles } from './helpers/faulty-files.js';
import { startReceiver } from './helpers/receiver.js';
import {
  ADMIN_KEY,
  READ_KEY,
  signature,
  startTestRelay,
  testConfig,
  tiledEvent,
  tiledJson,
  type ConfigOverrides,
  type HarnessOptions,
  type TestRelay,
} from './helpers/relay-harness.js';
import { answer, scriptedSender } from './helpers/scripted-sender.js';
import { verifyStandardWebhook } from './helpers/standard-webhooks.js';

const NEW_KEY = 'a-key-added-by-a-reload-0123456789';
const iso = (ms: number) => new Date(ms).toISOString();

async function start(t: TestContext, options: HarnessOptions = {}) {
  const sender = scriptedSender();
  const relay = await startTestRelay(t, { sender, ...options });
  return { relay, sender };
}

/** Reloads with the harness config plus `overrides`, as the file would now say. */
function reload(relay: TestRelay, overrides: ConfigOverrides) {
  return relay.relay.reload(() => testConfig(relay.folder, overrides));
}

async function targets(relay: TestRelay): Promise<Array<Record<string, any>>> {
  return (await (await relay.api('GET', '/api/v1/webhooks/')).json()) as Array<Record<string, any>>;
}

/** Log lines that satisfy `match`, without their time. */
function logged(relay: TestRelay, match: (entry: Record<string, unknown>) => boolean) {
  return relay.logs.filter(match).map(({ time: _time, ...rest }) => rest);
}

function withMessage(message: string) {
  return (entry: Record<string, unknown>) => entry.msg === message;
}

function withKey(key: string): Record<string, string> {
  return { Authorization: `Apikey ${key}` };
}

test('a reload adds, changes and removes config targets; a kept one keeps its id', async (t) => {
  const { relay } = await start(t, {
    config: {
      targets: [
        { name: 'keep', url: 'https://example.org/keep' },
        { name: 'change', path: 'raw', url: 'https://example.org/old', secret: 'old-secret-value' },
        { name: 'remove', url: 'https://example.org/remove' },
      ],
    },
  });
  const before = new Map((await targets(relay)).map((target) => [target.name, target.id]));

  const report = await reload(relay, {
    targets: [
      { name: 'keep', url: 'https://example.org/keep' },
      {
        name: 'change',
        path: 'raw/scans',
        url: 'https://example.org/new',
        secret: 'new-secret-value',
      },
      { name: 'add', url: 'https://example.org/add', events: ['stream-closed'] },
    ],
  });

  const counts = { created: 1, updated: 1, deleted: 1 };
  const expected = { applied: true, problems: [], changed: [], needsRestart: [], targets: counts };
  assert.deepEqual(report, expected);
  const shown = (await targets(relay)).map((target) => ({
    id: target.id,
    name: target.name,
    path: target.path,
    url: target.url,
    events: target.events,
    overlap: target.secret_overlap_until,
  }));
  assert.deepEqual(shown, [
    {
      id: before.get('keep'),
      name: 'keep',
      path: '',
      url: 'https://example.org/keep',
      events: null,
      overlap: null,
    },
    {
      id: before.get('change'),
      name: 'change',
      path: 'raw/scans',
      url: 'https://example.org/new',
      events: null,
      overlap: iso(relay.clock.now() + 86_400_000),
    },
    {
      id: 4,
      name: 'add',
      path: '',
      url: 'https://example.org/add',
      events: ['stream-closed'],
      overlap: null,
    },
  ]);
  assert.deepEqual(logged(relay, withMessage('config reloaded')), [
    { level: 'info', msg: 'config reloaded', changed: [], needsRestart: [], targets: counts },
  ]);
});

test('a new secret of a config target signs beside the old one during the overlap', async (t) => {
  const lab = { name: 'lab', url: 'https://example.org/lab' };
  const { relay, sender } = await start(t, {
    config: { targets: [{ ...lab, secret: 'old-secret-value' }] },
  });
  await reload(relay, {
    delivery: { jitterMs: 0, secretOverlapMs: 3_600_000 },
    targets: [{ ...lab, secret: 'new-secret-value' }],
  });
  const [shown] = await targets(relay);
  assert.equal(shown?.secret_overlap_until, iso(relay.clock.now() + 3_600_000), 'the new overlap');

  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await eventually(() => sender.sent.length === 1, 'the delivery');
  const sent = sender.sent[0] as AttemptRequest;
  const verifies = (secret: string) => verifyStandardWebhook(secret, sent.headers, sent.body);
  assert.deepEqual([verifies('old-secret-value'), verifies('new-secret-value')], [true, true]);
  assert.equal(sent.headers['X-Tiled-Signature'], signature('new-secret-value', sent.body));
});

test('a new API key works at once after a reload, and a removed one gets 401', async (t) => {
  const { relay } = await start(t);
  const report = await reload(relay, {
    apiKeys: [{ key: NEW_KEY, scopes: ['read:webhooks', 'write:webhooks'] }],
  });
  assert.deepEqual(report.changed, ['apiKeys']);

  const asAdmin = await relay.api('GET', '/api/v1/webhooks/');
  assert.equal(asAdmin.status, 401);
  const asNew = await relay.api('GET', '/api/v1/webhooks/', undefined, withKey(NEW_KEY));
  assert.deepEqual({ status: asNew.status, json: await asNew.json() }, { status: 200, json: [] });
  const everything = JSON.stringify(relay.logs);
  assert.ok(!everything.includes(NEW_KEY) && !everything.includes(ADMIN_KEY), 'no key is logged');
});

test('ingest and delivery settings change live, from the next request and attempt', async (t) => {
  const { relay, sender } = await start(t, { config: { delivery: { retryDelaysMs: [] } } });
  await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/hook' });
  const report = await reload(relay, {
    ingest: { secret: 'rotated-ingest-secret', maxBodyBytes: 2_048 },
    delivery: { retryDelaysMs: [60_000], timeoutMs: 1_234 },
  });
  assert.deepEqual(report.changed, [
    'ingest.secret',
    'ingest.maxBodyBytes',
    'delivery.timeoutMs',
    'delivery.retryDelaysMs',
  ]);

  const body = tiledJson(tiledEvent('stream-closed', ['x']));
  assert.equal((await relay.ingest(body)).status, 401, 'the old ingest secret is refused');
  const signed = { 'X-Tiled-Signature': signature('rotated-ingest-secret', body) };
  const padded = { metadata: { pad: 'x'.repeat(2_048) } };
  const tooLarge = tiledJson(tiledEvent('stream-closed', ['x'], padded));
  assert.equal((await relay.ingest(tooLarge, signed)).status, 413);

  sender.answerWith(() => answer(500));
  assert.equal((await relay.ingest(body, signed)).status, 202);
  const delivery = () => relay.relay.store.state.deliveries.get(1);
  await eventually(() => delivery()?.attempts === 1, 'the first attempt');
  assert.equal(sender.sent[0]?.timeoutMs, 1_234);
  const retry = { outcome: delivery()?.outcome, next: delivery()?.nextAttemptAt };
  assert.deepEqual(retry, { outcome: 'pending', next: relay.clock.now() + 60_000 });
});

test('a tightened address policy holds the next attempt, on a kept-alive socket too', async (t) => {
  const receiver = await startReceiver(t);
  const url = receiver.url.replace('127.0.0.1', 'receiver.test');
  const settings = (allowHosts: string[]) => ({
    delivery: { retryDelaysMs: [] },
    security: { allowHttp: true, allowHosts },
  });
  const relay = await startTestRelay(t, {
    resolve: async () => ['127.0.0.1'],
    config: settings(['receiver.test']),
  });
  await relay.api('POST', '/api/v1/webhooks/target/', { url });
  await relay.ingest(tiledEvent('stream-closed', ['before']));
  await receiver.request(1);

  await reload(relay, settings([]));
  await relay.ingest(tiledEvent('stream-closed', ['after']));
  const delivery = () => relay.relay.store.state.deliveries.get(2);
  await eventually(() => delivery()?.outcome === 'failed', 'the second delivery to fail');
  assert.equal(
    delivery()?.errorDetail,
    'EBLOCKED: target address blocked: "receiver.test" resolves to 127.0.0.1, which is loopback ' +
      '(127.0.0.0/8); list the host in security.allowHosts to allow it',
  );
  assert.equal(receiver.received.length, 1);
});

test('retention changes live, at the next check, on the new check interval', async (t) => {
  const { relay } = await start(t);
  await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/hook' });
  for (const name of ['e1', 'e2', 'e3', 'e4']) {
    await relay.ingest(tiledEvent('stream-closed', [name]));
  }
  const history = () => relay.relay.store.state.targets.get(1)?.history ?? [];
  const delivered = () => history().every((delivery) => delivery.outcome === 'success');
  await eventually(delivered, 'the deliveries');

  await reload(relay, { history: { maxPerTarget: 2 }, compaction: { checkIntervalMs: 1_000 } });
  relay.clock.advance(999);
  assert.equal(history().length, 4, 'not before the check');
  relay.clock.advance(1);
  await eventually(() => history().length === 2, 'the history to be trimmed');
  const kept = history().map((delivery) => JSON.parse(delivery.event.body).path);
  assert.deepEqual(kept, [['e3'], ['e4']]);
});

test('a reload that leaves ingest unsigned or the API keyless warns as startup does', async (t) => {
  const { relay } = await start(t);
  await reload(relay, { apiKeys: [], ingest: { secret: null } });
  assert.deepEqual(logged(relay, (entry) => entry.level === 'warn'), [
    {
      level: 'warn',
      msg: 'ingest.secret is not set: /ingest accepts unsigned events from anyone who can reach it',
    },
    { level: 'warn', msg: 'no apiKeys configured: the admin API refuses every request' },
  ]);
  const event = tiledEvent('stream-closed', ['x']);
  const unsigned = await relay.ingest(event, { 'X-Tiled-Signature': null });
  assert.equal(unsigned.status, 202);
});

test('settings that need a restart are logged one by one and kept; the rest apply', async (t) => {
  const { relay } = await start(t);
  const running = relay.relay.config;
  const report = await reload(relay, {
    listen: { host: '127.0.0.1', port: 9999 },
    dataFile: '/elsewhere/relay.jsonl',
    secretKeys: ['another-secret-key-0123456789'],
    history: { retentionDays: 7 },
  });

  assert.deepEqual(report, {
    applied: true,
    problems: [],
    changed: ['history.retentionDays'],
    needsRestart: ['listen.port', 'dataFile', 'secretKeys'],
    targets: { created: 0, updated: 0, deleted: 0 },
  });
  const kept = 'config setting needs a restart to change; the running value is kept';
  assert.deepEqual(logged(relay, withMessage(kept)), [
    { level: 'warn', msg: kept, key: 'listen.port' },
    { level: 'warn', msg: kept, key: 'dataFile' },
    { level: 'warn', msg: kept, key: 'secretKeys' },
  ]);
  const { listen, dataFile, secretKeys, history } = relay.relay.config;
  assert.deepEqual({ listen, dataFile, secretKeys, history }, {
    listen: running.listen,
    dataFile: running.dataFile,
    secretKeys: running.secretKeys,
    history: { retentionDays: 7, maxPerTarget: 10_000 },
  });
});

test('a config with problems is refused whole, with a log line per problem', async (t) => {
  const { relay } = await start(t, {
    config: { targets: [{ name: 'lab', url: 'https://example.org/lab' }] },
  });
  const report = await reload(relay, {
    apiKeys: [{ key: NEW_KEY, scopes: ['read:webhooks'] }],
    delivery: { timeoutMs: -1 },
    targets: [{ name: 'other', url: 'ftp://example.org/other' }],
  });

  const problems = [
    'delivery.timeoutMs: expected an integer from 1 to 600000, got -1',
    'targets[0].url: expected Webhook URL must use http or https, not "ftp:", ' +
      'got "ftp://example.org/other"',
  ];
  const refused = { applied: false, problems, changed: [], needsRestart: [], targets: null };
  assert.deepEqual(report, refused);
  assert.deepEqual(logged(relay, (entry) => entry.level === 'error'), [
    ...problems.map((problem) => ({ level: 'error', msg: 'config problem', problem })),
    { level: 'error', msg: 'config reload refused; the running config is kept', problems: 2 },
  ]);
  const oldKey = await relay.api('GET', '/api/v1/webhooks/');
  assert.equal(oldKey.status, 200, 'the old key still works');
  const newKey = await relay.api('GET', '/metrics', undefined, withKey(NEW_KEY));
  assert.equal(newKey.status, 401, 'the new key is not taken');
  assert.deepEqual((await targets(relay)).map((target) => target.name), ['lab']);

  const page = await relay.api('GET', '/metrics', undefined, withKey(READ_KEY));
  assert.match(await page.text(), /^hookrelay_config_last_reload_successful 0$/m);
});

test('reloads run one at a time, and those asked for during one share the next', async (t) => {
  const files = new FaultyFiles();
  const { relay } = await start(t, { files });
  let loads = 0;
  const load = (name: string) => () => {
    loads += 1;
    return testConfig(relay.folder, { targets: [{ name, url: `https://example.org/${name}` }] });
  };

  // The first reload waits for the disk while it creates its target.
  files.hold('datasync');
  const first = relay.relay.reload(load('first'));
  await eventually(() => files.waiting('datasync') === 1, 'the first reload to write');
  const second = relay.relay.reload(load('second'));
  const third = relay.relay.reload(load('third'));
  assert.equal(second, third);
  assert.equal(loads, 1, 'nothing is read while a reload is under way');
  files.release('datasync');

  assert.deepEqual((await first).targets, { created: 1, updated: 0, deleted: 0 });
  assert.deepEqual((await third).targets, { created: 1, updated: 0, deleted: 1 });
  assert.equal(loads, 2);
  assert.deepEqual((await targets(relay)).map((target) => target.name), ['third']);
});

test('one at a time: a run that fails does not stop the next one', async () => {
  const started: number[] = [];
  let finishFirst = (): void => {};
  const run = oneAtATime(async () => {
    started.push(started.length + 1);
    if (started.length === 1) {
      await new Promise<void>((resolve) => (finishFirst = resolve));
      throw new Error('the first run broke');
    }
    return started.length;
  });

  const first = run();
  await eventually(() => started.length === 1, 'the first run to start');
  const second = run();
  assert.notEqual(second, first);
  finishFirst();
  await assert.rejects(first, /the first run broke/);
  assert.equal(await second, 2);
});

test('setting changes name the keys that differ, by whether they can change live', () => {
  const folder = '/tmp/hookrelay-setting-changes';
  const running = testConfig(folder);
  const next = testConfig(folder, {
    listen: { host: '0.0.0.0', port: 0 },
    apiKeys: [],
    security: { allowHttp: true, allowHosts: ['127.0.0.1', '10.0.0.0/8'] },
    targets: [{ name: 'lab', url: 'https://example.org/lab' }],
  });
  // Targets are reconciled one by one, so they are not among the settings.
  assert.deepEqual(settingChanges(running, next), {
    live: ['apiKeys', 'security.allowHosts'],
    needsRestart: ['listen.host'],
  });
  assert.deepEqual(settingChanges(running, testConfig(folder)), { live: [], needsRestart: [] });
});
