import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Clock } from './clock.js';
import { ConnectionPool, type Connection, type Exchange, type Origin } from './connection-pool.js';
import { ERROR_DETAIL_CHARS } from './defaults.js';
import { checkLiteralHost, guardedLookup } from './dial-guard.js';
import { ResponseParser, type ResponseHead } from './response-parser.js';
import { urlHost, type Resolver, type UrlPolicy } from './target-url.js';

/**
 * One attempt is one call of `send`: a POST written as one piece to a keep-alive connection of
 * ConnectionPool, its answer read by ResponseParser. Redirects are never followed (a 3xx is a
 * failure like any other status). Only the start of an error answer is read, for
 * `error_detail`. node:http's client did the same job at five times the CPU per attempt, which
 * was most of what a delivery cost the relay.
 */

export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

export interface AttemptResult {
  /** The answer's status, or null when none came. */
  statusCode: number | null;
  retryAfter?: string | undefined;
  /** Why the attempt failed, for the history; null on success. */
  error: string | null;
}

/**
 * How many bytes of an answer are read, framing and interim answers included, before the
 * connection is dropped instead: a receiver cannot keep an attempt busy with a body that never
 * ends, nor with framing that carries next to no body (long chunk extensions, endless 1xx).
 */
const MAX_ANSWER_BYTES = 1_048_576;

/** How much of an error answer is read for `error_detail` before the connection is dropped. */
const MAX_DETAIL_BYTES = ERROR_DETAIL_CHARS * 4;

/** Target URLs kept parsed; more than any relay has targets, so the map is rarely cleared. */
const MAX_PARSED_URLS = 10_000;

/**
 * How a kept connection fails when the receiver had closed it as idle just as the request went
 * out (or the request was written to its closed end): the request may be sent once more.
 */
const RESENDABLE_ON_REUSED_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/** A header name as RFC 9110 allows it: a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value as RFC 9110 allows it: no control characters but tab. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

interface ParsedUrl {
  origin: Origin;
  /** The request line and Host header, the start of every request to this URL. */
  start: string;
  /** Why the policy refuses the URL's IP address, or null (also for host names). */
  refusal: string | null;
}

export interface DeliveryClientOptions {
  clock: Clock;
  /** The address policy every connection is held to. */
  policy: UrlPolicy;
  resolve: Resolver;
  /** Added to every TLS connection's options; tests trust their own certificate with `ca`. */
  tls?: ConnectionOptions;
}

export class DeliveryClient {
  readonly pool: ConnectionPool;
  readonly clock: Clock;
  private readonly resolve: Resolver;
  policy: UrlPolicy;
  lookup: LookupFunction;
  private readonly parsedUrls = new Map<string, ParsedUrl>();

  constructor(options: DeliveryClientOptions) {
    this.pool = new ConnectionPool(options.policy, options.tls ? { tls: options.tls } : {});
    this.clock = options.clock;
    this.resolve = options.resolve;
    this.policy = options.policy;
    this.lookup = guardedLookup(options.policy, options.resolve);
  }

  /** Holds every later attempt to `policy`, on new and reused connections alike. */
  setPolicy(policy: UrlPolicy): void {
    this.policy = policy;
    this.pool.policy = policy;
    this.parsedUrls.clear();
    this.lookup = guardedLookup(policy, this.resolve);
  }

  send(request: AttemptRequest): Promise<AttemptResult> {
    return new Promise((resolve) => {
      let parsed: ParsedUrl;
      let head: string;
      try {
        parsed = this.parse(request.url);
        head = requestHead(parsed.start, request.headers, request.body.length);
      } catch (error) {
        resolve({ statusCode: null, error: describeFailure(error as NodeJS.ErrnoException) });
        return;
      }
      if (parsed.refusal !== null) {
        resolve({ statusCode: null, error: parsed.refusal });
        return;
      }
      const deadline = this.clock.now() + request.timeoutMs;
      new Attempt(this, parsed.origin, head, request, deadline, resolve).start(false);
    });
  }

