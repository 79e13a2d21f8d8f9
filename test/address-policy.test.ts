import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeAddress, parseAddress } from '../src/address-policy.js';

test('IPv6 text forms parse to the same bytes', () => {
  const hex = (text: string) => Buffer.from(parseAddress(text) ?? []).toString('hex');
  assert.equal(hex('::1'), '00000000000000000000000000000001');
  assert.equal(hex('::ffff:127.0.0.1'), hex('::ffff:7f00:1'));
  assert.equal(hex('64:ff9b::169.254.169.254'), hex('64:ff9b::a9fe:a9fe'));
  assert.equal(hex('2001:db8:0:0:0:0:0:1'), hex('2001:db8::1'));
  assert.equal(hex('1::'), '00010000000000000000000000000000');
  assert.equal(parseAddress('not-an-ip'), null);
  assert.equal(parseAddress('fe80::1%eth0'), null);
});

test('non-public addresses are refused with the range that covers them', () => {
  const refused: Array<[string, RegExp]> = [
    ['0.0.0.0', /"this network"/],
    ['10.1.2.3', /private \(10\.0\.0\.0\/8\)/],
    ['100.100.100.200', /CGNAT/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['169.254.169.254', /link-local/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.0.0.192', /IETF protocol assignments/],
    ['192.0.2.1', /documentation/],
    ['192.88.99.1', /6to4 relay/],
    ['192.168.1.1', /private/],
    ['198.18.0.1', /benchmarking/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['224.0.0.1', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /reserved|broadcast/],
    ['168.63.129.16', /cloud metadata/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped form of 127\.0\.0\.1, loopback/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped form of 169\.254\.169\.254/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['64:ff9b::a9fe:a9fe', /NAT64 form of 169\.254\.169\.254/],
    ['64:ff9b:1::1', /local-use/],
    ['2002:a9fe:a9fe::', /6to4 form of 169\.254\.169\.254/],
    ['2001::1', /IETF protocol assignments/],
    ['2001:db8::1', /documentation/],
    ['fc00::1', /unique local/],
    ['fd00:ec2::254', /unique local/],
    ['fe80::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['100::1', /discard-only/],
    ['4000::1', /not global unicast/],
  ];
  for (const [address, reason] of refused) {
    const verdict = judgeAddress(address);
    assert.equal(verdict.allowed, false, address);
    assert.match(verdict.reason ?? '', reason, address);
  }
});

test('public addresses are allowed, including embedded public IPv4', () => {
  for (const address of ['93.184.216.34', '1.1.1.1', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '2a00:1450::1', '::ffff:1.1.1.1', '64:ff9b::101:101', '2002:101:101::1']) {
    assert.deepEqual(judgeAddress(address), { allowed: true }, address);
  }
});
