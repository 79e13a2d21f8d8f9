import type { IncomingMessage } from 'node:http';
import { MAX_JSON_DEPTH } from './defaults.js';
import { HttpError, quote } from './errors.js';
import { decodeUtf8, headerValue, parseJson, requireJson } from './http-io.js';
import { randomId } from './random-ids.js';
import { verifyTiledSignature, type HmacKey } from './signatures.js';
import type { IncomingEvent } from './store.js';

/** The catalog's event id: the relay stores and logs it, so it must be plain. */
const EVENT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks one ingest request as Tiled sends it (CONTRACT.md section 2), in the order that refuses
 * the cheapest problems first and never parses a body whose signature fails.
 */
export function checkIngest(
  request: IncomingMessage,
  body: Buffer,
  secret: HmacKey | null,
): IncomingEvent {
  requireJson(request);

  if (secret !== null) {
    const signature = headerValue(request, 'x-tiled-signature');
    if (signature === undefined) {
      throw new HttpError(
        'invalid_signature',
        'X-Tiled-Signature is missing; the relay requires signed events',
      );
    }
    if (!verifyTiledSignature(secret, body, signature)) {
      throw new HttpError(
        'invalid_signature',
        'X-Tiled-Signature does not match the body for the ingest secret',
      );
    }
  }

  const givenId = headerValue(request, 'x-tiled-event-id');
  if (givenId !== undefined && !EVENT_ID.test(givenId)) {
    throw new HttpError(
      'invalid_event_id',
      `X-Tiled-Event-ID ${quote(givenId)} must be 1-128 letters, digits, "-" or "_"`,
    );
  }

  const text = decodeUtf8(body);
  const event = parseJson(text, { maxDepth: MAX_JSON_DEPTH.event });
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new HttpError('invalid_event', 'the event must be a JSON object');
  }
  const { type, path } = event as { type?: unknown; path?: unknown };
  if (typeof type !== 'string' || type === '') {
    throw new HttpError(
      'invalid_event',
      `the event needs "type", a non-empty string; got ${quote(type)}`,
    );
  }
  if (!Array.isArray(path) || !path.every((element) => typeof element === 'string')) {
    throw new HttpError(
      'invalid_event',
      `the event needs "path", a list of strings; got ${quote(JSON.stringify(path))}`,
    );
  }

  return { id: givenId ?? randomId(), type, path: path as string[], text };
}
