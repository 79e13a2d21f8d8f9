import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a target may be dialled at. "Public" means outside every range in the
 * IANA IPv4 and IPv6 Special-Purpose Address Registries, plus cloud metadata addresses, and
 * IPv6 forms that embed an IPv4 address are judged by the address they embed.
 */

export interface Network {
  bytes: Uint8Array;
  prefix: number;
  /** The network as written, e.g. "10.0.0.0/8". */
  text: string;
  what: string;
}

export interface AddressVerdict {
  allowed: boolean;
  /** Why an address is not public, e.g. "loopback (127.0.0.0/8)"; absent when it is. */
  reason?: string;
}

const IPV4_SPECIAL: Array<[string, string]> = [
  ['0.0.0.0/8', '"this network"'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (CGNAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.31.196.0/24', 'AS112'],
  ['192.52.193.0/24', 'AMT'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'AS112 direct delegation'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['255.255.255.255/32', 'broadcast'],
  // Azure's platform address answers metadata and DNS queries although it looks public.
  ['168.63.129.16/32', 'cloud metadata'],
];

const IPV6_SPECIAL: Array<[string, string]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation'],
  ['100::/64', 'discard-only'],
  ['2001::/23', 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'segment routing (SRv6)'],
  ['fc00::/7', 'unique local (cloud metadata)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
];

// IPv6 forms that carry an IPv4 address: the embedded address is what is really reached.
const MAPPED = parseNetwork('::ffff:0:0/96', 'IPv4-mapped');
const NAT64 = parseNetwork('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = parseNetwork('2002::/16', '6to4');
const GLOBAL_UNICAST = parseNetwork('2000::/3', 'global unicast');

const ipv4Special = IPV4_SPECIAL.map(([cidr, what]) => parseNetwork(cidr, what));
const ipv6Special = IPV6_SPECIAL.map(([cidr, what]) => parseNetwork(cidr, what));

/** Judges one IP address (no brackets, no zone); anything that is not an IP is refused. */
export function judgeAddress(
  address: string,
  extraBlocked: readonly Network[] = [],
): AddressVerdict {
  const bytes = parseAddress(address);
  if (bytes === null) return { allowed: false, reason: 'not an IP address' };
  return bytes.length === 4 ? judgeIPv4(bytes, extraBlocked) : judgeIPv6(bytes, extraBlocked);
}

function judgeIPv4(bytes: Uint8Array, extraBlocked: readonly Network[]): AddressVerdict {
  const hit = [...ipv4Special, ...extraBlocked].find((network) => contains(network, bytes));
  return hit ? refusal(hit) : { allowed: true };
}

function judgeIPv6(bytes: Uint8Array, extraBlocked: readonly Network[]): AddressVerdict {
  for (const wrapper of [MAPPED, NAT64]) {
    if (contains(wrapper, bytes)) return embedded(wrapper, bytes.subarray(12, 16), extraBlocked);
  }
  if (contains(SIX_TO_FOUR, bytes)) {
    return embedded(SIX_TO_FOUR, bytes.subarray(2, 6), extraBlocked);
  }

  const hit = [...ipv6Special, ...extraBlocked].find((network) => contains(network, bytes));
  if (hit) return refusal(hit);
  if (!contains(GLOBAL_UNICAST, bytes)) {
    return { allowed: false, reason: 'outside 2000::/3 (not global unicast)' };
  }
  return { allowed: true };
}

function embedded(
  wrapper: Network,
  ipv4: Uint8Array,
  extraBlocked: readonly Network[],
): AddressVerdict {
  const verdict = judgeIPv4(Uint8Array.from(ipv4), extraBlocked);
  if (verdict.allowed) return verdict;
  return {
    allowed: false,
    reason: `${wrapper.what} form of ${formatIPv4(ipv4)}, ${verdict.reason}`,
  };
}

function refusal(network: Network): AddressVerdict {
  return { allowed: false, reason: `${network.what} (${network.text})` };
}

/** True when `address` is inside `network`; an IPv4 network also matches its IPv4-mapped form. */
export function contains(network: Network, address: Uint8Array): boolean {
  let bytes = address;
  if (network.bytes.length === 4 && address.length === 16 && prefixMatches(MAPPED, address)) {
    bytes = address.subarray(12, 16);
  }
  if (bytes.length !== network.bytes.length) return false;
  return prefixMatches(network, bytes);
}

function prefixMatches(network: Network, bytes: Uint8Array): boolean {
  let bits = network.prefix;
  for (let index = 0; bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[index] ?? 0) & mask) !== ((network.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** Parses "a.b.c.d/n", "x::y/n" or a single address (a full-length prefix). */
export function parseNetwork(cidr: string, what = 'configured network'): Network {
  const network = tryParseNetwork(cidr, what);
  if (network === null) throw new Error(`not a network in CIDR form: ${cidr}`);
  return network;
}

export function tryParseNetwork(cidr: string, what = 'configured network'): Network | null {
  const [address = '', prefixText, ...rest] = cidr.split('/');
  const bytes = parseAddress(address);
  if (bytes === null || rest.length > 0) return null;

  const bits = bytes.length * 8;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  return prefix <= bits ? { bytes, prefix, text: cidr, what } : null;
}

/** Bytes of an IPv4 (4) or IPv6 (16) address in its textual form, or null. */
export function parseAddress(text: string): Uint8Array | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return null;

  // A trailing dotted quad ("::ffff:1.2.3.4") stands for the last two 16-bit groups.
  let groups = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    groups = text.slice(0, text.endsWith(`::${last}`) ? lastColon + 1 : lastColon);
  }

  const toWords = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const [head = '', rest] = groups.split('::');
  const headWords = toWords(head);
  const restWords = rest === undefined ? [] : toWords(rest);
  const zeros = rest === undefined ? 0 : 8 - headWords.length - restWords.length - tail.length;
  const words = [...headWords, ...new Array<number>(zeros).fill(0), ...restWords, ...tail];
  if (words.length !== 8) return null;

  const bytes = new Uint8Array(16);
  words.forEach((word, index) => {
    bytes[index * 2] = word >> 8;
    bytes[index * 2 + 1] = word & 0xff;
  });
  return bytes;
}

function formatIPv4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}
