import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Journal } from '../src/journal.js';
import { createLogger } from '../src/log.js';
import { encodeRecord, type JournalRecord } from '../src/records.js';
import { describeRepair, repairJournal } from '../src/repair.js';
import { FakeClock } from './helpers/fake-clock.js';

function folder(t: TestContext): string {
  const path = mkdtempSync(join(tmpdir(), 'hookrelay-recovery-'));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

const header: JournalRecord = {
  type: 'header',
  format: 'hookrelay-journal',
  version: 1,
  created: 0,
};
const event = (n: number): JournalRecord => ({
  type: 'event',
  id: `event-${n}`,
  eventType: 'stream-closed',
  at: n,
  body: `{"type": "stream-closed", "timestamp": "2026-01-15T12:00:00Z", "key": "k${n}", "path": ["k${n}"]}`,
  deliveries: [],
});

function goodFile(count: number): string {
  return [header, ...Array.from({ length: count }, (_, n) => event(n + 1))]
    .map((record, seq) => encodeRecord(seq, record))
    .join('');
}

async function recover(
  file: string,
): Promise<{ ids: string[]; logs: Array<Record<string, unknown>> }> {
  const ids: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const { journal } = await Journal.open(file, {
    clock: new FakeClock(),
    logger: createLogger({ clock: new FakeClock(), sink: (line) => logs.push(JSON.parse(line)) }),
    onRecord: (record) => {
      if (record.type === 'event') ids.push(record.id);
    },
    onFatal: (error) => assert.fail(error),
  });
  await journal.append(event(99), true);
  await journal.close();
  return { ids, logs };
}

// A seeded generator, so a failure can be replayed: the seed is printed with the test name.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

test('a last line torn at any byte is cut off, and everything before it is kept', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const good = goodFile(3);
  const last = encodeRecord(4, event(4));
  for (let cut = 1; cut <= last.length - 1; cut += 1) {
    writeFileSync(file, good + last.slice(0, cut));
    const { ids, logs } = await recover(file);
    assert.deepEqual(ids, ['event-1', 'event-2', 'event-3'], `cut at ${cut}`);
    const warning = logs.find((entry) => entry.msg === 'dropped a torn last line of the data file');
    assert.deepEqual([warning?.line, warning?.bytesDropped], [5, cut], `cut at ${cut}`);

    const again = await recover(file);
    assert.deepEqual(
      again.ids,
      ['event-1', 'event-2', 'event-3', 'event-99'],
      `the file goes on cleanly after a cut at ${cut}`,
    );
  }
});

test('garbage or a block of zeros after the last line is cut off', async (t) => {
  const seed = 20261203;
  t.diagnostic(`seed ${seed}`);
  const next = random(seed);
  const file = join(folder(t), 'relay.jsonl');
  const tails: Array<[string, Buffer]> = [
    ['zeros', Buffer.alloc(4096)],
    ['a newline then zeros', Buffer.concat([Buffer.from('\n'), Buffer.alloc(512)])],
    ...Array.from({ length: 20 }, (_, n): [string, Buffer] => {
      const bytes = Buffer.from(
        Array.from({ length: 1 + Math.floor(next() * 4096) }, () => Math.floor(next() * 256)),
      );
      return [`random bytes #${n}`, bytes];
    }),
  ];
  for (const [what, tail] of tails) {
    writeFileSync(file, goodFile(3));
    const size = statSync(file).size;
    appendFileSync(file, tail);
    const { ids, logs } = await recover(file);
    assert.deepEqual(ids, ['event-1', 'event-2', 'event-3'], what);
    assert.equal(
      logs.find((entry) => entry.msg === 'dropped a torn last line of the data file')?.bytesDropped,
      tail.length,
      what,
    );
    assert.equal(readFileSync(file).subarray(0, size).toString(), goodFile(3), what);
  }
});

test('repair drops a damaged line, keeps a copy, and says what it dropped', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const lines = goodFile(4).split('\n');
  lines[2] = (lines[2] ?? '').replace('k2', 'kX');
  writeFileSync(file, lines.join('\n'));
  await assert.rejects(recover(file), /line 3 .*checksum mismatch/);

  const report = repairJournal(file, Date.UTC(2026, 11, 3, 12, 0, 0));
  assert.equal(report.copy, `${file}.damaged-2026-12-03T12-00-00-000Z`);
  assert.equal(readFileSync(report.copy ?? '', 'utf8'), lines.join('\n'));
  assert.deepEqual(describeRepair(report), [
    `repaired ${file}; the damaged file is kept as ${report.copy}`,
    `dropped line 3 (byte ${Buffer.byteLength(`${lines[0]}\n${lines[1]}\n`)}, ${Buffer.byteLength(lines[2] ?? '') + 1} bytes): checksum mismatch; it held an event record (id "event-2")`,
    'kept 4 records',
  ]);
  assert.deepEqual((await recover(file)).ids, ['event-1', 'event-3', 'event-4']);
});

test('repair drops a repeated line and reports a missing one', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const lines = goodFile(5).split('\n');
  writeFileSync(file, [lines[0], lines[1], lines[1], lines[2], lines[4], lines[5], ''].join('\n'));
  await assert.rejects(recover(file), /line 3 .*repeats an earlier record/);

  const report = repairJournal(file, 0);
  assert.deepEqual(
    report.dropped.map((entry) => [entry.line, entry.reason]),
    [[3, 'repeats sequence number 1']],
  );
  assert.deepEqual(report.missing, [{ from: 3, to: 3 }]);
  assert.deepEqual((await recover(file)).ids, ['event-1', 'event-2', 'event-4', 'event-5']);
});

test('repair leaves a sound file alone', (t) => {
  const file = join(folder(t), 'relay.jsonl');
  writeFileSync(file, goodFile(2));
  const report = repairJournal(file, 0);
  assert.deepEqual(describeRepair(report), [`${file} has no damage; nothing was changed`]);
  assert.equal(readFileSync(file, 'utf8'), goodFile(2));
  assert.equal(existsSync(`${file}.repairing`), false);
});

test('repair refuses a file of a format it does not read', (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const future =
    encodeRecord(0, { ...header, version: 2 } as JournalRecord) +
    'garbage\n' +
    encodeRecord(1, event(1));
  writeFileSync(file, future);
  assert.throws(
    () => repairJournal(file, 0),
    /not a hookrelay data file this version reads; it was not changed/,
  );
  assert.equal(readFileSync(file, 'utf8'), future);
});
