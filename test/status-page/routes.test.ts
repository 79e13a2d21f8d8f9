import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_HTML } from '../../src/status-page/markup.js';
import { CONTENT_SECURITY_POLICY } from '../../src/status-page/routes.js';
import {
  ADMIN_KEY,
  INGEST_SECRET,
  READ_KEY,
  recordingSender,
  startTestRelay,
} from '../helpers/relay-harness.js';

/** The status page and its two files, served by the relay without a key. */

const POLICY =
  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

function headersOf(response: Response, names: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
}

const SHOWN_HEADERS = [
  'content-type',
  'content-security-policy',
  'x-content-type-options',
  'referrer-policy',
  'cache-control',
];

test('GET / answers the page without a key, under a strict policy and never cached', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });

  const response = await fetch(`${relay.url}/`);

  assert.equal(response.status, 200);
  assert.deepEqual(headersOf(response, SHOWN_HEADERS), {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  assert.equal(await response.text(), PAGE_HTML);
  assert.equal(CONTENT_SECURITY_POLICY, POLICY);
});

test('HEAD / answers the page\'s headers without a body', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });

  const response = await fetch(`${relay.url}/`, { method: 'HEAD' });

  assert.deepEqual(
    { status: response.status, length: response.headers.get('content-length') },
    { status: 200, length: String(Buffer.byteLength(PAGE_HTML)) },
  );
  assert.equal(response.headers.get('content-security-policy'), POLICY);
  assert.equal(await response.text(), '');
});

test('the page loads its script and stylesheet from the relay and has nothing inline', () => {
  assert.deepEqual(PAGE_HTML.match(/<script[^>]*>/g), ['<script src="status-page.js" defer>']);
  assert.deepEqual(PAGE_HTML.match(/<link rel="stylesheet"[^>]*>/g), [
    '<link rel="stylesheet" href="status-page.css">',
  ]);
  assert.equal(/<style|\sstyle=|\son[a-z]+=|javascript:/i.test(PAGE_HTML), false);
});

test('the script and the stylesheet have their types and are revalidated by ETag', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });

  for (const [path, type] of [
    ['/status-page.js', 'text/javascript; charset=utf-8'],
    ['/status-page.css', 'text/css; charset=utf-8'],
  ] as const) {
    const first = await fetch(`${relay.url}${path}`);
    const body = await first.text();
    const etag = first.headers.get('etag') ?? '';
    assert.deepEqual(headersOf(first, SHOWN_HEADERS), {
      'content-type': type,
      'content-security-policy': POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    assert.ok(body.length > 1000, `${path} has a body`);
    assert.match(etag, /^"[\w-]{22}"$/);

    const again = await fetch(`${relay.url}${path}`, { headers: { 'If-None-Match': etag } });
    assert.deepEqual({ status: again.status, body: await again.text() }, { status: 304, body: '' });
  }
});

test('the script is the page\'s TypeScript bundled for a browser, without imports', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });

  const script = await (await fetch(`${relay.url}/status-page.js`)).text();

  assert.match(script, /^"use strict";\n\(\(\) => \{/);
  assert.equal(/^\s*(import|export)\s/m.test(script), false);
  assert.ok(script.includes('api/v1/activity?minutes=60&buckets=12'));
});

test('neither the page nor its files carry a key or a secret of the relay', async (t) => {
  const relay = await startTestRelay(t, { sender: recordingSender() });
  const secrets = [ADMIN_KEY, READ_KEY, INGEST_SECRET, ...relay.config.secretKeys];

  for (const path of ['/', '/status-page.js', '/status-page.css']) {
    const text = await (await fetch(`${relay.url}${path}`)).text();
    assert.deepEqual(secrets.filter((secret) => text.includes(secret)), [], path);
  }
});
