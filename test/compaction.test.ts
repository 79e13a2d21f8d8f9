import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { compactionFile } from '../src/journal.js';
import { eventually } from './helpers/eventually.js';
import { FaultyFiles } from './helpers/faulty-files.js';
import { fingerprint } from './helpers/fingerprint.js';
import { startReceiver, status } from './helpers/receiver.js';
import {
  eventId,
  recordingSender,
  startTestRelay as startRelay,
  tiledEvent,
  type HarnessOptions,
  type TestRelay,
} from './helpers/relay-harness.js';
import type { TestContext } from 'node:test';

// Deliveries go to a sender that dials nothing, unless a test brings its own receivers.
const startTestRelay = (t: TestContext, options: HarnessOptions = {}) =>
  startRelay(t, { sender: recordingSender(), ...options });

const DAY_MS = 86_400_000;
const compactAlways = { compaction: { ratio: 1, minBytes: 0, checkIntervalMs: 60_000 } };

async function register(
  relay: TestRelay,
  body: Record<string, unknown>,
  path = '',
): Promise<number> {
  const response = await relay.api('POST', `/api/v1/webhooks/target/${path}`, body);
  return ((await response.json()) as { id: number }).id;
}

/** Leaves records in the file that the live state no longer needs. */
async function makeGarbage(relay: TestRelay): Promise<void> {
  const id = await register(relay, { url: 'https://example.org/throwaway' }, 'garbage');
  await relay.api('DELETE', `/api/v1/webhooks/${id}`);
}

