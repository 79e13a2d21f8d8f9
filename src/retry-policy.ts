/**
 * What happens after an attempt: success, another try later, or giving up. Pure: the caller
 * passes the clock's time and a random number, so the schedule is testable without waiting.
 */

export interface RetrySettings {
  retryDelaysMs: readonly number[];
  jitterMs: number;
  maxRetryAfterMs: number;
}

export interface AttemptOutcome {
  /** HTTP status of the answer, or null when none came (timeout, refused, TLS error). */
  statusCode: number | null;
  /** Value of the Retry-After header, if the answer had one. */
  retryAfter?: string | undefined;
}

export type Decision =
  | { kind: 'success' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'failed' }
  /** 410 Gone: the receiver says the target is gone for good (Standard Webhooks). */
  | { kind: 'gone' };

/**
 * Decides after attempt number `attempts` (1 for the first). Success is any 2xx; a redirect is a
 * failure like any other status. Retry `n` waits `retryDelaysMs[n-1]` plus up to `jitterMs`, or
 * longer when a 429 or 503 asks for it with Retry-After, but never longer than `maxRetryAfterMs`.
 */
export function decide(
  outcome: AttemptOutcome,
  attempts: number,
  settings: RetrySettings,
  now: number,
  random: number,
): Decision {
  const status = outcome.statusCode;
  if (status !== null && status >= 200 && status <= 299) return { kind: 'success' };
  if (status === 410) return { kind: 'gone' };

  const scheduled = settings.retryDelaysMs[attempts - 1];
  if (scheduled === undefined) return { kind: 'failed' };

  let delayMs = scheduled + Math.floor(random * settings.jitterMs);
  if ((status === 429 || status === 503) && outcome.retryAfter !== undefined) {
    const askedMs = parseRetryAfter(outcome.retryAfter, now);
    if (askedMs !== null) delayMs = Math.max(delayMs, Math.min(askedMs, settings.maxRetryAfterMs));
  }
  return { kind: 'retry', delayMs };
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110, section 10.2.3), in ms from now. */
export function parseRetryAfter(value: string, now: number): number | null {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;

  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[A-Za-z]/.test(text)) return null;
  return Math.max(0, date - now);
}