  /** Closes idle keep-alive connections and any still open. */
  close(): void {
    this.pool.destroyAll();
  }

  /**
   * A target URL parsed, with why the policy refuses its host when that is an IP address. Every
   * attempt needs both, and a target's URL rarely changes, so they are kept until the policy
   * changes (or many URLs have come and gone).
   */
  private parse(text: string): ParsedUrl {
    let parsed = this.parsedUrls.get(text);
    if (parsed !== undefined) return parsed;

    const url = new URL(text);
    // Registration allows nothing else, but a data file is only a file: as node:http did, any
    // other scheme is refused rather than spoken to as if it were http.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      const error = new TypeError(`Protocol ${JSON.stringify(url.protocol)} not supported`);
      throw Object.assign(error, { code: 'ERR_INVALID_PROTOCOL' });
    }
    let refusal: string | null = null;
    try {
      checkLiteralHost(url, this.policy);
    } catch (error) {
      refusal = describeFailure(error as NodeJS.ErrnoException);
    }
    const secure = url.protocol === 'https:';
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const key = `${url.protocol}//${url.host}`;
    const origin: Origin = { key, secure, hostname: urlHost(url), port };
    // The path as node:http sent it: path and query, never the fragment.
    const start = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    if (this.parsedUrls.size >= MAX_PARSED_URLS) this.parsedUrls.clear();
    parsed = { origin, start, refusal };
    this.parsedUrls.set(text, parsed);
    return parsed;
  }
}

/** The request line and headers of one attempt, ending with the blank line before the body. */
function requestHead(start: string, headers: Record<string, string>, length: number): string {
  let head = start;
  for (const name in headers) {
    const value = headers[name] as string;
    // The headers are the relay's own, but a CR or LF in one would split the request.
    if (!HEADER_NAME.test(name)) throw new TypeError('a header name has a character not allowed');
    if (!HEADER_VALUE.test(value)) {
      throw new TypeError(`header ${name} has a character not allowed`);
    }
    head += `${name}: ${value}\r\n`;
  }
  return `${head}Content-Length: ${length}\r\nConnection: keep-alive\r\n\r\n`;
}

/** One request on one connection, and what its answer says. */
class Attempt implements Exchange {
  private connection: Connection | null = null;
  private reused = false;
  private readonly parser: ResponseParser;
  private status: number | null = null;
  private retryAfter: string | undefined;
  private keepAliveSeconds: number | undefined;
  /** Bytes read from the connection, and bytes of the body among them. */
  private received = 0;
  private bodyReceived = 0;
  private detail: Buffer[] = [];
  private answered = false;
  private settled = false;
  private done = false;
  private cancelTimeout: () => void = () => {};

  constructor(
    private readonly client: DeliveryClient,
    private readonly origin: Origin,
    private readonly head: string,
    private readonly request: AttemptRequest,
    /** When the attempt times out (clock milliseconds), a resend on a fresh connection included. */
    private readonly deadline: number,
    private readonly resolve: (result: AttemptResult) => void,
  ) {
    this.parser = new ResponseParser({
      head: (answer) => this.onHead(answer),
      body: (chunk) => this.onBody(chunk),
      end: (reusable) => this.onEnd(reusable),
    });
  }

  /**
   * Sends on an idle connection when there is one, else on a new one. `fresh` forbids reuse: it
   * is set for the one immediate resend after a reused connection closed under the request.
   */
  start(fresh: boolean): void {
    const { client, origin, request } = this;
    const now = client.clock.now();
    const idle = fresh ? undefined : client.pool.take(origin, now);
    this.cancelTimeout = client.clock.schedule(this.deadline - now, () => {
      const error = new Error(`no answer within ${request.timeoutMs} ms`);
      this.connection?.destroy(Object.assign(error, { code: 'ETIMEDOUT' }));
    });
    if (idle !== undefined) {
      this.reused = true;
      this.connection = idle;
      idle.exchange = this;
      this.ready();
      return;
    }
    this.connection = client.pool.connect(origin, client.lookup, this);
  }