/** Waits until `count` deliveries have been attempted and their progress is in the file. */
async function settle(relay: TestRelay, count: number): Promise<void> {
  await eventually(
    () =>
      [...relay.relay.store.state.deliveries.values()].filter(
        (d) => d.attempts > 0 && d.recordBytes > 0,
      ).length >= count,
    `${count} deliveries to be attempted and written`,
  );
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

test(
  'compaction rewrites the file with the live state only, and a restart restores the same state',
  async (t) => {
    const receiver = await startReceiver(t);
    const relay = await startRelay(t, { config: compactAlways });
    const kept = await register(relay, { url: receiver.url, secret: 'kept' });
    const gone = await register(relay, { url: `${receiver.url}?gone` });
    for (let n = 0; n < 20; n += 1) {
      await relay.ingest(tiledEvent('stream-closed', [`n${n}`]), {
        'X-Tiled-Event-ID': eventId(n),
      });
    }
    await settle(relay, 40);
    await relay.api('DELETE', `/api/v1/webhooks/${gone}`);
    const before = fingerprint(relay.relay.store.state);
    const sizeBefore = statSync(relay.config.dataFile).size;

    await relay.relay.maintenance.run();
    const sizeAfter = statSync(relay.config.dataFile).size;
    assert.ok(sizeAfter < sizeBefore, `${sizeAfter} < ${sizeBefore}`);
    assert.ok(
      relay.logs.some(
        (entry) =>
          entry.msg === 'data file compacted' &&
          entry.before === sizeBefore &&
          entry.after === sizeAfter,
      ),
    );
    assert.deepEqual(fingerprint(relay.relay.store.state), before);
    const header = JSON.parse(lines(relay.config.dataFile)[0] ?? '{}');
    assert.deepEqual(
      [header.seq, header.type, header.nextTargetId, header.nextDeliveryId],
      [0, 'header', 3, 41],
    );
    assert.ok(!readFileSync(relay.config.dataFile, 'utf8').includes('?gone'));

    const restarted = await relay.restart();
    assert.deepEqual(fingerprint(restarted.relay.store.state), before);
    const again = await register(restarted, { url: `${receiver.url}?new` });
    assert.equal(again, 3, 'a compacted file never gives an id out twice');
    assert.equal(
      (
        await restarted.ingest(tiledEvent('stream-closed', ['n0']), {
          'X-Tiled-Event-ID': eventId(0),
        })
      ).status,
      200,
    );
    void kept;
  },
);

test(
  'appends made while the snapshot is written are carried over, and ingest is not held up',
  async (t) => {
    const files = new FaultyFiles();
    const relay = await startTestRelay(t, { files, config: compactAlways });
    await register(relay, { url: 'https://example.org/a' });
    for (let n = 0; n < 5; n += 1) {
      await relay.ingest(tiledEvent('stream-closed', [`a${n}`]), {
        'X-Tiled-Event-ID': eventId(n),
      });
    }
    await makeGarbage(relay);

    files.hold('open');
    const compaction = relay.relay.maintenance.run();
    await eventually(() => files.waiting('open') === 1, 'compaction to start');
    for (let n = 5; n < 10; n += 1) {
      const response = await relay.ingest(tiledEvent('stream-closed', [`b${n}`]), {
        'X-Tiled-Event-ID': eventId(n),
      });
      assert.equal(response.status, 202);
    }
    assert.equal(relay.relay.journal.compacting, true);
    files.release('open');
    await compaction;
    assert.equal(relay.relay.journal.compacting, false);

    const before = fingerprint(relay.relay.store.state);
    const restarted = await relay.restart({ files: new FaultyFiles() });
    assert.deepEqual(fingerprint(restarted.relay.store.state), before);
    assert.equal(restarted.relay.store.state.events.size, 10);
  },
);

test(
  'a crash after any step of compaction leaves a file that restores the same state',
  async (t) => {
    const setup = await startTestRelay(t, { config: compactAlways });
    await register(setup, { url: 'https://example.org/a', secret: 's' });
    await register(setup, { url: 'https://example.org/b' }, 'raw');
    for (let n = 0; n < 30; n += 1) {
      const event = tiledEvent('stream-closed', ['raw', `n${n}`]);
      await setup.ingest(event, { 'X-Tiled-Event-ID': eventId(n) });
    }
    await settle(setup, 60);
    await makeGarbage(setup);
    await setup.relay.close();
    const original = readFileSync(setup.config.dataFile);

    // Count the file calls of one whole compaction, then stop a compaction after each of them.
    const counting = new FaultyFiles();
    const probe = await setup.restart({ files: counting });
    const expected = fingerprint(probe.relay.store.state);
    const start = counting.totalCalls;
    await probe.relay.maintenance.run();
    const steps = counting.totalCalls - start;
    assert.ok(steps >= 7, `a compaction makes at least 7 file calls (made ${steps})`);
    await probe.relay.close();

    for (let step = 0; step <= steps; step += 1) {
      writeFileSync(setup.config.dataFile, original);
      const files = new FaultyFiles();
      const crashing = await setup.restart({ files });
      files.freezeAfter(step);
      let finished = false;
      void crashing.relay.maintenance.run().then(() => (finished = true));
      await eventually(
        () => files.frozenCalls > 0 || finished,
        `the compaction to stop after step ${step}`,
      );

      const recovered = await startTestRelay(t, {
        folder: setup.folder,
        files: new FaultyFiles(),
        config: compactAlways,
      });
      assert.deepEqual(
        fingerprint(recovered.relay.store.state),
        expected,
        `crash after step ${step}`,
      );
      assert.equal(existsSync(compactionFile(setup.config.dataFile)), false);
      await recovered.relay.close();
      files.thaw();
      await crashing.relay.close();
    }
  },
);

test(
  'retention forgets old settled history from memory and from the file, never a pending delivery',
  async (t) => {
    const receiver = await startReceiver(t);
    const failing = await startReceiver(t, status(500));
    const relay = await startRelay(t, {
      config: {
        ...compactAlways,
        history: { retentionDays: 1 },
        delivery: { retryDelaysMs: [3_600_000, 3_600_000] },
      },
    });
    const ok = await register(relay, { url: receiver.url });
    const stuck = await register(relay, { url: failing.url }, 'stuck');
    await relay.ingest(tiledEvent('stream-closed', ['old']), { 'X-Tiled-Event-ID': 'old-event' });
    await relay.ingest(tiledEvent('stream-closed', ['stuck', 'x']), {
      'X-Tiled-Event-ID': 'stuck-event',
    });
    await settle(relay, 3);

    // The test runs maintenance itself: a timed run that began earlier would prune too early.
    await relay.relay.maintenance.stop();
    relay.clock.advance(2 * DAY_MS - 3_600_000);
    await relay.ingest(tiledEvent('stream-closed', ['new']), { 'X-Tiled-Event-ID': 'new-event' });
    await settle(relay, 4);
    // The stuck delivery's retry and the failing target's health are written after the attempt;
    // they must not land while the test measures.
    await eventually(
      () =>
        /"attempts":2/.test(readFileSync(relay.config.dataFile, 'utf8')) &&
        /"failingSince":\d/.test(readFileSync(relay.config.dataFile, 'utf8')),
      'the retry and the failing target to be recorded',
    );
    const state = relay.relay.store.state;
    assert.equal(state.deliveries.size, 4);
    const liveBytes = state.liveBytes;

    await relay.relay.maintenance.run();
    assert.ok(state.liveBytes < liveBytes, 'what is kept shrinks with what is forgotten');
    assert.deepEqual([...state.events.keys()].sort(), ['new-event', 'stuck-event']);
    assert.deepEqual(
      [...state.deliveries.values()].map((d) => [d.target.id, d.event.id, d.outcome]).sort(),
      [
        [ok, 'new-event', 'success'],
        [stuck, 'stuck-event', 'pending'],
      ],
    );
    const file = readFileSync(relay.config.dataFile, 'utf8');
    assert.ok(!file.includes('old-event'));
    assert.ok(file.includes('stuck-event'));
    assert.ok(
      relay.logs.some(
        (entry) =>
          entry.msg === 'history beyond retention forgotten' &&
          entry.deliveries === 2 &&
          entry.events === 1,
      ),
    );

    const restarted = await relay.restart();
    assert.deepEqual([...restarted.relay.store.state.events.keys()].sort(), [
      'new-event',
      'stuck-event',
    ]);
    assert.equal(
      (
        await restarted.ingest(tiledEvent('stream-closed', ['old']), {
          'X-Tiled-Event-ID': 'old-event',
        })
      ).status,
      202,
    );
  },
);

test('at most history.maxPerTarget settled deliveries are kept per target', async (t) => {
  const relay = await startTestRelay(t, { config: { history: { maxPerTarget: 3 } } });
  const id = await register(relay, { url: 'https://example.org/a' });
  for (let n = 0; n < 8; n += 1) await relay.ingest(tiledEvent('stream-closed', [`n${n}`]));
  await settle(relay, 8);
  await relay.relay.maintenance.run();
  const history = (await (
    await relay.api('GET', `/api/v1/webhooks/history/${id}`)
  ).json()) as Array<{ id: number }>;
  assert.deepEqual(
    history.map((record) => record.id),
    [8, 7, 6],
  );
  assert.equal(relay.relay.store.state.deliveries.size, 3);
});

test(
  'settled deliveries over the cap are forgotten as they settle, before any periodic check',
  async (t) => {
    const relay = await startTestRelay(t, { config: { history: { maxPerTarget: 10 } } });
    await relay.relay.maintenance.stop();
    await register(relay, { url: 'https://example.org/a' });
    for (let n = 0; n < 200; n += 1) await relay.ingest(tiledEvent('stream-closed', [`n${n}`]));
    const state = relay.relay.store.state;
    await eventually(() => state.pending().length === 0, 'every delivery to settle');

    // The cap is held to within its slack of 64 deliveries; the periodic check trims the rest.
    assert.ok(state.deliveries.size <= 10 + 64, `${state.deliveries.size} deliveries kept`);
    assert.ok(state.events.size <= 10 + 64, `${state.events.size} events kept`);
    assert.equal(state.seen.size + state.events.size, 200);
  },
);

test(
  'the ids of forgotten events are still refused as repeats after compaction and a restart',
  async (t) => {
    const relay = await startTestRelay(t, {
      config: { ...compactAlways, history: { maxPerTarget: 1 } },
    });
    await register(relay, { url: 'https://example.org/a' });
    for (let n = 0; n < 5; n += 1) {
      await relay.ingest(tiledEvent('stream-closed', [`n${n}`]), {
        'X-Tiled-Event-ID': eventId(n),
      });
    }
    await relay.ingest(tiledEvent('stream-closed', ['x']), {
      'X-Tiled-Event-ID': 'matched-nothing',
    });
    await eventually(
      () => relay.relay.store.state.pending().length === 0,
      'every delivery to settle',
    );
    await relay.relay.maintenance.run();
    assert.equal(relay.relay.store.state.deliveries.size, 1);
    assert.match(readFileSync(relay.config.dataFile, 'utf8'), /"type":"seen"/);

    const restarted = await relay.restart();
    assert.equal(restarted.relay.store.state.seen.size, 5);
    for (const id of [eventId(0), eventId(3), 'matched-nothing']) {
      const answer = await restarted.ingest(tiledEvent('stream-closed', ['n0']), {
        'X-Tiled-Event-ID': id,
      });
      assert.equal(answer.status, 200, `${id} is refused as a repeat`);
    }
  },
);

test(
  'an event that matched no target keeps only its id in memory, and it is refused again',
  async (t) => {
    const relay = await startTestRelay(t);
    await relay.ingest(tiledEvent('stream-closed', ['x']), { 'X-Tiled-Event-ID': 'unmatched' });
    const state = relay.relay.store.state;
    assert.equal(state.events.has('unmatched'), false);
    assert.equal(state.seen.has('unmatched'), true);
    assert.equal(
      (await relay.ingest(tiledEvent('stream-closed', ['x']), { 'X-Tiled-Event-ID': 'unmatched' }))
        .status,
      200,
    );
  },
);

test('the file is only compacted once it passes the size ratio and the minimum', async (t) => {
  const relay = await startTestRelay(t, { config: { compaction: { ratio: 2, minBytes: 0 } } });
  await register(relay, { url: 'https://example.org/a' });
  const size = statSync(relay.config.dataFile).size;
  await relay.relay.maintenance.run();
  assert.equal(statSync(relay.config.dataFile).size, size, 'nothing to gain yet');
  assert.ok(!relay.logs.some((entry) => entry.msg === 'data file compacted'));
});

test('a compaction that fails leaves the file as it was and ingest going', async (t) => {
  const files = new FaultyFiles();
  const relay = await startTestRelay(t, { files, config: compactAlways });
  await register(relay, { url: 'https://example.org/a' });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await makeGarbage(relay);
  await eventually(
    () => (relay.relay.store.state.deliveries.get(1)?.recordBytes ?? 0) > 0,
    'the delivery to be written',
  );
  const before = readFileSync(relay.config.dataFile);

  files.fail('rename', 'EXDEV');
  await relay.relay.maintenance.run();
  assert.deepEqual(readFileSync(relay.config.dataFile), before);
  assert.equal(existsSync(compactionFile(relay.config.dataFile)), false);
  assert.ok(
    relay.logs.some(
      (entry) => entry.msg === 'compaction failed; it is tried again at the next check',
    ),
  );
  assert.equal((await relay.ingest(tiledEvent('stream-closed', ['y']))).status, 202);
  await eventually(
    () => (relay.relay.store.state.deliveries.get(2)?.recordBytes ?? 0) > 0,
    'the second delivery to be written',
  );
  const grown = statSync(relay.config.dataFile).size;
  await relay.relay.maintenance.run();
  const compacted = statSync(relay.config.dataFile).size;
  assert.ok(compacted < grown, `${compacted} < ${grown}`);
  assert.ok(relay.logs.some((entry) => entry.msg === 'data file compacted'));
});

test('the file of an unfinished compaction is removed at startup', async (t) => {
  const relay = await startTestRelay(t);
  await relay.relay.close();
  writeFileSync(compactionFile(relay.config.dataFile), '{"partial');
  const restarted = await relay.restart();
  assert.equal(existsSync(compactionFile(relay.config.dataFile)), false);
  assert.ok(
    restarted.logs.some((entry) => entry.msg === 'removed the file of an unfinished compaction'),
  );
});
