import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

/** Reading request bodies and writing JSON answers, with the limits every endpoint shares. */

/**
 * Reads the whole body, refusing it with 413 as soon as it is known to exceed `limit`: at once
 * when Content-Length says so, otherwise when the bytes received pass it.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        request.off('data', onData);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
    request.once('error', reject);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    'payload_too_large',
    `request body is larger than the limit of ${limit} bytes`,
  );
}

/** 415 unless the request says its body is JSON (RFC 8259's media type, parameters allowed). */
export function requireJson(request: IncomingMessage): void {
  const header = request.headers['content-type'];
  if (header === 'application/json') return;
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      'unsupported_media_type',
      `Content-Type must be application/json, got ${JSON.stringify(header ?? '(none)')}`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text; refused unless it is valid UTF-8, so the text gives back the same bytes. */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HttpError('invalid_json', 'request body is not valid UTF-8');
  }
}

/**
 * JSON.parse, refusing nesting deeper than `maxDepth`: a body of a few KB nested thousands deep
 * parses, but JSON.stringify of it (when the history shows it) overflows the stack. With
 * `forbidKeys`, objects may not have the keys `__proto__`, `constructor` or `prototype`, which a
 * later merge or copy could turn into prototype pollution.
 */
export function parseJson(
  text: string,
  options: { maxDepth: number; forbidKeys?: boolean },
): unknown {
  // Nesting cannot be deeper than the count of opening brackets, which native indexOf finds
  // fast: the scan character by character is only needed for bodies with many of them.
  if (openingBrackets(text, options.maxDepth) > options.maxDepth) {
    const depth = nestingDepth(text);
    if (depth > options.maxDepth) {
      throw new HttpError(
        'invalid_json',
        `request body is nested ${depth} levels deep; the limit is ${options.maxDepth}`,
      );
    }
  }
  const reviver = options.forbidKeys === true ? refuseDangerousKeys : undefined;
  try {
    return JSON.parse(text, reviver);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(
      'invalid_json',
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

const DANGEROUS_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function refuseDangerousKeys(key: string, value: unknown): unknown {
  if (DANGEROUS_KEYS.has(key)) {
    throw new HttpError('forbidden_key', `request body may not use the key ${JSON.stringify(key)}`);
  }
  return value;
}

/** Opening brackets in `text`, counted up to one more than `limit`. */
function openingBrackets(text: string, limit: number): number {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (
      let at = text.indexOf(bracket);
      at !== -1 && count <= limit;
      at = text.indexOf(bracket, at + 1)
    )
      count += 1;
  }
  return count;
}

/** How deeply the arrays and objects of a JSON text nest, counted without parsing it. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return deepest;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = NO_HEADERS,
): void {
  const body = JSON.stringify(value);
  const length = String(Buffer.byteLength(body));
  if (headers === NO_HEADERS) {
    // The common answer, ingest's above all: a flat list is the cheapest form node:http takes.
    response.writeHead(status, ['Content-Type', 'application/json', 'Content-Length', length]);
  } else {
    const all = { ...headers, 'Content-Type': 'application/json', 'Content-Length': length };
    response.writeHead(status, all);
  }
  response.end(body);
}

export function sendError(response: ServerResponse, error: HttpError): void {
  // An error may come before the body was read: closing is the only safe end for the connection.
  const close = error.status === 413 || error.status === 431 ? { Connection: 'close' } : {};
  sendJson(response, error.status, error, { ...error.headers, ...close });
}

export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
