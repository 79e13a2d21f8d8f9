import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { test } from 'node:test';
import { checkLiteralHost, guardedLookup } from '../src/dial-guard.js';
import { compileUrlPolicy } from '../src/target-url.js';

const policy = compileUrlPolicy({
  allowHttp: true,
  allowPrivateAddresses: false,
  allowHosts: [],
  blockNetworks: [],
});
const answers: Record<string, string[]> = {
  'mixed.test': ['10.0.0.1', '93.184.216.34', '2606:4700::1111'],
  'private.test': ['10.0.0.1', 'fd00::1'],
};
const lookup = guardedLookup(policy, async (host) => answers[host] ?? []);

interface LookupAnswer {
  error: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number | undefined;
}

function ask(host: string, options: { all?: boolean; family?: number }): Promise<LookupAnswer> {
  return new Promise((resolve) =>
    lookup(host, options, (error, address, family) => resolve({ error, address, family })),
  );
}

test('the lookup answers every allowed address when Node asks for all of them', async () => {
  const { error, address } = await ask('mixed.test', { all: true });
  assert.equal(error, null);
  assert.deepEqual(address, [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:4700::1111', family: 6 },
  ]);
});

test('the lookup answers one allowed address of the family asked for', async () => {
  assert.deepEqual(await ask('mixed.test', {}), {
    error: null,
    address: '93.184.216.34',
    family: 4,
  });
  assert.deepEqual(await ask('mixed.test', { family: 6 }), {
    error: null,
    address: '2606:4700::1111',
    family: 6,
  });
});

test('the lookup fails when no address is allowed, saying why', async () => {
  const { error } = await ask('private.test', { all: true });
  assert.equal(error?.code, 'EBLOCKED');
  assert.equal(
    error?.message,
    'target address blocked: "private.test" resolves to 10.0.0.1, which is private (10.0.0.0/8); list the host in security.allowHosts to allow it',
  );
  assert.equal((await ask('nothing.test', { all: true })).error?.code, 'EBLOCKED');
});

test('an IP literal is checked before any connection is made', () => {
  assert.throws(
    () => checkLiteralHost(new URL('http://[::ffff:127.0.0.1]:8080/'), policy),
    /"::ffff:7f00:1" IPv4-mapped form of 127\.0\.0\.1, loopback/,
  );
  assert.doesNotThrow(() => checkLiteralHost(new URL('http://93.184.216.34/'), policy));
  assert.doesNotThrow(() => checkLiteralHost(new URL('http://example.org/'), policy));
});
