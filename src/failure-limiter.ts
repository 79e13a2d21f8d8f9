import type { Clock } from './clock.js';
import { HttpError } from './errors.js';

/** Clients remembered at most; the oldest entry makes room, so spoofed addresses cannot grow it. */
const MAX_CLIENTS = 10_000;

/**
 * Slows down guessing: each client (by remote address) has a budget of failed authentications
 * that refills at `perMinute` per minute. A client that has spent it is answered 429 with
 * Retry-After, whatever it sends, until the budget comes back. Requests that authenticate spend
 * nothing, so a well-configured client is never limited.
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

  /** Throws 429 when `client` has no failures left. */
  check(client: string): void {
    const tokens = this.tokens(client);
    if (tokens >= 1) return;
    const waitSeconds = Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
    throw new HttpError('too_many_requests', `too many failed attempts from this address; try again in ${waitSeconds} s`, {
      'Retry-After': String(waitSeconds),
    });
  }

  /** Spends one failure of `client`'s budget. */
  fail(client: string): void {
    const tokens = this.tokens(client) - 1;
    this.clients.delete(client);
    this.clients.set(client, { tokens, at: this.clock.now() });
    if (this.clients.size > MAX_CLIENTS) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
  }

  private tokens(client: string): number {
    const entry = this.clients.get(client);
    if (entry === undefined) return this.perMinute;
    const tokens = Math.min(this.perMinute, entry.tokens + (this.clock.now() - entry.at) * this.perMs);
    if (tokens >= this.perMinute) this.clients.delete(client);
    return tokens;
  }
}
