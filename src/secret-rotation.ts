import type { Target } from './state.js';

/**
 * Secret rotation without downtime: when a target's secret changes, the old one keeps signing
 * beside the new one for an overlap, so receivers can switch at their own pace. Standard Webhooks
 * allows several space-separated signatures in `webhook-signature` for exactly this.
 */

export interface SecretFields {
  secret: string | null;
  previousSecret: string | null;
  previousSecretUntil: number | null;
}

/** The target's secrets after it is given `secret`; an unchanged secret changes nothing. */
export function rotateSecret(
  target: Target,
  secret: string | null,
  now: number,
  overlapMs: number,
): SecretFields {
  if (secret === target.secret && !target.secretUnreadable) {
    return {
      secret,
      previousSecret: target.previousSecret,
      previousSecretUntil: target.previousSecretUntil,
    };
  }
  // A secret no configured key opens cannot sign, so there is nothing to overlap with.
  if (target.secret === null || overlapMs === 0) {
    return { secret, previousSecret: null, previousSecretUntil: null };
  }
  return { secret, previousSecret: target.secret, previousSecretUntil: now + overlapMs };
}

/** The secret that signs X-Tiled-Signature first, then the old one while its overlap lasts. */
export function signingSecrets(target: Target, now: number): string[] {
  const secrets = target.secret === null ? [] : [target.secret];
  const until = target.previousSecretUntil;
  if (target.previousSecret !== null && until !== null && now < until) {
    secrets.push(target.previousSecret);
  }
  return secrets;
}
