/**
 * An incremental reader of HTTP/1.1 answers (RFC 9112), as much of one as a delivery needs: the
 * status, the headers that decide how the body is framed and whether the connection can carry
 * another request, Retry-After, and the body's bytes. Pure: fed buffers, it calls back, so every
 * framing case is tested without a socket.
 *
 * Interim answers (1xx other than 101) are skipped, as a client that did not ask for them must.
 * The body ends at Content-Length, at the last chunk of a chunked body, or, without either, when
 * the connection closes. A connection is reusable only after an HTTP/1.1 answer without
 * `Connection: close` whose body had a known end, with nothing after it.
 */

export interface ResponseHead {
  status: number;
  retryAfter: string | undefined;
  /** How long the receiver keeps an idle connection open, from `Keep-Alive: timeout=N`. */
  keepAliveSeconds: number | undefined;
}

export interface ResponseHandlers {
  /** The final answer's status line and headers have arrived. */
  head(head: ResponseHead): void;
  /** Bytes of the body, without chunk framing. */
  body(chunk: Buffer): void;
  /** The body is complete; `reusable` says whether the connection may carry another request. */
  end(reusable: boolean): void;
}

/** Raised for an answer that is not HTTP/1.1 as RFC 9112 frames it. */
export class ResponseParseError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE';

  constructor(reason: string) {
    super(`invalid HTTP answer: ${reason}`);
    this.name = 'ResponseParseError';
  }
}

/** The longest status line and headers taken, as node:http's default `maxHeaderSize`. */
export const MAX_HEAD_BYTES = 16_384;
/** The longest chunk-size line (with its extensions) or trailer section taken. */
const MAX_CHUNK_LINE_BYTES = 4_096;

type Framing =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

type Stage =
  | 'head'
  | 'length'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'close'
  | 'done';

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
/** A field name is a token (RFC 9110, 5.1): no whitespace, in particular none before the colon. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** CR or LF not part of a CRLF, or NUL: what a lenient reader might take as a line break. */
const STRAY_BREAK = /\r|\n|\0/;
const HEX = /^[0-9A-Fa-f]{1,8}$/;
const DIGITS = /^\d{1,15}$/;
const CRLF = Buffer.from('\r\n');

export class ResponseParser {
  private stage: Stage = 'head';
  /**
   * Bytes of a head, chunk-size line or trailer section not yet complete: the first
   * `pendingLength` bytes of `pending`, which grows by doubling, so that a head sent a byte at a
   * time costs time in proportion to its length rather than to its square. None of them starts
   * a delimiter except possibly the last three.
   */
  private pending: Buffer | null = null;
  private pendingLength = 0;
  private chunkRemaining = 0;
  private reusable = false;

  constructor(private readonly handlers: ResponseHandlers) {}

  /** True once the answer is complete (or its body runs until the connection closes). */
  get finished(): boolean {
    return this.stage === 'done';
  }

  /** True while the body is read until the connection closes. */
  get closeDelimited(): boolean {
    return this.stage === 'close';
  }

  /** Takes the next bytes from the connection; throws ResponseParseError on a malformed answer. */
  feed(data: Buffer): void {
    let rest: Buffer = data;
    while (rest.length > 0) {
      switch (this.stage) {
        case 'head':
        case 'chunk-size':
        case 'trailers':
          rest = this.line(rest);
          break;
        case 'length':
          rest = this.lengthBody(rest);
          break;
        case 'chunk-data':
          rest = this.chunkData(rest);
          break;
        case 'chunk-end':
          rest = this.chunkEnd(rest);
          break;
        case 'close':
          this.handlers.body(rest);
          return;
        case 'done':
          // Bytes after a complete answer were not asked for: the connection cannot be trusted.
          throw new ResponseParseError('data after the end of the answer');
      }
    }
  }

  /** The connection closed: ends a close-delimited body, or fails an unfinished answer. */
  close(): void {
    if (this.stage === 'close') {
      this.stage = 'done';
      this.handlers.end(false);
      return;
    }
    if (this.stage !== 'done') {
      throw new ResponseParseError('the connection closed before the answer ended');
    }
  }

