import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { test, type TestContext } from 'node:test';
import { DeliveryClient, type AttemptRequest } from '../src/delivery-client.js';
import { compileUrlPolicy, type Resolver } from '../src/target-url.js';
import { FakeClock } from './helpers/fake-clock.js';
import { TEST_CERTIFICATE, TEST_PRIVATE_KEY } from './helpers/test-certificate.js';

/** One request as it arrived on the wire, with the connection it came on (1 for the first). */
interface Arrival {
  connection: number;
  head: string;
  body: string;
}

/** What the scripted receiver does with a request: write raw bytes, close, or say nothing. */
type Script = (arrival: Arrival, socket: Socket, index: number) => void;

interface RawReceiver {
  port: number;
  arrivals: Arrival[];
  connections(): number;
  /** Connections not yet closed. */
  open(): number;
}

/**
 * A TCP server that speaks just enough HTTP to read requests with a Content-Length and answers
 * each with whatever bytes the test scripts, so that every framing of an answer can be tried.
 */
async function rawReceiver(t: TestContext, script: Script): Promise<RawReceiver> {
  const arrivals: Arrival[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/\r\nContent-Length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const arrival = { connection, head, body: buffered.slice(end + 4, end + 4 + length) };
        buffered = buffered.slice(end + 4 + length);
        arrivals.push(arrival);
        script(arrival, socket, arrivals.length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { port, arrivals, connections: () => connections, open: () => sockets.size };
}

const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const answer = (text: string): Script => (_arrival, socket) => socket.write(text);

/**
 * Lets the event loop run until `done` holds (the fake clock stays where it is); fails after so
 * many turns of the loop that what it waits for is not coming.
 */
async function until(done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns += 1) {
    if (turns === 100_000) throw new Error('gave up waiting');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const security = { allowHttp: true, allowPrivateAddresses: false, blockNetworks: [] };
const localPolicy = compileUrlPolicy({ ...security, allowHosts: ['127.0.0.1'] });
const strictPolicy = compileUrlPolicy({ ...security, allowHosts: [] });
const success = { statusCode: 200, error: null };

interface ClientOptions {
  resolve?: Resolver;
  clock?: FakeClock;
  tls?: ConnectionOptions;
}

function client(t: TestContext, options: ClientOptions = {}): DeliveryClient {
  const created = new DeliveryClient({
    clock: options.clock ?? new FakeClock(),
    policy: localPolicy,
    resolve: options.resolve ?? (async () => []),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  t.after(() => created.close());
  return created;
}

function attempt(url: string, body = '{"type": "test"}'): AttemptRequest {
  return {
    url,
    headers: { 'Content-Type': 'application/json', 'X-Tiled-Event-ID': 'a'.repeat(32) },
    body: Buffer.from(body),
    timeoutMs: 10_000,
  };
}

test('a request goes out as one HTTP/1.1 POST with exactly the headers given', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/hook?x=1#part`;
  assert.deepEqual(await sender.send(attempt(url, '{"a": "\\u00e9"}')), success);
  assert.deepEqual(receiver.arrivals, [
    {
      connection: 1,
      head: [
        'POST /hook?x=1 HTTP/1.1',
        `Host: 127.0.0.1:${receiver.port}`,
        'Content-Type: application/json',
        `X-Tiled-Event-ID: ${'a'.repeat(32)}`,
        'Content-Length: 15',
        'Connection: keep-alive',
      ].join('\r\n'),
      body: '{"a": "\\u00e9"}',
    },
  ]);
});

test('consecutive attempts to one receiver share one keep-alive connection', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const sender = client(t);
  for (let n = 0; n < 3; n += 1) {
    assert.deepEqual(await sender.send(attempt(`http://127.0.0.1:${receiver.port}/`)), success);
  }
  assert.deepEqual(receiver.arrivals.map((arrival) => arrival.connection), [1, 1, 1]);
});

test('attempts at the same moment get a connection each, and reuse them afterwards', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/`;
  await Promise.all([sender.send(attempt(url)), sender.send(attempt(url))]);
  await Promise.all([sender.send(attempt(url)), sender.send(attempt(url))]);
  assert.equal(receiver.connections(), 2);
});

test('an answer that closes the connection is not followed by reuse of it', async (t) => {
  const closing = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok';
  const receiver = await rawReceiver(t, answer(closing));
  const sender = client(t);
  for (let n = 0; n < 2; n += 1) await sender.send(attempt(`http://127.0.0.1:${receiver.port}/`));
  assert.deepEqual(receiver.arrivals.map((arrival) => arrival.connection), [1, 2]);
});

test('a connection reused as the receiver drops it is replaced once by a fresh one', async (t) => {
  // The second request arrives on the kept connection and is dropped without an answer.
  const receiver = await rawReceiver(t, (_arrival, socket, index) => {
    if (index === 2) socket.destroy();
    else socket.write(ok);
  });
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/`;
  await sender.send(attempt(url));
  assert.deepEqual(await sender.send(attempt(url)), success);
  assert.deepEqual(receiver.arrivals.map((arrival) => arrival.connection), [1, 1, 2]);
});

test('a fresh connection dropped without an answer fails the attempt, tried once', async (t) => {
  const receiver = await rawReceiver(t, (_arrival, socket) => socket.destroy());
  const sender = client(t);
  const result = await sender.send(attempt(`http://127.0.0.1:${receiver.port}/`));
  assert.deepEqual(result, { statusCode: null, error: 'ECONNRESET: socket hang up' });
  assert.equal(receiver.arrivals.length, 1);
});

test("a receiver's Keep-Alive timeout stops reuse a second before it runs out", async (t) => {
  const hinted = 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok';
  const receiver = await rawReceiver(t, answer(hinted));
  const clock = new FakeClock();
  const sender = client(t, { clock });
  const url = `http://127.0.0.1:${receiver.port}/`;
  await sender.send(attempt(url));
  clock.advance(3_999);
  await sender.send(attempt(url));
  clock.advance(4_000);
  await sender.send(attempt(url));
  assert.deepEqual(receiver.arrivals.map((arrival) => arrival.connection), [1, 1, 2]);
});

test('an error answer gives its status, Retry-After and the start of its body', async (t) => {
  const chunked =
    'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5\r\nbusy,\r\n4\r\n try\r\n0\r\n\r\n';
  const receiver = await rawReceiver(t, answer(chunked));
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/`;
  const expected = { statusCode: 503, retryAfter: '30', error: 'HTTP 503: busy, try' };
  assert.deepEqual(await sender.send(attempt(url)), expected);
  assert.deepEqual(await sender.send(attempt(url)), expected);
  assert.equal(receiver.connections(), 1);
});

test('an error answer whose body runs until the connection closes is read to it', async (t) => {
  const receiver = await rawReceiver(t, (_arrival, socket) => {
    socket.write('HTTP/1.1 404 Not Found\r\n\r\nno such ');
    setImmediate(() => socket.end('hook'));
  });
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/`;
  const expected = { statusCode: 404, retryAfter: undefined, error: 'HTTP 404: no such hook' };
  assert.deepEqual(await sender.send(attempt(url)), expected);
  await sender.send(attempt(url));
  assert.equal(receiver.connections(), 2);
});

test('interim answers are passed over to the final one', async (t) => {
  const receiver = await rawReceiver(t, answer(`HTTP/1.1 100 Continue\r\n\r\n${ok}`));
  const sender = client(t);
  assert.deepEqual(await sender.send(attempt(`http://127.0.0.1:${receiver.port}/`)), success);
});

test('an answer that is not HTTP fails the attempt without a status', async (t) => {
  const receiver = await rawReceiver(t, answer('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
  const sender = client(t);
  const result = await sender.send(attempt(`http://127.0.0.1:${receiver.port}/`));
  assert.deepEqual(result, {
    statusCode: null,
    error: 'HPE_INVALID_RESPONSE: invalid HTTP answer: status line "SSH-2.0-OpenSSH_9.6"',
  });
});

test('bytes after a complete answer keep the attempt but drop the connection', async (t) => {
  const receiver = await rawReceiver(t, answer(`${ok}HTTP/1.1 200 OK\r\n`));
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/`;
  assert.deepEqual(await sender.send(attempt(url)), success);
  assert.deepEqual(await sender.send(attempt(url)), success);
  assert.equal(receiver.connections(), 2);
});

test('an answer of long chunk extensions around a tiny body is cut off at 1 MiB', async (t) => {
  // 1.2 MB on the wire for a body of 300 bytes, which is under the part kept for the history.
  const chunk = `1;${'e'.repeat(4000)}\r\nx\r\n`;
  const start = 'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n';
  const padded = `${start}${chunk.repeat(300)}0\r\n\r\n`;
  const receiver = await rawReceiver(t, (_arrival, socket, index) => {
    socket.write(index === 1 ? padded : ok);
  });
  const sender = client(t);
  const url = `http://127.0.0.1:${receiver.port}/`;
  const cut = await sender.send(attempt(url));
  assert.equal(cut.statusCode, 500);
  assert.match(String(cut.error), /^HTTP 500: x{200,256}$/);
  assert.deepEqual(await sender.send(attempt(url)), success);
  assert.deepEqual(receiver.arrivals.map((arrival) => arrival.connection), [1, 2]);
});

test('endless interim answers fail the attempt at 1 MiB', async (t) => {
  const interim = 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(45_000);
  const receiver = await rawReceiver(t, answer(`${interim}${ok}`));
  const sender = client(t);
  const result = await sender.send(attempt(`http://127.0.0.1:${receiver.port}/`));
  assert.deepEqual(result, {
    statusCode: null,
    error: 'EMSGSIZE: the answer ran over 1048576 bytes',
  });
});

test('an attempt without an answer ends at its timeout and drops the connection', async (t) => {
  const receiver = await rawReceiver(t, () => {});
  const clock = new FakeClock();
  const sender = client(t, { clock });
  const url = `http://127.0.0.1:${receiver.port}/`;
  const sent = sender.send(attempt(url));
  await until(() => receiver.arrivals.length === 1);
  clock.advance(10_000);
  assert.deepEqual(await sent, { statusCode: null, error: 'ETIMEDOUT: no answer within 10000 ms' });
  assert.equal(clock.pendingTimers, 0);
});

test('an attempt on a kept connection that times out is not sent again', async (t) => {
  // The first request is answered, the second is left hanging, a third would be answered.
  const receiver = await rawReceiver(t, (_arrival, socket, index) => {
    if (index !== 2) socket.write(ok);
  });
  const clock = new FakeClock();
  const sender = client(t, { clock });
  const url = `http://127.0.0.1:${receiver.port}/`;
  await sender.send(attempt(url));
  const sent = sender.send(attempt(url));
  await until(() => receiver.arrivals.length === 2);
  clock.advance(10_000);
  assert.deepEqual(await sent, { statusCode: null, error: 'ETIMEDOUT: no answer within 10000 ms' });
  assert.equal(receiver.arrivals.length, 2);
});

test('the resend after a kept connection closed keeps the attempt timeout', async (t) => {
  const hanging: Socket[] = [];
  const receiver = await rawReceiver(t, (_arrival, socket, index) => {
    if (index === 1) socket.write(ok);
    else hanging.push(socket);
  });
  const clock = new FakeClock();
  const sender = client(t, { clock });
  const url = `http://127.0.0.1:${receiver.port}/`;
  await sender.send(attempt(url));
  const sent = sender.send(attempt(url));
  await until(() => receiver.arrivals.length === 2);
  clock.advance(6_000);
  hanging[0]?.destroy();
  await until(() => receiver.arrivals.length === 3);
  clock.advance(4_000);
  assert.equal(clock.pendingTimers, 0);
  assert.deepEqual(await sent, { statusCode: null, error: 'ETIMEDOUT: no answer within 10000 ms' });
  assert.deepEqual(receiver.arrivals.map((arrival) => arrival.connection), [1, 1, 2]);
});

test('a kept connection is judged again under a changed policy before it is reused', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const resolve: Resolver = async () => ['127.0.0.1'];
  const sender = client(t, { resolve });
  const url = `http://receiver.test:${receiver.port}/`;
  assert.deepEqual(await sender.send(attempt(url)), success);

  sender.setPolicy(strictPolicy);
  const result = await sender.send(attempt(url));
  assert.equal(result.statusCode, null);
  const blocked = /^EBLOCKED: target address blocked: "receiver\.test" resolves to 127\.0\.0\.1/;
  assert.match(String(result.error), blocked);
  assert.equal(receiver.arrivals.length, 1);
  assert.equal(receiver.connections(), 1);
});

test('a connection made during a reload is judged under the new policy', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  // The name resolves under the old policy; the reload lands before the connection is made.
  const resolve: Resolver = async () => {
    sender.setPolicy(strictPolicy);
    return ['127.0.0.1'];
  };
  const sender = client(t, { resolve });
  const result = await sender.send(attempt(`http://receiver.test:${receiver.port}/`));
  assert.equal(result.statusCode, null);
  const blocked = /^EBLOCKED: target address blocked: "receiver\.test" resolves to 127\.0\.0\.1/;
  assert.match(String(result.error), blocked);
  assert.equal(receiver.arrivals.length, 0);
});

test('an https peer the policy refuses is not sent even the TLS handshake', async (t) => {
  let received = 0;
  const listener = createServer();
  // The one connection the client makes, to learn the peer's address, ends without a byte.
  const closed = new Promise<void>((resolve) => {
    listener.once('connection', (socket) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('close', () => resolve());
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const port = (listener.address() as AddressInfo).port;
  const resolve: Resolver = async () => {
    sender.setPolicy(strictPolicy);
    return ['127.0.0.1'];
  };
  const sender = client(t, { resolve });

  const result = await sender.send(attempt(`https://receiver.test:${port}/`));
  assert.match(String(result.error), /^EBLOCKED: target address blocked: "receiver\.test"/);
  await closed;
  assert.equal(received, 0);
});

test('the request keeps path and query as the URL encodes them, and Host its port', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const resolve: Resolver = async () => ['127.0.0.1'];
  const sender = client(t, { resolve });
  const url = `http://Receiver.TEST:${receiver.port}/a%20b/\u20ac?q=%2F&r=a b#frag`;
  assert.deepEqual(await sender.send(attempt(url)), success);
  const [start, host] = receiver.arrivals[0]?.head.split('\r\n') ?? [];
  assert.equal(start, 'POST /a%20b/%E2%82%AC?q=%2F&r=a%20b HTTP/1.1');
  assert.equal(host, `Host: receiver.test:${receiver.port}`);
});

test('closing the client closes idle connections and fails the attempts under way', async (t) => {
  const answering = await rawReceiver(t, answer(ok));
  const silent = await rawReceiver(t, () => {});
  const sender = client(t);
  await sender.send(attempt(`http://127.0.0.1:${answering.port}/`));
  const hanging = sender.send(attempt(`http://127.0.0.1:${silent.port}/`));
  await until(() => silent.arrivals.length === 1);

  sender.close();
  assert.deepEqual(await hanging, { statusCode: null, error: 'ECONNRESET: socket hang up' });
  await until(() => answering.open() === 0 && silent.open() === 0);
  assert.equal(silent.arrivals.length, 1);
});

test('a header name or value with a line break is refused before anything is dialled', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const sender = client(t);
  const cases: Array<[string, string, string]> = [
    ['X-Evil', 'a\r\nX-Injected: 1', 'TypeError: header X-Evil has a character not allowed'],
    ['X-Evil: 1\r\nX-Injected', '1', 'TypeError: a header name has a character not allowed'],
  ];
  for (const [name, value, error] of cases) {
    const request = attempt(`http://127.0.0.1:${receiver.port}/`);
    request.headers[name] = value;
    assert.deepEqual(await sender.send(request), { statusCode: null, error }, name);
  }
  assert.equal(receiver.connections(), 0);
});

test('a target URL that is not http or https is refused before anything is dialled', async (t) => {
  const receiver = await rawReceiver(t, answer(ok));
  const sender = client(t);
  for (const scheme of ['ftp', 'ws', 'gopher']) {
    const result = await sender.send(attempt(`${scheme}://127.0.0.1:${receiver.port}/`));
    const error = `ERR_INVALID_PROTOCOL: Protocol "${scheme}:" not supported`;
    assert.deepEqual(result, { statusCode: null, error });
  }
  assert.equal(receiver.connections(), 0);
});

interface TlsReceiver {
  url: string;
  port: number;
  connections: () => number;
  requests: () => number;
  /** The protocol each connection agreed by ALPN (false: none was offered). */
  protocols: Array<string | false | null>;
}

/**
 * An https receiver with the test certificate (for 127.0.0.1 and localhost), answering 200 with
 * a chunked body. It offers h2 by ALPN, so a client offering h2 would get it.
 */
async function tlsReceiver(t: TestContext): Promise<TlsReceiver> {
  let connections = 0;
  let requests = 0;
  const protocols: Array<string | false | null> = [];
  const credentials = { cert: TEST_CERTIFICATE, key: TEST_PRIVATE_KEY };
  const options = { ...credentials, ALPNProtocols: ['h2', 'http/1.1'] };
  const server = createHttpsServer(options, (request, response) => {
    requests += 1;
    request.resume();
    request.on('end', () => response.end(`${request.method} ${request.url}`));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    connections += 1;
    protocols.push(socket.alpnProtocol);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/hook`,
    port,
    connections: () => connections,
    requests: () => requests,
    protocols,
  };
}

test('an https receiver is reached over TLS, and its connection is kept', async (t) => {
  const receiver = await tlsReceiver(t);
  const sender = client(t, { tls: { ca: TEST_CERTIFICATE } });
  for (let n = 0; n < 2; n += 1) {
    assert.deepEqual(await sender.send(attempt(receiver.url)), success);
  }
  assert.equal(receiver.connections(), 1);
  assert.deepEqual(receiver.protocols, [false]);
});

test('an https receiver reached by a name its certificate does not carry is refused', async (t) => {
  const receiver = await tlsReceiver(t);
  const resolve: Resolver = async () => ['127.0.0.1'];
  const sender = client(t, { resolve, tls: { ca: TEST_CERTIFICATE } });
  const result = await sender.send(attempt(`https://receiver.test:${receiver.port}/hook`));
  assert.equal(result.statusCode, null);
  const mismatch = "Hostname/IP does not match certificate's altnames: Host: receiver.test.";
  assert.ok(String(result.error).startsWith(`ERR_TLS_CERT_ALTNAME_INVALID: ${mismatch}`));
  assert.equal(receiver.requests(), 0);
});

test('a TLS handshake that never completes ends at the attempt timeout', async (t) => {
  const receiver = await rawReceiver(t, () => {});
  const clock = new FakeClock();
  const sender = client(t, { clock, tls: { ca: TEST_CERTIFICATE } });
  const sent = sender.send(attempt(`https://127.0.0.1:${receiver.port}/`));
  await until(() => receiver.connections() === 1);
  clock.advance(10_000);
  assert.deepEqual(await sent, { statusCode: null, error: 'ETIMEDOUT: no answer within 10000 ms' });
  assert.equal(receiver.arrivals.length, 0);
});

test('an https receiver whose certificate is not trusted is never sent the request', async (t) => {
  const receiver = await tlsReceiver(t);
  const sender = client(t);
  const result = await sender.send(attempt(receiver.url));
  const error = 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate';
  assert.deepEqual(result, { statusCode: null, error });
});
