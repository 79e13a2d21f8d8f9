import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  encodeRecord,
  JOURNAL_FORMAT,
  JOURNAL_VERSION,
  type JournalRecord,
} from '../src/records.js';

/**
 * Writes a data file of `records` lines shaped like a busy relay's: a few targets, and for each
 * event one event record followed by the progress records of its deliveries (one success, and
 * now and then a failure that was retried).
 */
export function writeDataFile(file: string, records: number): void {
  const fd = openSync(file, 'w');
  let seq = 0;
  let pending = '';
  const put = (record: JournalRecord): void => {
    pending += encodeRecord(seq++, record);
    if (pending.length > 1 << 20) {
      writeSync(fd, pending);
      pending = '';
    }
  };

  const start = Date.UTC(2026, 10, 1);
  put({ type: 'header', format: JOURNAL_FORMAT, version: JOURNAL_VERSION, created: start });
  for (let id = 1; id <= 3; id += 1) {
    put({
      type: 'target',
      target: {
        id,
        path: id === 1 ? [] : ['raw', `beamline${id}`],
        url: `https://receiver${id}.example.org/hooks/tiled`,
        events: null,
        secret: null,
        active: true,
        name: null,
        managedBy: 'api',
        created: start,
        disabledReason: null,
      },
    });
  }

  let delivery = 1;
  for (let n = 0; seq < records; n += 1) {
    const at = start + n * 50;
    const key = `scan_${String(n).padStart(7, '0')}`;
    const body = `{"type": "container-child-created", "timestamp": "2026-11-01T00:00:00.${String(n % 1_000_000).padStart(6, '0')}Z", "key": "${key}", "path": ["raw", "beamline2", "${key}"], "structure_family": "array", "specs": [{"name": "xdi", "version": "1.0"}], "metadata": {"sample": "Ni\\u00e9", "energy": ${8000 + (n % 500)}}}`;
    const first = delivery;
    put({
      type: 'event',
      id: randomBytes(16).toString('hex'),
      eventType: 'container-child-created',
      at,
      body,
      deliveries: [1, 2].map((target) => ({
        id: delivery++,
        target,
        eventId: randomBytes(16).toString('hex'),
        outcome: 'pending' as const,
      })),
    });
    for (let index = 0; index < 2 && seq < records; index += 1) {
      const id = first + index;
      if (n % 10 === 0) {
        put({
          type: 'delivery',
          id,
          outcome: 'pending',
          attempts: 1,
          status: 503,
          error: 'HTTP 503: busy',
          next: at + 1000,
          done: null,
        });
      }
      if (seq < records) {
        put({
          type: 'delivery',
          id,
          outcome: 'success',
          attempts: n % 10 === 0 ? 2 : 1,
          status: 200,
          error: null,
          next: null,
          done: at + 20,
        });
      }
    }
  }
  writeSync(fd, pending);
  closeSync(fd);
}
