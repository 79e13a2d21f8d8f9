import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { Clock } from './clock.js';
import { ERROR_DETAIL_CHARS } from './defaults.js';
import { BlockedAddressError, checkLiteralHost, guardedLookup } from './dial-guard.js';
import { judgeTargetAddress, refusalReason, urlHost, type Resolver, type UrlPolicy } from './target-url.js';

/**
 * One attempt is one call of `send`: a POST over node:http(s) with keep-alive agents. Redirects
 * are never followed (node:http does not follow them, and a 3xx is a failure like any other
 * status). Only the start of an error answer is read, for `error_detail`.
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

/** How much of a successful answer is read before the connection is dropped instead. */
const MAX_DRAIN_BYTES = 1_048_576;

/** Target URLs kept parsed; more than any relay has targets, so the map is rarely cleared. */
const MAX_PARSED_URLS = 10_000;

interface ParsedUrl {
  url: URL;
  /** Why the policy refuses the URL's IP address, or null (also for host names). */
  refusal: string | null;
}

const RETRYABLE_ON_REUSED_SOCKET = new Set(['ECONNRESET', 'EPIPE']);

export interface DeliveryClientOptions {
  clock: Clock;
  /** The address policy every connection is held to. */
  policy: UrlPolicy;
  resolve: Resolver;
}

export class DeliveryClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly clock: Clock;
  private readonly resolve: Resolver;
  private policy: UrlPolicy;
  private lookup: LookupFunction;
  private readonly parsedUrls = new Map<string, ParsedUrl>();
  /** Connections found allowed, with the policy and host they were judged for. */
  private readonly allowedPeers = new WeakMap<Socket, { policy: UrlPolicy; host: string }>();

  constructor(options: DeliveryClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.clock = options.clock;
    this.resolve = options.resolve;
    this.policy = options.policy;
    this.lookup = guardedLookup(options.policy, options.resolve);
  }

  /** Holds every later attempt to `policy`, on new and reused connections alike. */
  setPolicy(policy: UrlPolicy): void {
    this.policy = policy;
    this.parsedUrls.clear();
    this.lookup = guardedLookup(policy, this.resolve);
  }

  send(request: AttemptRequest): Promise<AttemptResult> {
    return this.post(request, false);
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
    let refusal: string | null = null;
    try {
      checkLiteralHost(url, this.policy);
    } catch (error) {
      refusal = describeFailure(error as NodeJS.ErrnoException);
    }
    if (this.parsedUrls.size >= MAX_PARSED_URLS) this.parsedUrls.clear();
    parsed = { url, refusal };
    this.parsedUrls.set(text, parsed);
    return parsed;
  }

  /** Closes idle keep-alive connections and any still open. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * Checks the address a new connection reached, as a second line behind `lookup`. A reused
   * keep-alive connection is checked again before the request goes out on it, since the policy
   * may have been tightened by a config reload since the connection was made.
   */
  private verifyPeer(url: URL, socket: Socket): void {
    if (socket.connecting) socket.once('connect', () => this.judgePeer(url, socket));
    else this.judgePeer(url, socket);
  }

  private judgePeer(url: URL, socket: Socket): void {
    const address = socket.remoteAddress;
    if (address === undefined) return;
    const host = urlHost(url);
    // A keep-alive connection carries many attempts: it is judged again only when the policy
    // changed since it was last found allowed (the agent keeps a connection to one host).
    const judged = this.allowedPeers.get(socket);
    if (judged?.policy === this.policy && judged.host === host) return;

    const verdict = judgeTargetAddress(this.policy, host, address);
    if (verdict.allowed) {
      this.allowedPeers.set(socket, { policy: this.policy, host });
      return;
    }
    socket.destroy(new BlockedAddressError(refusalReason(host, address, verdict)));
  }

  private post(request: AttemptRequest, isRetry: boolean): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const { url, refusal } = this.parse(request.url);
      if (refusal !== null) {
        resolve({ statusCode: null, error: refusal });
        return;
      }
      const secure = url.protocol === 'https:';
      const outgoing = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        lookup: this.lookup,
        headers: { ...request.headers, 'Content-Length': String(request.body.length) },
      });
      outgoing.once('socket', (socket) => this.verifyPeer(url, socket));

      let settled = false;
      const settle = (result: AttemptResult): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const cancelTimeout = this.clock.schedule(request.timeoutMs, () => {
        outgoing.destroy(Object.assign(new Error(`no answer within ${request.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      outgoing.once('close', cancelTimeout);

      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // A keep-alive connection the receiver closed just as we reused it: the request never
        // reached it, so one fresh connection is tried at once (this is not a retry).
        if (!settled && !isRetry && outgoing.reusedSocket && RETRYABLE_ON_REUSED_SOCKET.has(error.code ?? '')) {
          settled = true;
          cancelTimeout();
          void this.post(request, true).then(resolve);
          return;
        }
        settle({ statusCode: null, error: describeFailure(error) });
      });

      outgoing.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status <= 299) {
          settle({ statusCode: status, error: null });
          drain(response);
        } else {
          readStart(response, (text) => {
            const retryAfter = response.headers['retry-after'];
            settle({ statusCode: status, retryAfter, error: `HTTP ${status}: ${text}` });
          });
        }
      });

      outgoing.end(request.body);
    });
  }
}

/** Reads a successful answer to its end so the connection can be reused, unless it is huge. */
function drain(response: http.IncomingMessage): void {
  let received = 0;
  response.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_DRAIN_BYTES) response.destroy();
  });
  response.on('error', () => {});
}

/** Hands on the first characters of an answer, then drops the rest with the connection. */
function readStart(response: http.IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString('utf8').slice(0, ERROR_DETAIL_CHARS));
  };

  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
    if (received >= ERROR_DETAIL_CHARS * 4) {
      finish();
      response.destroy();
    }
  });
  response.on('end', finish);
  response.on('close', finish);
  response.on('error', finish);
}

function describeFailure(error: NodeJS.ErrnoException): string {
  const code = error.code ?? error.name;
  return error.message.startsWith(code) ? error.message : `${code}: ${error.message}`;
}