  /** Gathers bytes up to a delimiter (a blank line for heads and trailers, CRLF otherwise). */
  private line(data: Buffer): Buffer {
    const searched = this.pendingLength;
    const joined = searched === 0 ? data : this.appendPending(data);
    const delimiter = this.stage === 'chunk-size' ? CRLF : DOUBLE_CRLF;
    // A trailer section may be empty: then it is a single CRLF.
    if (this.stage === 'trailers' && joined.length >= 2 && joined[0] === 13 && joined[1] === 10) {
      this.dropPending();
      this.finish();
      return joined.subarray(2);
    }
    // The bytes searched before cannot hold a delimiter, bar one that began in their last three.
    const from = Math.max(0, searched - (DOUBLE_CRLF.length - 1));
    const end = joined.indexOf(delimiter, from);
    // A head ended by bare LFs would otherwise wait for the timeout to fail (RFC 9112, 2.2).
    const bareEnd = this.stage === 'head' ? joined.indexOf(BARE_LF_END, from) : -1;
    if (bareEnd !== -1 && (end === -1 || bareEnd < end)) {
      throw new ResponseParseError('head with bare LF line ends');
    }
    const limit = this.stage === 'head' ? MAX_HEAD_BYTES : MAX_CHUNK_LINE_BYTES;
    if (end === -1) {
      if (joined.length > limit) {
        throw new ResponseParseError(`${this.stage} longer than ${limit} bytes`);
      }
      if (searched === 0) this.appendPending(data);
      return EMPTY;
    }
    if (end > limit) throw new ResponseParseError(`${this.stage} longer than ${limit} bytes`);

    // What follows the delimiter may still be read from the buffer: a later line gets a new one.
    this.dropPending();
    const text = joined.toString('latin1', 0, end);
    const rest = joined.subarray(end + delimiter.length);
    if (this.stage === 'head') this.head(text);
    else if (this.stage === 'chunk-size') this.chunkSize(text);
    else this.finish();
    return rest;
  }

  /** Adds `data` to the pending bytes and answers all of them. */
  private appendPending(data: Buffer): Buffer {
    const length = this.pendingLength + data.length;
    if (this.pending === null || this.pending.length < length) {
      const grown = Buffer.allocUnsafe(Math.max(length, 2 * (this.pending?.length ?? 0), 256));
      this.pending?.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    data.copy(this.pending, this.pendingLength);
    this.pendingLength = length;
    return this.pending.subarray(0, length);
  }

  private dropPending(): void {
    this.pending = null;
    this.pendingLength = 0;
  }

  private head(text: string): void {
    const lines = text.split('\r\n');
    // A line break other than CRLF would be read differently by other parsers: refused.
    const stray = lines.find((line) => STRAY_BREAK.test(line));
    if (stray !== undefined) {
      const shown = JSON.stringify(stray.slice(0, 64));
      throw new ResponseParseError(`line with a bare CR, LF or NUL ${shown}`);
    }
    const status = STATUS_LINE.exec(lines[0] ?? '');
    if (status === null) {
      throw new ResponseParseError(`status line ${JSON.stringify(lines[0]?.slice(0, 64))}`);
    }
    const code = Number(status[2]);
    const headers = readHeaders(lines);

    // Interim answers (100 Continue, 103 Early Hints) come before the real one and are skipped.
    if (code >= 100 && code <= 199 && code !== 101) return;

    const connection = headers.connection?.toLowerCase() ?? '';
    const keepAlive = status[1] === '1' ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection) : false;
    const framing = bodyFraming(code, headers);
    // A message framed by both Transfer-Encoding and Content-Length may be a smuggling attempt:
    // it is read by Transfer-Encoding, and the connection is not used again (RFC 9112, 6.1).
    // After a 101 the connection speaks another protocol.
    const smuggled =
      headers['transfer-encoding'] !== undefined && headers['content-length'] !== undefined;
    this.reusable = keepAlive && framing.kind !== 'close' && !smuggled && code !== 101;

    const timeout = /(?:^|[\s,])timeout=(\d{1,9})/i.exec(headers['keep-alive'] ?? '')?.[1];
    const keepAliveSeconds = timeout === undefined ? undefined : Number(timeout);
    this.handlers.head({ status: code, retryAfter: headers['retry-after'], keepAliveSeconds });
    if (framing.kind === 'chunked') {
      this.stage = 'chunk-size';
    } else if (framing.kind === 'close') {
      this.stage = 'close';
    } else if (framing.remaining === 0) {
      this.finish();
    } else {
      this.stage = 'length';
      this.chunkRemaining = framing.remaining;
    }
  }

