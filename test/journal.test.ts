import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { JournalDamage } from '../src/journal-reader.js';
import { Journal, StorageError } from '../src/journal.js';
import { createLogger } from '../src/log.js';
import { decodeLine, encodeRecord, encodeSeenLine, type JournalRecord, type SeenRecord } from '../src/records.js';
import { FakeClock } from './helpers/fake-clock.js';
import { FaultyFiles } from './helpers/faulty-files.js';

function folder(t: TestContext): string {
  const path = mkdtempSync(join(tmpdir(), 'hookrelay-journal-'));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

const deleted = (id: number): JournalRecord => ({ type: 'target-deleted', id });

async function open(file: string, files = new FaultyFiles(), logs: Array<Record<string, unknown>> = []) {
  const records: JournalRecord[] = [];
  const fatal: Error[] = [];
  const logger = createLogger({ clock: new FakeClock(), sink: (line) => logs.push(JSON.parse(line)) });
  const { journal, report } = await Journal.open(file, {
    clock: new FakeClock(),
    logger,
    files,
    onRecord: (record) => records.push(record),
    onFatal: (error) => fatal.push(error),
  });
  return { journal, report, records, fatal, files, logs };
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
}

test('a record survives encoding byte for byte, and a changed byte is caught', () => {
  const record: JournalRecord = { type: 'event', id: 'e1', eventType: 't', at: 5, body: '{"a": "\\u00e9"}', deliveries: [] };
  const line = Buffer.from(encodeRecord(7, record).trimEnd());
  const decoded = decodeLine(line);
  assert.ok(!('error' in decoded));
  assert.equal(decoded.seq, 7);
  assert.equal((decoded.record as { body: string }).body, '{"a": "\\u00e9"}');

  const flipped = Buffer.from(line);
  flipped[20] = (flipped[20] ?? 0) ^ 0x01;
  assert.deepEqual(decodeLine(flipped), { error: 'checksum mismatch' });
  assert.deepEqual(decodeLine(line.subarray(0, line.length - 3)), { error: 'no checksum at the end of the line' });
});

test('a line of remembered ids made straight into bytes is the line encodeRecord makes', () => {
  const keys = Buffer.from(Array.from({ length: 4096 * 16 }, (_, n) => (n * 37) % 256)).toString('base64');
  const records: JournalRecord[] = [
    { type: 'seen', at: 1_733_000_000_123, keys },
    { type: 'seen', at: 0, keys: '' },
    // Not what a snapshot makes, but still encoded alike: through the general path.
    { type: 'seen', at: 1.5, keys: 'not base64 "quoted"' },
    { type: 'seen', at: Number.NaN, keys },
  ];
  for (const record of records) {
    assert.deepEqual(encodeSeenLine(41, record as SeenRecord), Buffer.from(encodeRecord(41, record)));
  }
  const decoded = decodeLine(encodeSeenLine(9, records[0] as SeenRecord).subarray(0, -1));
  assert.ok(!('error' in decoded));
  const { at, keys: read } = decoded.record as SeenRecord;
  assert.equal(decoded.seq, 9);
  assert.equal(at, 1_733_000_000_123);
  assert.ok(read === keys, 'the keys come back as written');
});

test('a new data file gets its folder, a version header and a synced directory entry', async (t) => {
  const file = join(folder(t), 'nested', 'relay.jsonl');
  const { journal, files } = await open(file);
  await journal.close();

  assert.equal(files.calls.syncDirectory, 1);
  const header = JSON.parse(lines(file)[0] ?? '{}');
  assert.deepEqual(Object.keys(header), ['seq', 'type', 'format', 'version', 'created', 'crc']);
  assert.equal(header.format, 'hookrelay-journal');
  assert.equal(header.version, 1);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('an existing data file that others could read is made readable by its owner only', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const first = await open(file);
  await first.journal.close();
  chmodSync(file, 0o644);

  const reopened = await open(file);
  await reopened.journal.close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('records come back in order after reopening', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const first = await open(file);
  for (let id = 1; id <= 5; id += 1) await first.journal.append(deleted(id), id % 2 === 0);
  await first.journal.close();

  const second = await open(file);
  assert.deepEqual(second.records.slice(1).map((record) => (record as { id: number }).id), [1, 2, 3, 4, 5]);
  assert.equal(second.report?.nextSeq, 6);
  await second.journal.close();
});

test('concurrent durable appends share one write and one fdatasync', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  const before = { write: files.calls.write, datasync: files.calls.datasync };

  files.hold('datasync');
  const first = journal.append(deleted(0), true);
  await waitFor(() => files.waiting('datasync') === 1);
  const rest = Array.from({ length: 50 }, (_, index) => journal.append(deleted(index + 1), true));
  let settled = 0;
  for (const append of [first, ...rest]) void append.then(() => (settled += 1));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, 0, 'nothing resolves before its fdatasync');

  files.release('datasync');
  await Promise.all([first, ...rest]);
  assert.equal(files.calls.write - before.write, 2);
  assert.equal(files.calls.datasync - before.datasync, 2);
  await journal.close();
});

test("a batch's senders hear back once the next batch is being written", async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  const before = files.calls.write;

  files.hold('datasync');
  const first = journal.append(deleted(1), true);
  await waitFor(() => files.waiting('datasync') === 1);
  const second = journal.append(deleted(2), true);
  let writesWhenFirstSettled = 0;
  void first.then(() => (writesWhenFirstSettled = files.calls.write - before));

  files.release('datasync');
  await Promise.all([first, second]);
  assert.equal(writesWhenFirstSettled, 2, 'the second batch was written before the first one settled');
  await journal.close();
});

