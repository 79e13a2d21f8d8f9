import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import {
  judgeTargetAddress,
  refusalReason,
  urlHost,
  type Resolver,
  type UrlPolicy,
} from './target-url.js';

/**
 * The address check at connection time. Registration checks a target's host once, but a DNS
 * answer can change afterwards (DNS rebinding), so every connection is checked again on the
 * address actually dialled: host names through a `lookup` that drops forbidden addresses, IP
 * literals (for which Node never calls `lookup`) before the request is made.
 */

/** Raised when no address of a target may be dialled; its message goes into the history. */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';

  constructor(reason: string) {
    super(`target address blocked: ${reason}; list the host in security.allowHosts to allow it`);
    this.name = 'BlockedAddressError';
  }
}

/** Throws BlockedAddressError when the URL's host is an IP literal that may not be dialled. */
export function checkLiteralHost(url: URL, policy: UrlPolicy): void {
  const host = urlHost(url);
  if (isIP(host) === 0) return;
  const verdict = judgeTargetAddress(policy, host, host);
  if (!verdict.allowed) throw new BlockedAddressError(refusalReason(host, host, verdict));
}

/**
 * A `lookup` for http.request that resolves with `resolve`, keeps only the allowed addresses
 * (a mixed answer connects to its allowed part), and fails when none is left. It answers in the
 * shape Node asked for: with `all` (Node 20's happy eyeballs) a list, otherwise one address.
 */
export function guardedLookup(policy: UrlPolicy, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    const host = hostname.replace(/^\[|\]$/g, '');
    resolve(host).then(
      (addresses) => {
        const allowed = addresses.filter(
          (address) => judgeTargetAddress(policy, host, address).allowed,
        );
        if (allowed.length === 0) {
          const first = addresses[0] ?? '';
          const reason =
            first === ''
              ? `${host} has no addresses`
              : refusalReason(host, first, judgeTargetAddress(policy, host, first));
          callback(new BlockedAddressError(reason), '', 4);
          return;
        }
        const family = (address: string): number => (isIP(address) === 6 ? 6 : 4);
        const wanted =
          options.family === 4 || options.family === 6
            ? allowed.filter((a) => family(a) === options.family)
            : allowed;
        const first = wanted[0];
        if (first === undefined) {
          callback(
            Object.assign(new Error(`${host} has no allowed IPv${options.family} address`), {
              code: 'ENOTFOUND',
            }),
            '',
            4,
          );
        } else if (options.all === true) {
          callback(
            null,
            wanted.map((address) => ({ address, family: family(address) })),
          );
        } else {
          callback(null, first, family(first));
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 4),
    );
  };
}
