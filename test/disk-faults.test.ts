import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { FaultyFiles } from './helpers/faulty-files.js';
import {
  eventId,
  recordingSender,
  startTestRelay,
  tiledEvent,
  type TestRelay,
} from './helpers/relay-harness.js';

async function burst(relay: TestRelay, from: number, count: number): Promise<Map<string, number>> {
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const id = eventId(from + n);
      const response = await relay.ingest(tiledEvent('stream-closed', [`n${from + n}`]), {
        'X-Tiled-Event-ID': id,
      });
      return [id, response.status] as const;
    }),
  );
  return new Map(answers);
}

for (const [operation, code] of [
  ['write', 'ENOSPC'],
  ['datasync', 'EIO'],
] as const) {
  test(`a failing ${operation} (${code}) is answered 503, never 2xx, and nothing acknowledged is lost`, async (t) => {
    const files = new FaultyFiles();
    const relay = await startTestRelay(t, { files, sender: recordingSender() });
    await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' });

    const before = await burst(relay, 0, 20);
    files.fail(operation, code, Infinity);
    const during = await burst(relay, 100, 20);
    assert.deepEqual(new Set(during.values()), new Set([503]));
    assert.equal(relay.relay.journal.healthy, false);

    files.heal();
    const after = await burst(relay, 200, 20);
    assert.deepEqual(new Set([...before.values(), ...after.values()]), new Set([202]));
    assert.equal(relay.relay.journal.healthy, true);
    const acknowledged = [...before.keys(), ...after.keys()];

    const restarted = await relay.restart({ files: new FaultyFiles() });
    const state = restarted.relay.store.state;
    assert.deepEqual(
      acknowledged.filter((id) => !state.hasEvent(id)),
      [],
      'every acknowledged event is still there',
    );
    assert.deepEqual(
      [...during.keys()].filter((id) => state.hasEvent(id)),
      [],
      'no refused event came back',
    );
    assert.equal(restarted.relay.store.state.deliveries.size, 40);
  });
}

test('a fault in the middle of a burst refuses exactly the events it hit', async (t) => {
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { files, sender: recordingSender() });
  await burst(relay, 0, 10);
  // The first batch of the burst waits for its fdatasync, which fails; the rest queue behind it.
  files.hold('datasync');
  files.fail('datasync', 'EIO', 1);
  const answering = burst(relay, 100, 60);
  await eventually(() => files.waiting('datasync') === 1, 'the first batch to be written');
  files.release('datasync');
  const answers = await answering;
  const accepted = [...answers].filter(([, code]) => code === 202).map(([id]) => id);
  const refused = [...answers].filter(([, code]) => code !== 202);
  assert.ok(refused.every(([, code]) => code === 503));
  assert.ok(
    refused.length > 0 && accepted.length > 0,
    `${refused.length} refused, ${accepted.length} accepted`,
  );

  const restarted = await relay.restart({ files: new FaultyFiles() });
  const state = restarted.relay.store.state;
  assert.deepEqual(
    accepted.filter((id) => !state.hasEvent(id)),
    [],
  );
  assert.deepEqual(
    refused.filter(([id]) => state.hasEvent(id)),
    [],
  );
});

test('when the file cannot be cut back after a failure, the relay reports it as fatal', async (t) => {
  const files = new FaultyFiles();
  const fatal: Error[] = [];
  const relay = await startTestRelay(t, { files, onFatal: (error) => fatal.push(error) });
  files.fail('write', 'EIO');
  files.fail('truncate', 'EIO');
  assert.equal((await relay.ingest(tiledEvent('stream-closed', ['x']))).status, 503);
  await eventually(() => fatal.length === 1, 'the fatal report');
  assert.match(fatal[0]?.message ?? '', /truncate of the data file failed: EIO/);
  assert.equal((await relay.ingest(tiledEvent('stream-closed', ['y']))).status, 503);
});

test('an API change that cannot be stored is answered 503 and leaves nothing behind', async (t) => {
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { files, sender: recordingSender() });
  files.fail('datasync', 'ENOSPC', Infinity);

  const refused = await relay.api('POST', '/api/v1/webhooks/target/', {
    url: 'https://example.org/a',
  });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.deepEqual(await refused.json(), {
    detail: 'the change could not be stored (fdatasync of the data file failed: ENOSPC)',
    code: 'storage_unavailable',
  });
  assert.equal(relay.relay.store.state.targets.size, 0);

  files.heal();
  assert.equal(
    (await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://example.org/a' })).status,
    200,
  );
  const restarted = await relay.restart({ files: new FaultyFiles() });
  assert.equal(restarted.relay.store.state.targets.size, 1);
});