test('lazy appends are written without fdatasync, and closing syncs them', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  const synced = files.calls.datasync;
  await journal.append(deleted(1), false);
  await journal.append(deleted(2), false);
  assert.equal(files.calls.datasync, synced);
  await journal.close();
  assert.equal(files.calls.datasync, synced + 1);
});

test('a failed write is refused, cut off, and the next append succeeds', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  await journal.append(deleted(1), true);
  const length = statSync(file).size;

  files.fail('write', 'ENOSPC');
  await assert.rejects(journal.append(deleted(2), true), (error: unknown) => {
    assert.ok(error instanceof StorageError);
    assert.equal(error.code, 'ENOSPC');
    return true;
  });
  assert.equal(journal.healthy, false);
  assert.equal(statSync(file).size, length);

  await journal.append(deleted(3), true);
  assert.equal(journal.healthy, true);
  await journal.close();
  const reopened = await open(file);
  assert.deepEqual(reopened.records.slice(1).map((record) => (record as { id: number }).id), [1, 3]);
  await reopened.journal.close();
});

test('a failed fdatasync drops everything since the last good sync and is not retried', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  await journal.append(deleted(1), true);
  const synced = statSync(file).size;
  await journal.append(deleted(2), false);

  files.fail('datasync', 'EIO');
  await assert.rejects(journal.append(deleted(3), true), /fdatasync of the data file failed: EIO/);
  assert.equal(statSync(file).size, synced);

  await journal.append(deleted(4), true);
  await journal.close();
  const reopened = await open(file);
  assert.deepEqual(reopened.records.slice(1).map((record) => (record as { id: number }).id), [1, 4]);
  await reopened.journal.close();
});

test('after a compaction, a failed fdatasync is cut off and the next append lands right after it', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  await journal.append(deleted(1), true);
  const header = { type: 'header', format: 'hookrelay-journal', version: 1, created: 0 } as JournalRecord;
  await journal.compact([header, deleted(1)]);

  files.fail('datasync', 'EIO');
  await assert.rejects(journal.append(deleted(2), true), /fdatasync of the data file failed: EIO/);
  await journal.append(deleted(3), true);
  assert.equal(statSync(file).size, journal.size);
  await journal.close();

  const reopened = await open(file);
  assert.equal(reopened.report?.tornTail, null);
  assert.deepEqual(reopened.records.slice(1).map((record) => (record as { id: number }).id), [1, 3]);
  await reopened.journal.close();
});

test('compaction reads its snapshot a chunk at a time, letting other work run in between', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal } = await open(file);
  const header = { type: 'header', format: 'hookrelay-journal', version: 1, created: 0 } as JournalRecord;
  const turns: string[] = [];
  function* snapshot(): Generator<JournalRecord> {
    yield header;
    for (let id = 1; id <= 5_000; id += 1) {
      if (id % 2_000 === 1) {
        turns.push(`records from ${id}`);
        setImmediate(() => turns.push(`other work after ${id}`));
      }
      yield deleted(id);
    }
  }
  await journal.compact(snapshot());

  assert.deepEqual(turns, [
    'records from 1',
    'other work after 1',
    'records from 2001',
    'other work after 2001',
    'records from 4001',
    'other work after 4001',
  ]);
  await journal.close();
  const reopened = await open(file);
  assert.equal(reopened.records.length, 5_001);
  await reopened.journal.close();
});

