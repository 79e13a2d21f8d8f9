import type { Clock } from './clock.js';
import { HttpError } from './errors.js';

/** Clients remembered at most; the oldest entry makes room, so spoofed addresses cannot grow it. */
const MAX_CLIENTS = 10_000;

/**
 * Slows down guessing: each client (by remote address) has a budget of failed authentications
 * that refills at `perMinute` per minute. Once a client has spent it, its failing requests are
 * answered 429 with Retry-After until the budget comes back. The credentials are always checked
 * first, and a request that authenticates is served whatever the budget: a catalog or a script
 * behind the same address as a misbehaving client (a reverse proxy, a shared host) is never
 * locked out by it.
 */
export class FailureLimiter {
  private readonly clients = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /**
   * Counts a failed authentication of `client` and answers the error to send: `failure` while
   * the client had budget left, 429 once it has none. A refused client spends nothing more, so
   * its budget refills at the same pace however often it keeps trying.
   */
  refuse(client: string, failure: HttpError): HttpError {
    const tokens = this.tokens(client);
    if (tokens < 1) return this.tooMany(tokens);

    this.clients.delete(client);
    this.clients.set(client, { tokens: tokens - 1, at: this.clock.now() });
    if (this.clients.size > MAX_CLIENTS) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    return failure;
  }

  private tooMany(tokens: number): HttpError {
    const waitSeconds = Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
    const detail = `too many failed attempts from this address; try again in ${waitSeconds} s`;
    return new HttpError('too_many_requests', detail, { 'Retry-After': String(waitSeconds) });
  }

  private tokens(client: string): number {
    const entry = this.clients.get(client);
    if (entry === undefined) return this.perMinute;
    const tokens = Math.min(
      this.perMinute,
      entry.tokens + (this.clock.now() - entry.at) * this.perMs,
    );
    if (tokens >= this.perMinute) this.clients.delete(client);
    return tokens;
  }
}
