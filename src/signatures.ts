import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Tiled's scheme (tiled/server/webhooks.py, _sign): `sha256=` + hex HMAC-SHA256 of the exact
 * body bytes, keyed with the secret's UTF-8 bytes.
 */
export function tiledSignature(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * True when `header` is Tiled's signature of `body`. The hex is decoded first and compared as
 * two 32-byte digests with timingSafeEqual, so neither length nor content leaks through timing.
 */
export function verifyTiledSignature(secret: string | KeyObject, body: Uint8Array, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header ?? '');
  if (match === null) return false;

  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(match[1] ?? '', 'hex'), expected);
}

/** A secret prepared once as an HMAC key, for one that signs or verifies many bodies. */
export function hmacKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
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
