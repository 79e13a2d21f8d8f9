import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCli, spawnRelay } from './helpers/child-relay.js';
import { encodeRecord } from '../src/records.js';
import { startReceiver } from './helpers/receiver.js';
import { ADMIN_KEY, signature, tiledEvent, tiledJson } from './helpers/relay-harness.js';
import { stalledClient } from './helpers/stalled-client.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function tempConfig(t: TestContext, config: Record<string, unknown>): { file: string; folder: string } {
  const folder = mkdtempSync(join(tmpdir(), 'hookrelay-cli-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const file = join(folder, 'relay.json');
  writeFileSync(file, JSON.stringify(config));
  return { file, folder };
}

const serving = {
  listen: { host: '127.0.0.1', port: 0 },
  dataFile: 'state/nested/relay.jsonl',
  apiKeys: [{ key: ADMIN_KEY, scopes: ['read:webhooks', 'write:webhooks'] }],
  ingest: { secret: 'cli-secret' },
};

test('--version and --help answer and exit 0', () => {
  assert.deepEqual(runCli(['--version']), { status: 0, stdout: `${version}\n`, stderr: '' });
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /hookrelay check --config FILE/);
});

test('a wrong command line exits 2 and shows the usage', () => {
  for (const args of [['--frobnicate'], ['launch', '--config', 'x.json'], []]) {
    const result = runCli(args);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, /Usage:/);
  }
});

test('check accepts a valid config and lists every problem of a broken one with exit 1', (t) => {
  const good = tempConfig(t, serving);
  const ok = runCli(['check', '--config', good.file]);
  assert.equal(ok.status, 0);
  assert.match(ok.stdout, /is valid \(0 targets, data file .*state\/nested\/relay\.jsonl\)/);

  const bad = tempConfig(t, { listen: { port: -1 }, delivery: { jitterMs: 'lots' }, colour: 'blue', ingest: { secret: '${NO_SUCH_VAR_X}' } });
  const result = runCli(['check', '--config', bad.file]);
  assert.equal(result.status, 1);
  assert.deepEqual(result.stderr.trim().split('\n').slice(1), [
    '  - ingest.secret: expected the environment variable NO_SUCH_VAR_X to be set, got a value that is not shown (16 characters)',
    '  - colour: expected no such key (known keys here: listen, dataFile, apiKeys, secretKeys, ingest, delivery, security, history, compaction, targets), got a value that is not shown (4 characters)',
    '  - listen.port: expected an integer from 0 to 65535, got -1',
    '  - delivery.jitterMs: expected an integer from 0 to 86400000, got "lots"',
  ]);
});

test('the relay serves, logs one startup line, and stops with exit 0 on SIGTERM', async (t) => {
  const security = { allowHttp: true, allowHosts: ['127.0.0.1'] };
  const { file, folder } = tempConfig(t, { ...serving, security });
  const relay = spawnRelay(t, ['--config', file]);
  const started = await relay.logLine((entry) => entry.msg === 'hookrelay listening', 'the startup line');
  const dataFile = join(folder, 'state', 'nested', 'relay.jsonl');
  assert.deepEqual(Object.keys(started), ['time', 'level', 'msg', 'url', 'ingest', 'dataFile', 'targets', 'pending']);
  assert.match(String(started.url), /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(started.dataFile, dataFile);
  assert.equal(existsSync(dataFile), true, 'the data folder is created');

  const receiver = await startReceiver(t, () => {});
  const registered = await fetch(`${String(started.url)}/api/v1/webhooks/target/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Apikey ${ADMIN_KEY}` },
    body: JSON.stringify({ url: receiver.url }),
  });
  assert.equal(registered.status, 200);
  const body = tiledJson(tiledEvent('stream-closed', ['x']));
  const response = await fetch(`${String(started.url)}/ingest`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Tiled-Signature': signature('cli-secret', body) },
    body,
  });
  assert.equal(response.status, 202);
  // A delivery hangs at its receiver and a client never sends its body: the stop cuts both off.
  await receiver.request(1);
  await stalledClient(t, String(started.url));

  const signalled = performance.now();
  relay.child.kill('SIGTERM');
  assert.equal(await relay.exited, 0);
  const tookMs = performance.now() - signalled;
  assert.ok(tookMs < 5_000, `the relay took ${Math.round(tookMs)} ms to stop`);
  const stopped = relay.logs.find((entry) => entry.msg === 'hookrelay stopped');
  assert.equal(stopped?.pending, 1, 'the delivery cut off stays pending for the next start');
});

test('SIGINT stops the relay gracefully too', async (t) => {
  const { file } = tempConfig(t, serving);
  const relay = spawnRelay(t, ['--config', file]);
  await relay.logLine((entry) => entry.msg === 'hookrelay listening');
  relay.child.kill('SIGINT');
  assert.equal(await relay.exited, 0);
});

