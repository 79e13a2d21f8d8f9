import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApiClient,
  ApiError,
  apiError,
  describeError,
} from '../../src/status-page/browser/api-client.js';
import { ADMIN_KEY, recordingSender, startTestRelay } from '../helpers/relay-harness.js';

/** The page's API client, against a real relay: the browser's fetch and Node's are the same API. */

test('a call sends the key as Apikey and answers the JSON', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });
  const client = new ApiClient(ADMIN_KEY, `${relay.url}/`);

  const status = await client.get<{ pending_deliveries: number }>('api/v1/status');

  assert.equal(status.pending_deliveries, 0);
});

test('a refused call fails with the relay\'s status, code and detail', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });
  const client = new ApiClient(ADMIN_KEY, `${relay.url}/`);

  const error = await client.send('PATCH', 'api/v1/webhooks/99', { active: false }).catch((e) => e);

  assert.ok(error instanceof ApiError);
  assert.deepEqual({ status: error.status, code: error.code, detail: error.message }, {
    status: 404,
    code: 'target_not_found',
    detail: 'Webhook not found.',
  });
  assert.equal(describeError(error), 'Webhook not found. (404 target_not_found)');
});

test('an answer that is not the relay\'s JSON is described by its status', () => {
  const error = apiError(502, 'Bad Gateway', '<html>upstream down</html>');

  assert.deepEqual({ status: error.status, code: error.code, detail: error.message }, {
    status: 502,
    code: null,
    detail: 'the relay answered 502 Bad Gateway',
  });
  assert.equal(describeError(error), 'the relay answered 502 Bad Gateway (502)');
});

test('a relay that cannot be reached is said to be so', () => {
  assert.equal(
    describeError(new TypeError('Failed to fetch')),
    'the relay could not be reached (Failed to fetch)',
  );
});
