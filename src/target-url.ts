import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  contains,
  judgeAddress,
  parseAddress,
  parseNetwork,
  tryParseNetwork,
  type AddressVerdict,
  type Network,
} from './address-policy.js';
import { HttpError, quote } from './errors.js';

/** The `security` section of the config, compiled for fast checks. */
export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
  /** Host names (lower case, no trailing dot) whose addresses are not checked. */
  allowedHostNames: ReadonlySet<string>;
  /** Networks that are allowed although they are not public. */
  allowedNetworks: readonly Network[];
  /** Networks refused whatever else is allowed. */
  blockedNetworks: readonly Network[];
}

export interface SecuritySettings {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
  allowHosts: readonly string[];
  blockNetworks: readonly string[];
}

/** Resolves a host name to every address it has (A and AAAA). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};

export function compileUrlPolicy(security: SecuritySettings): UrlPolicy {
  const allowedHostNames = new Set<string>();
  const allowedNetworks: Network[] = [];
  for (const entry of security.allowHosts) {
    const network = tryParseNetwork(
      entry.replace(/^\[|\]$/g, ''),
      'allowed by security.allowHosts',
    );
    if (network) allowedNetworks.push(network);
    else allowedHostNames.add(normaliseHostName(entry));
  }
  return {
    allowHttp: security.allowHttp,
    allowPrivateAddresses: security.allowPrivateAddresses,
    allowedHostNames,
    allowedNetworks,
    blockedNetworks: security.blockNetworks.map((cidr) =>
      parseNetwork(cidr.replace(/^\[|\]$/g, ''), 'blocked by security.blockNetworks'),
    ),
  };
}

/**
 * Checks the parts of a target URL that need no network: it parses, it is http(s) (http only
 * when allowed), and it carries no credentials. Answers the normalised URL.
 * Status codes follow Tiled: a scheme that is not allowed is 422.
 */
export function parseTargetUrl(raw: unknown, policy: UrlPolicy): URL {
  if (typeof raw !== 'string' || raw === '') {
    throw new HttpError('invalid_request', `url must be a non-empty string, got ${quote(raw)}`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpError('invalid_request', `url ${quote(raw)} is not a valid absolute URL`);
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new HttpError(
      'url_not_allowed',
      `Webhook URL must use http or https, not ${quote(url.protocol)}.`,
    );
  }
  if (url.protocol === 'http:' && !policy.allowHttp) {
    throw new HttpError(
      'url_not_allowed',
      'Webhook URL must use HTTPS to protect the HMAC signature in transit ' +
        '(set security.allowHttp to allow http URLs).',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new HttpError(
      'url_not_allowed',
      'Webhook URL must not carry credentials (user:password@).',
    );
  }
  if (url.hostname === '') {
    throw new HttpError('invalid_request', `url ${quote(raw)} has no host`);
  }
  return url;
}

/** The host of a URL without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Judges one address a host resolved to. security.blockNetworks refuses whatever else is
 * allowed; then allowPrivateAddresses or a host named in allowHosts allows; then the address must
 * be public or inside a network listed in allowHosts.
 */
export function judgeTargetAddress(
  policy: UrlPolicy,
  host: string,
  address: string,
): AddressVerdict {
  const bytes = parseAddress(address);
  if (bytes === null) return { allowed: false, reason: 'not an IP address' };

  const blocked = policy.blockedNetworks.find((network) => contains(network, bytes));
  if (blocked) return { allowed: false, reason: `${blocked.what} (${blocked.text})` };
  if (policy.allowPrivateAddresses || policy.allowedHostNames.has(normaliseHostName(host))) {
    return { allowed: true };
  }

  const verdict = judgeAddress(address);
  if (verdict.allowed || policy.allowedNetworks.some((network) => contains(network, bytes))) {
    return { allowed: true };
  }
  return verdict;
}

/** Why an address of a host is refused, in the words the API and the history use. */
export function refusalReason(host: string, address: string, verdict: AddressVerdict): string {
  const via = address === host ? '' : ` resolves to ${address}, which is`;
  return `${quote(host)}${via} ${verdict.reason ?? 'not allowed'}`;
}

/**
 * Resolves the URL's host and requires every address to be allowed; answers the addresses.
 * 400 for a forbidden or unresolvable host, as Tiled does.
 */
export async function checkTargetAddress(
  url: URL,
  policy: UrlPolicy,
  resolve: Resolver,
): Promise<string[]> {
  const host = urlHost(url);
  const addresses = isIP(host) !== 0 ? [host] : await resolveOrRefuse(host, resolve);
  for (const address of addresses) {
    const verdict = judgeTargetAddress(policy, host, address);
    if (!verdict.allowed) {
      throw new HttpError(
        'target_forbidden',
        'Webhook URL targets a private or reserved address and cannot be registered: ' +
          `${refusalReason(host, address, verdict)}. List the host in security.allowHosts to allow it.`,
      );
    }
  }
  return addresses;
}

async function resolveOrRefuse(host: string, resolve: Resolver): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new HttpError(
      'target_unresolvable',
      `Webhook URL host ${quote(host)} does not resolve (${code}).`,
    );
  }
  if (addresses.length === 0) {
    throw new HttpError('target_unresolvable', `Webhook URL host ${quote(host)} has no addresses.`);
  }
  return addresses;
}

export function normaliseHostName(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}