test('a broken config or a damaged data file stops startup with exit 1 and says why', async (t) => {
  const broken = tempConfig(t, { ...serving, listen: { port: 'eighty' } });
  const refused = spawnRelay(t, ['--config', broken.file]);
  assert.equal(await refused.exited, 1);
  assert.ok(refused.logs.some((entry) => entry.msg === 'config problem' && String(entry.problem).startsWith('listen.port: expected an integer')));

  const { file, folder } = tempConfig(t, { ...serving, dataFile: 'relay.jsonl' });
  const header = encodeRecord(0, { type: 'header', format: 'hookrelay-journal', version: 1, created: 0 });
  const after = encodeRecord(2, { type: 'target-deleted', id: 1 });
  writeFileSync(join(folder, 'relay.jsonl'), `${header}{"not": "a record"}\n${after}`);
  const damaged = spawnRelay(t, ['--config', file]);
  assert.equal(await damaged.exited, 1);
  const line = damaged.logs.find((entry) => entry.msg === 'the data file is damaged; not starting');
  assert.deepEqual([line?.file, line?.line, line?.reason], [
    join(folder, 'relay.jsonl'),
    2,
    'no checksum at the end of the line, and good records follow it',
  ]);
});

test('repair drops the damaged lines and keeps a copy; --repair does it before serving', async (t) => {
  const { file, folder } = tempConfig(t, { ...serving, dataFile: 'relay.jsonl' });
  const dataFile = join(folder, 'relay.jsonl');
  const header = encodeRecord(0, { type: 'header', format: 'hookrelay-journal', version: 1, created: 0 });
  const damaged = `${header}{"not": "a record"}\n${encodeRecord(2, { type: 'target-deleted', id: 1 })}`;

  writeFileSync(dataFile, damaged);
  const result = runCli(['repair', '--config', file]);
  assert.equal(result.status, 0);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', new RegExp(`^repaired ${dataFile}; the damaged file is kept as ${dataFile}\\.damaged-`));
  assert.deepEqual(lines.slice(1), [`dropped line 2 (byte ${header.length}, 20 bytes): no checksum at the end of the line`, 'kept 2 records']);
  assert.equal(readFileSync(lines[0]?.split(' kept as ')[1] ?? '', 'utf8'), damaged);
  assert.deepEqual(runCli(['repair', '--config', file]).stdout, `${dataFile} has no damage; nothing was changed\n`);

  writeFileSync(dataFile, damaged);
  const relay = spawnRelay(t, ['--config', file, '--repair']);
  await relay.logLine((entry) => entry.msg === 'hookrelay listening');
  assert.ok(relay.logs.some((entry) => String(entry.msg).startsWith('dropped line 2')));
  relay.child.kill('SIGTERM');
  assert.equal(await relay.exited, 0);
});

test('repair refuses a file of another format version with a message, not a stack trace', async (t) => {
  const { file, folder } = tempConfig(t, { ...serving, dataFile: 'relay.jsonl' });
  const dataFile = join(folder, 'relay.jsonl');
  const future = `${encodeRecord(0, { type: 'header', format: 'hookrelay-journal', version: 9, created: 0 })}garbage\n`;
  writeFileSync(dataFile, future);

  assert.deepEqual(runCli(['repair', '--config', file]), {
    status: 1,
    stdout: '',
    stderr: `hookrelay: ${dataFile} is not a hookrelay data file this version reads; it was not changed\n`,
  });
  const relay = spawnRelay(t, ['--config', file, '--repair']);
  assert.equal(await relay.exited, 1);
  assert.ok(relay.logs.some((entry) => entry.msg === 'could not repair the data file; not starting'));
  assert.equal(readFileSync(dataFile, 'utf8'), future);
});

test('SIGHUP reloads the config file; a broken one is refused and the relay goes on', async (t) => {
  const { file } = tempConfig(t, serving);
  const relay = spawnRelay(t, ['--config', file]);
  const started = await relay.logLine((entry) => entry.msg === 'hookrelay listening');
  const listTargets = async () => {
    const headers = { Authorization: `Apikey ${ADMIN_KEY}` };
    const response = await fetch(`${String(started.url)}/api/v1/webhooks/`, { headers });
    const targets = (await response.json()) as Array<Record<string, unknown>>;
    return targets.map(({ id, name, url, managed_by }) => ({ id, name, url, managed_by }));
  };
  assert.deepEqual(await listTargets(), []);

  const lab = { name: 'lab', url: 'https://example.org/lab' };
  writeFileSync(file, JSON.stringify({ ...serving, targets: [lab] }));
  relay.child.kill('SIGHUP');
  const reloaded = await relay.logLine((entry) => entry.msg === 'config reloaded', 'the reload');
  assert.deepEqual(
    { changed: reloaded.changed, needsRestart: reloaded.needsRestart, targets: reloaded.targets },
    { changed: [], needsRestart: [], targets: { created: 1, updated: 0, deleted: 0 } },
  );
  assert.deepEqual(await listTargets(), [{ id: 1, ...lab, managed_by: 'config' }]);

  writeFileSync(file, '{"listen": ');
  relay.child.kill('SIGHUP');
  const refused = 'config reload refused; the running config is kept';
  await relay.logLine((entry) => entry.msg === refused, 'the refusal');
  assert.deepEqual(await listTargets(), [{ id: 1, ...lab, managed_by: 'config' }]);

  relay.child.kill('SIGTERM');
  assert.equal(await relay.exited, 0);
});