  private lengthBody(data: Buffer): Buffer {
    const taken = Math.min(this.chunkRemaining, data.length);
    this.chunkRemaining -= taken;
    this.handlers.body(data.subarray(0, taken));
    if (this.chunkRemaining === 0) this.finish();
    return data.subarray(taken);
  }

  private chunkSize(text: string): void {
    // chunk-size [ chunk-ext ]: extensions carry nothing a delivery needs.
    const size = text.split(';', 1)[0]?.trim() ?? '';
    if (!HEX.test(size)) {
      throw new ResponseParseError(`chunk size ${JSON.stringify(size.slice(0, 16))}`);
    }
    this.chunkRemaining = Number.parseInt(size, 16);
    this.stage = this.chunkRemaining === 0 ? 'trailers' : 'chunk-data';
  }

  private chunkData(data: Buffer): Buffer {
    const taken = Math.min(this.chunkRemaining, data.length);
    this.chunkRemaining -= taken;
    this.handlers.body(data.subarray(0, taken));
    if (this.chunkRemaining === 0) {
      this.stage = 'chunk-end';
      this.chunkRemaining = 2;
    }
    return data.subarray(taken);
  }

  /** The CRLF after a chunk's data, which may arrive split over two reads. */
  private chunkEnd(data: Buffer): Buffer {
    let index = 0;
    while (index < data.length && this.chunkRemaining > 0) {
      const expected = this.chunkRemaining === 2 ? 13 : 10;
      if (data[index] !== expected) throw new ResponseParseError('chunk data not followed by CRLF');
      this.chunkRemaining -= 1;
      index += 1;
    }
    if (this.chunkRemaining === 0) this.stage = 'chunk-size';
    return data.subarray(index);
  }

  private finish(): void {
    this.stage = 'done';
    this.handlers.end(this.reusable);
  }
}

const EMPTY = Buffer.alloc(0);
const DOUBLE_CRLF = Buffer.from('\r\n\r\n');
const BARE_LF_END = Buffer.from('\n\n');

interface FramingHeaders {
  'content-length'?: string;
  'transfer-encoding'?: string;
  connection?: string;
  'retry-after'?: string;
  'keep-alive'?: string;
}

const WANTED = new Set<string>([
  'content-length',
  'transfer-encoding',
  'connection',
  'retry-after',
  'keep-alive',
]);

/**
 * The headers that frame the answer, Retry-After and Keep-Alive; repeated ones are joined with
 * commas.
 */
function readHeaders(lines: readonly string[]): FramingHeaders {
  const headers: Record<string, string> = {};
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] as string;
    const colon = line.indexOf(':');
    // A folded line (obs-fold) or a line without a name is refused, as RFC 9112, 5.2 allows.
    if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) {
      throw new ResponseParseError(`header line ${JSON.stringify(line.slice(0, 64))}`);
    }
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) {
      throw new ResponseParseError(`header name ${JSON.stringify(name.slice(0, 64))}`);
    }
    if (!WANTED.has(name)) continue;
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/** How the body of an answer with this status and these headers ends (RFC 9112, 6.3). */
function bodyFraming(status: number, headers: FramingHeaders): Framing {
  // The answer to a POST has no body after 204 or 304 (and the 101 the relay never asks for).
  if (status === 204 || status === 304 || status === 101) return { kind: 'length', remaining: 0 };

  const encoding = headers['transfer-encoding'];
  if (encoding !== undefined) {
    const codings = encoding.split(',').map((coding) => coding.trim().toLowerCase());
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }

  const length = headers['content-length'];
  if (length === undefined) return { kind: 'close' };
  // Repeated Content-Length headers must agree (RFC 9110, 8.6). Nearly every answer has one,
  // and it is checked without splitting.
  const comma = length.indexOf(',');
  const only = comma < 0 ? length : length.slice(0, comma).trim();
  const agree = comma < 0 || length.split(',').every((value) => value.trim() === only);
  if (!agree || !DIGITS.test(only)) {
    throw new ResponseParseError(`Content-Length ${JSON.stringify(length.slice(0, 32))}`);
  }
  return { kind: 'length', remaining: Number(only) };
}
