import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { ADMIN_MAX_BODY_BYTES } from '../src/defaults.js';
import { eventually } from './helpers/eventually.js';
import {
  ADMIN_KEY,
  eventId,
  startTestRelay,
  tiledEvent,
  type TestRelay,
} from './helpers/relay-harness.js';

const limits = { listen: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 }, ingest: { secret: null, maxBodyBytes: 4096 } };

/**
 * Writes `parts` to a raw connection (waiting `gapMs` between them) and answers everything the
 * relay sent back until it closed the connection or `limitMs` passed.
 */
function exchange(relay: TestRelay, parts: Array<string | Buffer>, options: { gapMs?: number; limitMs?: number } = {}): Promise<string> {
  const { port } = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = (): void => {
      clearTimeout(limit);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const limit = setTimeout(finish, options.limitMs ?? 3_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? finish() : reject(error)));
    socket.on('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (options.gapMs) await new Promise((wait) => setTimeout(wait, options.gapMs));
      }
    });
  });
}

function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));
}

function eventsIn(relay: TestRelay): number {
  return readFileSync(relay.config.dataFile, 'utf8').split('\n').filter((line) => line.includes('"type":"event"')).length;
}

const head = (extra: string) => `POST /ingest HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n${extra}\r\n`;

test('a declared body over the limit is refused with 413 before it is sent', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  const answer = await exchange(relay, [head('Content-Length: 10485760\r\n'), '{"type": ']);
  assert.deepEqual(statuses(answer), [413]);
  assert.match(answer, /Connection: close/i);
  assert.match(answer, /"code":"payload_too_large"/);
});

test('a chunked body that grows past the limit is refused with 413', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  const chunk = `1000\r\n${'x'.repeat(4096)}\r\n`;
  const answer = await exchange(relay, [head('Transfer-Encoding: chunked\r\n'), chunk, chunk, chunk]);
  assert.deepEqual(statuses(answer), [413]);
  assert.equal(eventsIn(relay), 0);
});

const adminHead = (extra: string) =>
  'POST /api/v1/webhooks/target/ HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n' +
  `Authorization: Apikey ${ADMIN_KEY}\r\n${extra}\r\n`;

/** The JSON body of the one answer in `text`. */
function answerBody(text: string): unknown {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

const ADMIN_TOO_LARGE = {
  detail: 'request body is larger than the limit of 65536 bytes',
  code: 'payload_too_large',
};

test('an admin body declared over 64 KiB is refused with 413 before any is sent', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  // Were the body awaited, the request would end in 408 after listen.requestTimeoutMs instead.
  const declared = adminHead(`Content-Length: ${ADMIN_MAX_BODY_BYTES + 1}\r\n`);
  const answer = await exchange(relay, [declared]);
  assert.deepEqual(statuses(answer), [413]);
  assert.match(answer, /Connection: close/i);
  assert.deepEqual(answerBody(answer), ADMIN_TOO_LARGE);
  assert.equal(relay.relay.store.state.targets.size, 0);

  const registration = JSON.stringify({ url: 'https://example.org/a' });
  const atTheLimit = registration.padEnd(ADMIN_MAX_BODY_BYTES, ' ');
  assert.equal((await relay.api('POST', '/api/v1/webhooks/target/', atTheLimit)).status, 200);
});

test('a streamed admin body is refused with 413 as soon as it passes 64 KiB', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  const chunk = `4000\r\n${' '.repeat(16_384)}\r\n`;
  // Exactly the limit, then one byte more, and the body never ends.
  const head = adminHead('Transfer-Encoding: chunked\r\n');
  const answer = await exchange(relay, [head, chunk, chunk, chunk, chunk, '1\r\n \r\n']);
  assert.deepEqual(statuses(answer), [413]);
  assert.deepEqual(answerBody(answer), ADMIN_TOO_LARGE);
  assert.equal(relay.relay.store.state.targets.size, 0);
});

test('a Content-Length shorter than the body cuts it there; the rest is refused as a bad request', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  const body = '{"type": "stream-closed", "path": ["x"]}';
  const answer = await exchange(relay, [head('Content-Length: 10\r\n') + body]);
  // Node finds the rest is no request, answers 400 and closes: the ten bytes are refused
  // either by that or, if the relay answers first, as invalid JSON.
  assert.equal(statuses(answer)[0], 400);
  assert.doesNotMatch(answer, /HTTP\/1\.1 2\d\d/);
  assert.equal(eventsIn(relay), 0);
});

test('Content-Length together with Transfer-Encoding, or no Host, is a bad request', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  assert.deepEqual(statuses(await exchange(relay, [head('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n') + '{}'])), [400]);
  assert.deepEqual(statuses(await exchange(relay, ['POST /ingest HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}'])), [400]);
});

test('slow headers and a slow body are cut off with 408 while other clients are served', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  const dripHeaders = exchange(relay, ['POST /ingest HTTP/1.1\r\n', 'Host: relay\r\n', 'X-Slow: 1\r\n', 'X-Slow: 2\r\n', 'X-Slow: 3\r\n'], {
    gapMs: 300,
  });
  const dripBody = exchange(relay, [head('Content-Length: 100\r\n'), '{"type"', ': "x"', ', "pa', 'th": '], { gapMs: 400 });
  const normal = await relay.ingest(tiledEvent('stream-closed', ['x']), { 'X-Tiled-Signature': null });
  assert.equal(normal.status, 202);
  assert.deepEqual(statuses(await dripHeaders), [408]);
  assert.deepEqual(statuses(await dripBody), [408]);
  assert.equal(eventsIn(relay), 1);
});

test('too many headers are refused with 431, not silently dropped', async (t) => {
  const relay = await startTestRelay(t, { config: limits });
  const many = Array.from({ length: 1500 }, (_, n) => `X-${n}: 1\r\n`).join('');
  const answer = await exchange(relay, [`GET /api/v1/webhooks/target/ HTTP/1.1\r\nHost: relay\r\n${many}Authorization: Apikey test\r\n\r\n`]);
  assert.deepEqual(statuses(answer), [431]);
  assert.match(answer, /"code":"too_many_headers"/);

  const huge = await exchange(relay, [`GET / HTTP/1.1\r\nHost: relay\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`]);
  assert.deepEqual(statuses(huge), [431]);
});

/**
 * Opens a connection and makes one keep-alive request on it: once the answer is back, the relay
 * has accepted the connection and counts it, and it stays open.
 */
function servedConnection(relay: TestRelay): Promise<Socket> {
  const { port } = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write('GET /nothing-here HTTP/1.1\r\nHost: relay\r\n\r\n');
    });
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });
}

test('connections over listen.maxConnections are dropped at once', async (t) => {
  const relay = await startTestRelay(t, { config: { ...limits, listen: { ...limits.listen, maxConnections: 2 } } });
  const open = [await servedConnection(relay), await servedConnection(relay)];
  t.after(() => open.forEach((socket) => socket.destroy()));
  const third = await exchange(relay, ['GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n'], { limitMs: 2_000 });
  assert.equal(third, '');

  open.forEach((socket) => socket.destroy());
  // The relay counts a connection until it sees it closed; until then a new one is dropped and
  // nothing of it is read, so trying again is safe.
  const event = tiledEvent('stream-closed', ['x']);
  const headers = { 'X-Tiled-Event-ID': eventId(1) };
  const accepted = async (): Promise<boolean> => {
    const response = await relay.ingest(event, headers).catch(() => null);
    return response?.status === 202;
  };
  await eventually(accepted, 'a new connection to be served once the others closed');
  assert.equal(eventsIn(relay), 1);
});