test('a snapshot of large records is written a record or about a mebibyte at a time', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal, files } = await open(file);
  const header = { type: 'header', format: 'hookrelay-journal', version: 1, created: 0 } as JournalRecord;
  // Every line made in the same reused buffer, each with keys of its own.
  const seen = Array.from({ length: 40 }, (_, at) => {
    const keys = Buffer.alloc(4096 * 16, at).toString('base64');
    return { type: 'seen', at, keys } as JournalRecord;
  });
  const writes = files.calls.write;

  await journal.compact([header, ...seen]);
  await journal.close();

  // 40 lines of remembered ids, 87 KB each: each in a write of its own after the header's,
  // rather than 3.5 MB in one.
  assert.equal(files.calls.write - writes, 41);
  const reopened = await open(file);
  assert.equal(reopened.records.length, 41);
  const keysRead = reopened.records.slice(1).map((record) => (record as SeenRecord).keys);
  assert.ok(keysRead.every((keys, at) => keys === (seen[at] as SeenRecord).keys));
  await reopened.journal.close();
});

test('closing during a compaction abandons it before the switch and leaves the file as it was', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const { journal } = await open(file);
  await journal.append(deleted(1), true);
  const before = readFileSync(file);
  const header = { type: 'header', format: 'hookrelay-journal', version: 1, created: 0 } as JournalRecord;
  let yielded = 0;
  function* snapshot(): Generator<JournalRecord> {
    yield header;
    for (let id = 1; id <= 10_000; id += 1) {
      yielded += 1;
      yield deleted(id);
    }
  }

  const compaction = journal.compact(snapshot());
  const closed = journal.close();
  await assert.rejects(compaction, { name: 'CompactionAbandoned' });
  await closed;
  assert.ok(yielded < 10_000, `the snapshot was read only in part (${yielded} records)`);
  assert.deepEqual(readFileSync(file), before);
  assert.equal(existsSync(`${file}.compacting`), false);
});

test('when the file cannot be cut back, the journal gives up and says it is fatal', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const opened = await open(file);
  opened.files.fail('write', 'EIO');
  opened.files.fail('truncate', 'EIO');
  await assert.rejects(opened.journal.append(deleted(1), true), /write of the data file failed/);
  assert.equal(opened.fatal.length, 1);
  assert.match(opened.fatal[0]?.message ?? '', /truncate of the data file failed: EIO/);
  await assert.rejects(opened.journal.append(deleted(2), true), /truncate of the data file failed/);
});

test('a torn last line is cut off with a warning and the file goes on cleanly', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const first = await open(file);
  await first.journal.append(deleted(1), true);
  await first.journal.close();
  const good = statSync(file).size;
  appendFileSync(file, encodeRecord(2, deleted(2)).slice(0, 25));

  const logs: Array<Record<string, unknown>> = [];
  const second = await open(file, new FaultyFiles(), logs);
  assert.equal(statSync(file).size, good);
  assert.deepEqual(
    logs.map(({ time: _time, ...entry }) => entry),
    [{ level: 'warn', msg: 'dropped a torn last line of the data file', file, line: 3, reason: 'last line has no newline', bytesDropped: 25 }],
  );
  await second.journal.append(deleted(3), true);
  await second.journal.close();

  const third = await open(file);
  assert.deepEqual(third.records.slice(1).map((record) => (record as { id: number }).id), [1, 3]);
  await third.journal.close();
});

test('damage before the last line stops the reading with its line number', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  const first = await open(file);
  for (let id = 1; id <= 3; id += 1) await first.journal.append(deleted(id), true);
  await first.journal.close();
  const original = lines(file);

  const cases: Array<[string, string[], RegExp]> = [
    ['a flipped byte', original.map((line, index) => (index === 1 ? line.replace('"id":1', '"id":7') : line)), /line 2 .*checksum mismatch, and good records follow it/],
    ['a missing line', original.filter((_, index) => index !== 2), /line 3 .*sequence number 3 where 2 was expected \(records are missing before it\)/],
    ['a repeated line', [...original.slice(0, 3), original[2] ?? '', original[3] ?? ''], /line 4 .*sequence number 2 where 3 was expected \(repeats an earlier record\)/],
  ];
  for (const [what, content, message] of cases) {
    writeFileSync(file, `${content.join('\n')}\n`);
    await assert.rejects(open(file), (error: unknown) => {
      assert.ok(error instanceof JournalDamage, what);
      assert.match(error.message, message, what);
      return true;
    });
  }
});

test('a file that is not a hookrelay data file is refused', async (t) => {
  const file = join(folder(t), 'relay.jsonl');
  writeFileSync(file, encodeRecord(0, { type: 'header', format: 'something-else', version: 1, created: 0 }));
  await assert.rejects(open(file), /line 1 .*not a hookrelay data file/);
  writeFileSync(file, encodeRecord(0, { type: 'header', format: 'hookrelay-journal', version: 9, created: 0 }));
  await assert.rejects(open(file), /format version 9 is not supported/);
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
