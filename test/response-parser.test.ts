import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HEAD_BYTES, ResponseParser, type ResponseHead } from '../src/response-parser.js';

interface Reading {
  heads: ResponseHead[];
  body: string;
  /** Undefined until the answer ended; then whether the connection may be reused. */
  reusable: boolean | undefined;
}

/** Feeds `parts` one by one and answers what the parser reported. */
function read(parts: ReadonlyArray<string | Buffer>, closeAfter = false): Reading {
  const reading: Reading = { heads: [], body: '', reusable: undefined };
  const parser = new ResponseParser({
    head: (head) => reading.heads.push(head),
    body: (chunk) => (reading.body += chunk.toString('latin1')),
    end: (reusable) => (reading.reusable = reusable),
  });
  for (const part of parts) {
    parser.feed(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  }
  if (closeAfter) parser.close();
  return reading;
}

/** Every way of cutting `text` in two, to show that reads may split an answer anywhere. */
function everySplit(text: string): string[][] {
  const splits: string[][] = [];
  for (let cut = 1; cut < text.length; cut += 1) splits.push([text.slice(0, cut), text.slice(cut)]);
  return splits;
}

const head = (status: number, retryAfter?: string, keepAliveSeconds?: number): ResponseHead => ({
  status,
  retryAfter,
  keepAliveSeconds,
});

test('a Content-Length body ends at its length and leaves the connection reusable', () => {
  const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello';
  for (const parts of [[answer], ...everySplit(answer)]) {
    assert.deepEqual(read(parts), { heads: [head(200)], body: 'hello', reusable: true });
  }
});

test('a chunked body is read without its framing, split anywhere, trailers included', () => {
  const answer =
    'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '4;note=x\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n';
  for (const parts of [[answer], ...everySplit(answer)]) {
    const body = 'Wikipedia in \r\n\r\nchunks.';
    assert.deepEqual(read(parts), { heads: [head(500)], body, reusable: true });
  }
});

test('a chunked body without trailers ends at the blank line after the last chunk', () => {
  const answer = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n';
  for (const parts of [[answer], ...everySplit(answer)]) {
    assert.deepEqual(read(parts), { heads: [head(200)], body: 'ok', reusable: true });
  }
});

test('a body without a length runs until the connection closes, which it does not survive', () => {
  const answer = 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n\r\nbusy, ';
  const open = read([answer, 'come back later']);
  const body = 'busy, come back later';
  assert.deepEqual(open, { heads: [head(503, '120')], body, reusable: undefined });
  const closed = read([answer, 'come back later'], true);
  assert.deepEqual(closed, { heads: [head(503, '120')], body, reusable: false });
});

test('a transfer coding other than chunked last is read until the connection closes', () => {
  const reading = read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc'], true);
  assert.deepEqual(reading, { heads: [head(200)], body: 'abc', reusable: false });
});

test('interim 1xx answers are skipped, and the final answer counts', () => {
  const answer =
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\n\r\n';
  for (const parts of [[answer], ...everySplit(answer)]) {
    assert.deepEqual(read(parts), { heads: [head(204)], body: '', reusable: true });
  }
});

test('204 and 304 have no body whatever their headers say', () => {
  assert.deepEqual(read(['HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n']), {
    heads: [head(304)],
    body: '',
    reusable: true,
  });
  assert.deepEqual(read(['HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n']), {
    heads: [head(204)],
    body: '',
    reusable: true,
  });
});

test('a 101 ends the answer and the connection with it', () => {
  assert.deepEqual(read(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']), {
    heads: [head(101)],
    body: '',
    reusable: false,
  });
});

test('Connection: close, or HTTP/1.0, means the connection is not reused', () => {
  const start = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n';
  const close = read([`${start}Connection: keep-alive, Close\r\n\r\n`]);
  assert.equal(close.reusable, false);
  const old = read(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n']);
  assert.equal(old.reusable, false);
  const similar = read([`${start}Connection: closed-ish\r\n\r\n`]);
  assert.equal(similar.reusable, true);
});

test('an answer framed by Transfer-Encoding and Content-Length is read as chunked, once', () => {
  const answer =
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '2\r\nok\r\n0\r\n\r\n';
  assert.deepEqual(read([answer]), { heads: [head(200)], body: 'ok', reusable: false });
});

test('Retry-After and the Keep-Alive timeout are read; header names ignore case', () => {
  const reading = read([
    'HTTP/1.1 429 Too Many\r\nretry-after: 7\r\nKEEP-ALIVE: timeout=5, max=100\r\n',
    'content-length: 0\r\n\r\n',
  ]);
  assert.deepEqual(reading.heads, [head(429, '7', 5)]);
});

test('repeated Content-Length headers must agree', () => {
  const agreeing = read(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok']);
  assert.deepEqual(agreeing, { heads: [head(200)], body: 'ok', reusable: true });
  const disagreeing = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok';
  assert.throws(() => read([disagreeing]), {
    name: 'ResponseParseError',
    message: 'invalid HTTP answer: Content-Length "2, 3"',
  });
});

test('malformed answers are refused with what was wrong', () => {
  const stray = 'line with a bare CR, LF or NUL';
  const refusals: Array<[string, string]> = [
    ['HTTP/2 200\r\n\r\n', 'status line "HTTP/2 200"'],
    ['hello\r\n\r\n', 'status line "hello"'],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'Content-Length "-1"'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n', 'Content-Length "1e3"'],
    ['HTTP/1.1 200 OK\r\nNo-Colon\r\nContent-Length: 0\r\n\r\n', 'header line "No-Colon"'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n folded\r\nContent-Length: 0\r\n\r\n', 'header line " folded"'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'chunk size "zz"'],
    [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n',
      'chunk data not followed by CRLF',
    ],
    [
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK',
      'data after the end of the answer',
    ],
    ['HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello', 'header name "content-length "'],
    ['HTTP/1.1 200 OK\r\nX: a\nContent-Length: 0\r\n\r\n', `${stray} "X: a\\nContent-Length: 0"`],
    ['HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n', `${stray} "X: a\\rb"`],
    ['HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n', `${stray} "X: a\\u0000b"`],
    ['HTTP/1.1 200 OK\nContent-Length: 2\n\nok', 'head with bare LF line ends'],
  ];
  for (const [answer, reason] of refusals) {
    const expected = { name: 'ResponseParseError', message: `invalid HTTP answer: ${reason}` };
    assert.throws(() => read([answer]), expected, answer);
  }
});

test('a head longer than node:http allows is refused before it ends', () => {
  const long = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`;
  assert.throws(() => read([long.slice(0, 9000), long.slice(9000)]), {
    message: `invalid HTTP answer: head longer than ${MAX_HEAD_BYTES} bytes`,
  });
});

test('a connection that closes before the answer ends fails it', () => {
  for (const partial of ['', 'HTTP/1.1 200', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel']) {
    assert.throws(() => read([partial], true), {
      message: 'invalid HTTP answer: the connection closed before the answer ended',
    });
  }
});
