import crypto, { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tiled's scheme (tiled/server/webhooks.py, _sign): `sha256=` + hex HMAC-SHA256 of the exact
 * body bytes, keyed with the secret's UTF-8 bytes.
 */
export function tiledSignature(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** `sha256=` and 64 hex digits. */
const TILED_SIGNATURE_LENGTH = 'sha256='.length + 64;

/**
 * True when `header` is Tiled's signature of `body`. The hex is decoded first and compared as
 * two 32-byte digests with timingSafeEqual, so neither length nor content leaks through timing.
 */
export function verifyTiledSignature(secret: string | HmacKey, body: Uint8Array, header: string | undefined): boolean {
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
/** Bodies up to this size are copied behind the inner pad into memory the key keeps. */
const MAX_SCRATCH_BYTES = 65_536;

/**
 * A secret prepared once for the HMAC-SHA256 of many bodies. The HMAC is computed as RFC 2104
 * defines it, from the key's padded blocks and two one-shot SHA-256 calls: under load that costs
 * a fraction of a `createHmac` object per body, whose setup is most of the work for an event of
 * a few hundred bytes.
 */
export class HmacKey {
  private readonly key: Buffer;
  /** The key XOR 0x36, one block, followed by the message being hashed. */
  private inner: Buffer;
  /** The key XOR 0x5c, one block, then room for the inner digest. */
  private readonly outer: Buffer;

  constructor(secret: string | Uint8Array) {
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    this.key = bytes;
    const block = Buffer.alloc(BLOCK);
    (bytes.length > BLOCK ? crypto.createHash('sha256').update(bytes).digest() : bytes).copy(block);
    this.inner = Buffer.alloc(BLOCK + 1024);
    this.outer = Buffer.alloc(BLOCK + 32);
    for (let index = 0; index < BLOCK; index += 1) {
      this.inner[index] = (block[index] as number) ^ 0x36;
      this.outer[index] = (block[index] as number) ^ 0x5c;
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
    this.outer.write(oneShotSha256Hex(this.innerMessage(parts)), BLOCK, 'hex');
    target.write(oneShotSha256Hex(this.outer), 'hex');
    return target;
  }

  /** The inner pad followed by the parts. */
  private innerMessage(parts: readonly Uint8Array[]): Uint8Array {
    let length = BLOCK;
    for (const part of parts) length += part.length;
    if (length > MAX_SCRATCH_BYTES) return Buffer.concat([this.inner.subarray(0, BLOCK), ...parts]);
    if (length > this.inner.length) {
      const larger = Buffer.alloc(Math.min(MAX_SCRATCH_BYTES, Math.max(length, this.inner.length * 2)));
      this.inner.copy(larger, 0, 0, BLOCK);
      this.inner = larger;
    }
    let offset = BLOCK;
    for (const part of parts) {
      this.inner.set(part, offset);
      offset += part.length;
    }
    return this.inner.subarray(0, length);
  }
}

/**
 * The Standard Webhooks key: for `whsec_<base64>` secrets the decoded bytes, otherwise the
 * secret's UTF-8 bytes (standard-webhooks spec v1.0.0, "Signature scheme").
 */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret);
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry of `webhook-signature`. */
export function standardWebhooksSignature(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): string {
  const hmac = createHmac('sha256', standardWebhooksKey(secret));
  hmac.update(`${id}.${timestampSeconds}.`).update(body);
  return `v1,${hmac.digest('base64')}`;
}
