import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, parseRetryAfter } from '../src/retry-policy.js';

const settings = { retryDelaysMs: [1000, 5000, 25000], jitterMs: 1000, maxRetryAfterMs: 3_600_000 };
const now = Date.UTC(2026, 0, 15, 12, 0, 0);

test('any 2xx is a success', () => {
  for (const statusCode of [200, 201, 202, 204, 299]) {
    assert.deepEqual(decide({ statusCode }, 1, settings, now, 0.5), { kind: 'success' });
  }
});

test('retries follow the schedule plus the jitter, then give up', () => {
  assert.deepEqual(decide({ statusCode: 500 }, 1, settings, now, 0), { kind: 'retry', delayMs: 1000 });
  assert.deepEqual(decide({ statusCode: 500 }, 2, settings, now, 0.5), { kind: 'retry', delayMs: 5500 });
  assert.deepEqual(decide({ statusCode: null }, 3, settings, now, 0.999), { kind: 'retry', delayMs: 25999 });
  assert.deepEqual(decide({ statusCode: 500 }, 4, settings, now, 0), { kind: 'failed' });
});

test('redirects and client errors are failures like any other status', () => {
  for (const statusCode of [301, 302, 307, 308, 400, 404, 199]) {
    assert.deepEqual(decide({ statusCode }, 1, settings, now, 0), { kind: 'retry', delayMs: 1000 });
  }
});

test('410 Gone ends the delivery at once', () => {
  assert.deepEqual(decide({ statusCode: 410 }, 1, settings, now, 0), { kind: 'gone' });
});

test('Retry-After on 429 and 503 lengthens the wait, never shortens it', () => {
  assert.deepEqual(decide({ statusCode: 429, retryAfter: '120' }, 1, settings, now, 0), { kind: 'retry', delayMs: 120_000 });
  assert.deepEqual(decide({ statusCode: 503, retryAfter: '0' }, 1, settings, now, 0), { kind: 'retry', delayMs: 1000 });
  const date = new Date(now + 600_000).toUTCString();
  assert.deepEqual(decide({ statusCode: 503, retryAfter: date }, 2, settings, now, 0), { kind: 'retry', delayMs: 600_000 });
});

test('Retry-After is capped at maxRetryAfterMs and ignored on other statuses', () => {
  assert.deepEqual(decide({ statusCode: 429, retryAfter: '86400' }, 1, settings, now, 0), {
    kind: 'retry',
    delayMs: 3_600_000,
  });
  assert.deepEqual(decide({ statusCode: 500, retryAfter: '120' }, 1, settings, now, 0), { kind: 'retry', delayMs: 1000 });
  assert.deepEqual(decide({ statusCode: 429, retryAfter: '120' }, 4, settings, now, 0), { kind: 'failed' });
});

test('Retry-After takes delay-seconds or an HTTP date, and nothing else', () => {
  assert.equal(parseRetryAfter('30', now), 30_000);
  assert.equal(parseRetryAfter(' 7 ', now), 7_000);
  assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
  assert.equal(parseRetryAfter(new Date(now - 5000).toUTCString(), now), 0);
  for (const value of ['-1', '1.5', 'soon', '', '12 hours']) assert.equal(parseRetryAfter(value, now), null, value);
});