  ready(): void {
    const socket = this.connection?.socket;
    if (socket === undefined) return;
    socket.cork();
    socket.write(this.head, 'latin1');
    socket.write(this.request.body);
    socket.uncork();
  }

  receive(chunk: Buffer): void {
    this.answered = true;
    this.received += chunk.length;
    if (this.received > MAX_ANSWER_BYTES) {
      const error = new Error(`the answer ran over ${MAX_ANSWER_BYTES} bytes`);
      this.connection?.destroy(Object.assign(error, { code: 'EMSGSIZE' }));
      return;
    }
    try {
      this.parser.feed(chunk);
    } catch (error) {
      this.connection?.destroy(error as Error);
    }
  }

  closed(error: Error | undefined): void {
    if (!this.done && this.parser.closeDelimited) {
      this.parser.close();
      return;
    }
    this.finish();
    if (this.status !== null) {
      // An error answer cut short still says what it had said so far.
      this.settleWithStatus();
      return;
    }
    if (this.mayResend(error)) {
      this.settled = true;
      const { client, origin, head, request, deadline, resolve } = this;
      new Attempt(client, origin, head, request, deadline, resolve).start(true);
      return;
    }
    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    this.settle({ statusCode: null, error: describeFailure(error ?? hangUp) });
  }

  /**
   * A keep-alive connection the receiver closed just as it was reused, before a byte of an
   * answer: the request most likely never reached it, so it goes once more on a fresh
   * connection within the same deadline (this is not a retry). Not after the attempt timed out
   * or was cut off by the relay: that request may be being processed.
   */
  private mayResend(error: Error | undefined): boolean {
    if (!this.reused || this.answered || this.settled || this.client.pool.closed) return false;
    if (this.client.clock.now() >= this.deadline) return false;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return error === undefined || RESENDABLE_ON_REUSED_CONNECTION.has(code ?? '');
  }

  private onHead(answer: ResponseHead): void {
    this.status = answer.status;
    this.retryAfter = answer.retryAfter;
    this.keepAliveSeconds = answer.keepAliveSeconds;
    // A success is recorded at once; the rest of the answer is only read to reuse the connection.
    if (isSuccess(answer.status)) this.settle({ statusCode: answer.status, error: null });
  }

  private onBody(chunk: Buffer): void {
    // A success is settled already: the rest is read only to reuse the connection.
    if (isSuccess(this.status)) return;
    this.bodyReceived += chunk.length;
    this.detail.push(chunk);
    if (this.bodyReceived >= MAX_DETAIL_BYTES) {
      this.settleWithStatus();
      this.connection?.destroy();
    }
  }

  private onEnd(reusable: boolean): void {
    this.finish();
    this.settleWithStatus();
    const connection = this.connection;
    if (connection === null || connection.exchange !== this) return;
    const { pool, clock } = this.client;
    if (reusable) pool.release(connection, clock.now(), this.keepAliveSeconds);
    else connection.destroy();
  }

  /** The answer is over, read or not: the timer stops. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.cancelTimeout();
  }

  private settleWithStatus(): void {
    if (this.settled) return;
    const status = this.status ?? 0;
    const text = Buffer.concat(this.detail).toString('utf8').slice(0, ERROR_DETAIL_CHARS);
    const error = `HTTP ${status}: ${text}`;
    this.settle({ statusCode: status, retryAfter: this.retryAfter, error });
  }

  private settle(result: AttemptResult): void {
    if (this.settled) return;
    this.settled = true;
    this.detail = [];
    this.resolve(result);
  }
}

function isSuccess(status: number | null): boolean {
  return status !== null && status >= 200 && status <= 299;
}

function describeFailure(error: NodeJS.ErrnoException): string {
  const code = error.code ?? error.name;
  return error.message.startsWith(code) ? error.message : `${code}: ${error.message}`;
}
