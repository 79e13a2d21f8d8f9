import crypto, { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tiled's scheme (tiled/server/webhooks.py, _sign): `sha256=` + hex HMAC-SHA256 of the exact
 * body bytes, keyed with the secret's UTF-8 bytes.
 */
export function tiledSignature(secret: string, body: Uint8Array): string {
  return `sha256=${preparedKey(tiledKeys, secret, utf8Key).digest(body).toString('hex')}`;
}

/** `sha256=` and 64 hex digits. */
const TILED_SIGNATURE_LENGTH = 'sha256='.length + 64;

/**
 * True when `header` is Tiled's signature of `body`. The hex is decoded first and compared as
 * two 32-byte digests with timingSafeEqual, so neither length nor content leaks through timing.
 */
export function verifyTiledSignature(
  secret: string | HmacKey,
  body: Uint8Array,
  header: string | undefined,
): boolean {
  if (header?.length !== TILED_SIGNATURE_LENGTH || !header.startsWith('sha256=')) return false;
  // Decoding hex stops at the first character that is not a hex digit.
  if (givenDigest.write(header.slice('sha256='.length), 'hex') !== 32) return false;

  const key = typeof secret === 'string' ? new HmacKey(secret) : secret;
  return timingSafeEqual(givenDigest, key.digestInto(expectedDigest, body));
}

/** Room for the two digests a verification compares, used by one verification at a time. */
const givenDigest = Buffer.alloc(32);
const expectedDigest = Buffer.alloc(32);

/**
 * SHA-256 in one call, without a Hash object (Node 20.12 and later), as hex: the digest as a
 * Buffer takes a slower path through the encoding checks and costs twice as much.
 */
const oneShotSha256Hex: ((data: Uint8Array) => string) | null =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'hex') : null;

/** SHA-256's block size, in bytes. */
const BLOCK = 64;
/** Messages up to this size are put together in memory kept for it rather than a new buffer. */
const MAX_SCRATCH_BYTES = 65_536;
/** A key's inner pad and the message, then its outer pad and the inner digest: one at a time. */
let innerScratch = Buffer.alloc(BLOCK + 1024);
const outerScratch = Buffer.alloc(BLOCK + 32);

/**
 * A secret prepared once for the HMAC-SHA256 of many bodies. The HMAC is computed as RFC 2104
 * defines it, from the key's padded blocks and two one-shot SHA-256 calls: under load that costs
 * a fraction of a `createHmac` object per body, whose setup is most of the work for an event of
 * a few hundred bytes. A key holds 128 bytes besides its secret.
 */
export class HmacKey {
  private readonly key: Buffer;
  /** The key XOR 0x36 and XOR 0x5c, one block each. */
  private readonly innerPad = Buffer.alloc(BLOCK);
  private readonly outerPad = Buffer.alloc(BLOCK);

  constructor(secret: string | Uint8Array) {
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    this.key = bytes;
    const block = Buffer.alloc(BLOCK);
    (bytes.length > BLOCK ? crypto.createHash('sha256').update(bytes).digest() : bytes).copy(block);
    for (let index = 0; index < BLOCK; index += 1) {
      this.innerPad[index] = (block[index] as number) ^ 0x36;
      this.outerPad[index] = (block[index] as number) ^ 0x5c;
    }
  }

  /** HMAC-SHA256 of the parts, one after the other. */
  digest(...parts: Uint8Array[]): Buffer {
    return this.digestInto(Buffer.allocUnsafe(32), ...parts);
  }

  /** Writes the HMAC-SHA256 of the parts into the 32 bytes of `target`, and answers it. */
  digestInto(target: Buffer, ...parts: Uint8Array[]): Buffer {
    if (oneShotSha256Hex === null) {
      const hmac = createHmac('sha256', this.key);
      for (const part of parts) hmac.update(part);
      hmac.digest().copy(target);
      return target;
    }
    const innerDigest = oneShotSha256Hex(this.innerMessage(parts));
    this.outerPad.copy(outerScratch);
    outerScratch.write(innerDigest, BLOCK, 'hex');
    target.write(oneShotSha256Hex(outerScratch), 'hex');
    return target;
  }

  /** The inner pad followed by the parts. */
  private innerMessage(parts: readonly Uint8Array[]): Uint8Array {
    let length = BLOCK;
    for (const part of parts) length += part.length;
    if (length > MAX_SCRATCH_BYTES) return Buffer.concat([this.innerPad, ...parts]);
    if (length > innerScratch.length) {
      const size = Math.max(length, innerScratch.length * 2);
      innerScratch = Buffer.alloc(Math.min(MAX_SCRATCH_BYTES, size));
    }
    this.innerPad.copy(innerScratch);
    let offset = BLOCK;
    for (const part of parts) {
      innerScratch.set(part, offset);
      offset += part.length;
    }
    return innerScratch.subarray(0, length);
  }
}

/**
 * The Standard Webhooks key: for `whsec_<base64>` secrets the decoded bytes, otherwise the
 * secret's UTF-8 bytes (standard-webhooks spec v1.0.0, "Signature scheme").
 */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret);
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry of `webhook-signature`. */
export function standardWebhooksSignature(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): string {
  const key = preparedKey(standardWebhooksKeys, secret, standardWebhooksKey);
  return `v1,${key.digest(Buffer.from(`${id}.${timestampSeconds}.`), body).toString('base64')}`;
}

/**
 * Keys prepared for the secrets deliveries are signed with, by secret, so that an attempt does
 * not decode and pad its target's secret again. More secrets than any relay has targets clear
 * the map, which then fills again with the secrets still in use.
 */
const tiledKeys = new Map<string, HmacKey>();
const standardWebhooksKeys = new Map<string, HmacKey>();
const MAX_PREPARED_KEYS = 10_000;
const utf8Key = (secret: string): string => secret;

function preparedKey(
  keys: Map<string, HmacKey>,
  secret: string,
  bytesOf: (secret: string) => string | Uint8Array,
): HmacKey {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= MAX_PREPARED_KEYS) keys.clear();
    key = new HmacKey(bytesOf(secret));
    keys.set(secret, key);
  }
  return key;
}
