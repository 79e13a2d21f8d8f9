import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordingSender, startTestRelay } from './helpers/relay-harness.js';

/** Names the fake resolver knows; anything else does not resolve. */
const dns: Record<string, string[]> = {
  localhost: ['127.0.0.1', '::1'],
  'metadata.google.internal': ['169.254.169.254'],
  'rebind.example.org': ['93.184.216.34', '10.0.0.5'],
  'ula.example.org': ['fd12:3456::1'],
  'nip.example.org': ['127.0.0.1'],
  'example.org': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
};
const resolve = async (host: string): Promise<string[]> => {
  const answer = dns[host.replace(/\.$/, '')];
  if (answer === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return answer;
};

// Every form Node's URL parser turns into a forbidden address, and names that resolve to one.
const forbidden = [
  'https://127.0.0.1/',
  'https://127.0.0.53/',
  'https://0x7f000001/',
  'https://2130706433/',
  'https://0177.0.0.1/',
  'https://127.1/',
  'https://%31%32%37.0.0.1/',
  'https://0/',
  'https://0.0.0.0/',
  'https://[::]/',
  'https://[::1]/',
  'https://[0:0:0:0:0:0:0:1]/',
  'https://[::ffff:127.0.0.1]/',
  'https://[::ffff:7f00:1]/',
  'https://[::ffff:a9fe:a9fe]/',
  'https://[::127.0.0.1]/',
  'https://[64:ff9b::a9fe:a9fe]/',
  'https://[64:ff9b::10.0.0.1]/',
  'https://[2002:a9fe:a9fe::]/',
  'https://[2002:c0a8:101::1]/',
  'https://[2001::1]/',
  'https://[2001:db8::1]/',
  'https://[fc00::1]/',
  'https://[fd00:ec2::254]/',
  'https://[fe80::1]/',
  'https://[fec0::1]/',
  'https://[ff02::1]/',
  'https://[100::1]/',
  'https://169.254.169.254/latest/meta-data/',
  'https://169.254.170.2/',
  'https://100.100.100.200/',
  'https://192.0.0.192/',
  'https://168.63.129.16/',
  'https://10.0.0.1/',
  'https://172.16.5.5/',
  'https://172.31.255.255/',
  'https://192.168.1.1/',
  'https://100.64.0.1/',
  'https://192.0.2.1/',
  'https://198.51.100.1/',
  'https://203.0.113.1/',
  'https://198.18.0.1/',
  'https://192.88.99.1/',
  'https://224.0.0.1/',
  'https://239.255.255.250/',
  'https://240.0.0.1/',
  'https://255.255.255.255/',
  'https://localhost/',
  'https://localhost./',
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://rebind.example.org/',
  'https://ula.example.org/',
  'https://nip.example.org/',
];

test(`${forbidden.length} URLs that reach a non-public address are refused with 400 and nothing is stored`, async (t) => {
  const relay = await startTestRelay(t, {
    resolve,
    sender: recordingSender(),
    config: { security: { allowHosts: [] } },
  });
  for (const url of forbidden) {
    const response = await relay.api('POST', '/api/v1/webhooks/target/', { url });
    const answer = (await response.json()) as { code: string; detail: string };
    assert.equal(response.status, 400, `${url}: ${answer.detail}`);
    assert.equal(answer.code, 'target_forbidden', url);
    assert.match(
      answer.detail,
      /^Webhook URL targets a private or reserved address and cannot be registered: .+\. List the host in security\.allowHosts to allow it\.$/,
      url,
    );
  }
  assert.deepEqual(await (await relay.api('GET', '/api/v1/webhooks/target/')).json(), []);
});

test('schemes, credentials and names that do not resolve are refused as well', async (t) => {
  const relay = await startTestRelay(t, {
    resolve,
    sender: recordingSender(),
    config: { security: { allowHosts: [], allowHttp: false } },
  });
  const cases: Array<[string, number, string]> = [
    ['file:///etc/passwd', 422, 'url_not_allowed'],
    ['gopher://example.org/', 422, 'url_not_allowed'],
    ['data:text/plain,hello', 422, 'url_not_allowed'],
    ['ftp://example.org/', 422, 'url_not_allowed'],
    ['http://example.org/', 422, 'url_not_allowed'],
    ['https://user:secret@example.org/', 422, 'url_not_allowed'],
    ['https://intranet/', 400, 'target_unresolvable'],
    ['https://no-such-host.example.org/', 400, 'target_unresolvable'],
  ];
  for (const [url, status, code] of cases) {
    const response = await relay.api('POST', '/api/v1/webhooks/target/', { url });
    assert.equal(response.status, status, url);
    assert.equal(((await response.json()) as { code: string }).code, code, url);
  }
});

test('public addresses and names register', async (t) => {
  const relay = await startTestRelay(t, {
    resolve,
    sender: recordingSender(),
    config: { security: { allowHosts: [] } },
  });
  for (const url of [
    'https://1.1.1.1/',
    'https://[2606:4700::1111]/',
    'https://93.184.216.34/hook',
    'https://example.org/hook',
    'https://[::ffff:8.8.8.8]/',
    'https://[64:ff9b::808:808]/',
  ]) {
    const response = await relay.api('POST', '/api/v1/webhooks/target/', { url });
    assert.equal(response.status, 200, `${url}: ${await response.clone().text()}`);
  }
});

test('security.blockNetworks refuses a network even when the host is allowed otherwise', async (t) => {
  const relay = await startTestRelay(t, {
    resolve,
    sender: recordingSender(),
    config: {
      security: {
        allowPrivateAddresses: true,
        allowHosts: ['localhost'],
        blockNetworks: ['10.0.0.0/8', '93.184.216.0/24'],
      },
    },
  });
  for (const url of ['https://10.1.2.3/', 'https://example.org/', 'https://[::ffff:10.9.9.9]/']) {
    const response = await relay.api('POST', '/api/v1/webhooks/target/', { url });
    const answer = (await response.json()) as { detail: string };
    assert.equal(response.status, 400, url);
    assert.match(answer.detail, /blocked by security\.blockNetworks/, url);
  }
  assert.equal(
    (await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://192.168.1.1/' })).status,
    200,
  );
  assert.equal(
    (await relay.api('POST', '/api/v1/webhooks/target/', { url: 'https://localhost/' })).status,
    200,
  );
});
