import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../src/log.js';
import { FakeClock } from './helpers/fake-clock.js';

test('a log line never carries the credentials of a URL, whichever field brought them', () => {
  const lines: string[] = [];
  const logger = createLogger({ clock: new FakeClock(0), sink: (line) => lines.push(line) });
  const error = new Error('could not reach https://user:hunter2@example.org/hook');
  logger.warn('target failing', { url: 'http://admin:pa@ss@10.0.0.1:8080/x', err: error });

  assert.deepEqual(lines.map((line) => JSON.parse(line) as unknown), [
    {
      time: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      msg: 'target failing',
      url: 'http://…@10.0.0.1:8080/x',
      err: { type: 'Error', message: 'could not reach https://…@example.org/hook' },
    },
  ]);
});
