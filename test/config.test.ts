import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../src/config.js';
import { DEFAULTS } from '../src/defaults.js';
import { runCli, spawnRelay } from './helpers/child-relay.js';

const minimal = { apiKeys: [{ key: 'k'.repeat(20), scopes: ['read:webhooks'] }] };

function problemsOf(config: unknown, environment: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(JSON.stringify(config), '/etc/hookrelay/config.json', environment);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((problem) => problem.key);
  }
  assert.fail('expected the config to be refused');
}

test('missing keys take their defaults', () => {
  const config = parseConfig('{}', '/etc/hookrelay/config.json', {});
  assert.deepEqual({ ...config, dataFile: DEFAULTS.dataFile }, DEFAULTS);
});

test('a relative dataFile is taken from the config file folder', () => {
  const config = parseConfig('{"dataFile": "state/relay.jsonl"}', '/etc/hookrelay/config.json', {});
  assert.equal(config.dataFile, '/etc/hookrelay/state/relay.jsonl');
  const absolute = parseConfig('{"dataFile": "/var/lib/relay.jsonl"}', '/etc/hookrelay/config.json', {});
  assert.equal(absolute.dataFile, '/var/lib/relay.jsonl');
});

test('"${NAME}" is replaced by the environment variable, inside strings too', () => {
  const config = parseConfig(
    JSON.stringify({
      ...minimal,
      ingest: { secret: '${INGEST_SECRET}' },
      targets: [{ name: 'lab', url: 'https://${TARGET_HOST}/hook' }],
    }),
    '/etc/hookrelay/config.json',
    { INGEST_SECRET: 's3cret', TARGET_HOST: 'example.org' },
  );
  assert.equal(config.ingest.secret, 's3cret');
  assert.equal(config.targets[0]?.url, 'https://example.org/hook');
});

test('a substituted number or boolean is read as one', () => {
  const config = parseConfig(
    '{"listen": {"port": "${PORT}"}, "security": {"allowHttp": "${ALLOW_HTTP}"}}',
    '/etc/hookrelay/config.json',
    { PORT: '0', ALLOW_HTTP: 'true' },
  );
  assert.equal(config.listen.port, 0);
  assert.equal(config.security.allowHttp, true);
  assert.deepEqual(problemsOf({ listen: { port: '8080' } }), ['listen.port']);
});

test('a missing environment variable is a problem that names it', () => {
  try {
    parseConfig('{"ingest": {"secret": "${NOT_SET_ANYWHERE}"}}', '/etc/hookrelay/config.json', {});
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /ingest\.secret: expected the environment variable NOT_SET_ANYWHERE to be set/);
  }
});

test('unknown keys are refused at every level, with their full key', () => {
  const config = { listen: { hots: 'x' }, extra: 1, targets: [{ name: 'a', url: 'https://a.org', secrte: 'x' }] };
  assert.deepEqual(problemsOf(config), ['extra', 'listen.hots', 'targets[0].secrte']);
});

test('every problem is listed at once, each with the key, the value and what is expected', () => {
  try {
    parseConfig(
      JSON.stringify({
        listen: { port: 70000 },
        delivery: { timeoutMs: -5, retryDelaysMs: [1000, 'soon'] },
        apiKeys: [{ key: 'short', scopes: ['admin'] }],
        history: { retentionDays: 0 },
      }),
      'relay.json',
      {},
    );
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.message.split('\n'), [
      'relay.json has 6 problems:',
      '  - listen.port: expected an integer from 0 to 65535, got 70000',
      '  - apiKeys[0].key: expected a key of at least 16 characters, got a value that is not shown (5 characters)',
      '  - apiKeys[0].scopes[0]: expected one of "read:webhooks", "write:webhooks", ' +
        'got a value that is not shown (5 characters)',
      '  - delivery.timeoutMs: expected an integer from 1 to 600000, got -5',
      '  - delivery.retryDelaysMs[1]: expected an integer from 0 to 2592000000, got "soon"',
      '  - history.retentionDays: expected a number above 0 and at most 36500, got 0',
    ]);
  }
});

/** Secrets written where the config loader finds fault: in the wrong place, case or type. */
const MISPLACED = {
  apiKeyTypo: 'my-super-secret-api-key-123456',
  secretKeysCase: 'lowercase-secret-key-0001',
  ingestCase: 'hunter2-ingest',
  secretKeysString: 'my-only-secret-key-as-a-string',
  urlPassword: 'p4ssw0rd',
  targetCase: 'target-secret-in-capitals',
  ingestString: 'ingest-section-as-a-string',
  apiKeysString: 'api-keys-list-as-a-string',
  badUrlPassword: 'pass/word-of-a-bad-url',
  targetString: 'a-target-written-as-a-string',
  unquoted: 'unquoted-secret-value',
};

const misplacedConfigs = [
  {
    apiKeys: [
      { key: 'an-api-key-long-enough', scopes: ['read:webhooks'] },
      { kye: MISPLACED.apiKeyTypo, scopes: ['read:webhooks'] },
    ],
    secretkeys: [MISPLACED.secretKeysCase],
    secretKeys: MISPLACED.secretKeysString,
    ingest: { Secret: MISPLACED.ingestCase },
    targets: [
      { name: 'lab', url: `https://u:${MISPLACED.urlPassword}@example.org/` },
      { name: 'typo', url: 'https://example.org/', SECRET: MISPLACED.targetCase },
    ],
  },
  {
    ingest: MISPLACED.ingestString,
    apiKeys: MISPLACED.apiKeysString,
    targets: [
      { name: 'bad', url: `https://u:${MISPLACED.badUrlPassword}@example.org/` },
      MISPLACED.targetString,
    ],
  },
];

test('secrets in a config problem are never shown', () => {
  const config = {
    apiKeys: [
      { key: 'an-api-key-long-enough', scopes: ['read:webhooks'] },
      { key: 'an-api-key-long-enough', scopes: ['read:webhooks'] },
    ],
    secretKeys: ['tooshort'],
    ingest: { secret: 42 },
  };
  try {
    parseConfig(JSON.stringify(config), 'relay.json', {});
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 3);
    for (const secret of ['an-api-key-long-enough', 'tooshort', '42']) assert.ok(!error.message.includes(secret), secret);
  }
});

test('a secret under a misspelled key, in the wrong type or in a URL is not shown either', () => {
  const messages = misplacedConfigs.map((config) => {
    try {
      parseConfig(JSON.stringify(config), 'relay.json', {});
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message.split('\n');
    }
    return assert.fail('expected a ConfigError');
  });
  const known =
    'listen, dataFile, apiKeys, secretKeys, ingest, delivery, security, history, compaction, targets';
  assert.deepEqual(messages, [
    [
      'relay.json has 7 problems:',
      `  - secretkeys: expected no such key (known keys here: ${known}), got a value that is not shown (a list of 1 item)`,
      '  - apiKeys[1].kye: expected no such key (known keys here: key, scopes), got a value that is not shown (30 characters)',
      '  - apiKeys[1].key: expected a value (this key is required), it is missing',
      '  - secretKeys: expected a list of at most 100 items, got a value that is not shown (30 characters)',
      '  - ingest.Secret: expected no such key (known keys here: secret, maxBodyBytes), got a value that is not shown (14 characters)',
      '  - targets[0].url: expected Webhook URL must not carry credentials (user:password@), got "https://…@example.org/"',
      '  - targets[1].SECRET: expected no such key (known keys here: name, path, url, secret, events, ordered), ' +
        'got a value that is not shown (25 characters)',
    ],
    [
      'relay.json has 4 problems:',
      '  - apiKeys: expected a list of at most 1000 items, got a value that is not shown (25 characters)',
      '  - ingest: expected an object, got a value that is not shown (26 characters)',
      '  - targets[0].url: expected url "https://…@example.org/" is not a valid absolute URL, got "https://…@example.org/"',
      '  - targets[1]: expected an object, got a value that is not shown (28 characters)',
    ],
  ]);
});

test('check and a refused start show none of those secrets', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'hookrelay-config-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const unquoted = `{"ingest": {"secret": ${MISPLACED.unquoted}}}`;
  const texts = [...misplacedConfigs.map((config) => JSON.stringify(config)), unquoted];
  const secrets = Object.values(MISPLACED);

  for (const [index, text] of texts.entries()) {
    const file = join(folder, `relay-${index}.json`);
    writeFileSync(file, text);
    const checked = runCli(['check', '--config', file]);
    assert.equal(checked.status, 1);
    assert.match(checked.stderr, /has \d+ problems?:/);
    const shown = secrets.filter((secret) => checked.stderr.includes(secret));
    assert.deepEqual(shown, [], `check of config ${index}`);

    const served = spawnRelay(t, ['--config', file]);
    assert.equal(await served.exited, 1);
    const problems = served.logs.filter((entry) => entry.msg === 'config problem');
    assert.equal(problems.length, checked.stderr.trim().split('\n').length - 1);
    const logged = JSON.stringify(served.logs);
    const leaked = secrets.filter((secret) => logged.includes(secret));
    assert.deepEqual(leaked, [], `serve log of config ${index}`);
  }
});

test('a config that is not JSON does not quote the text around the mistake', () => {
  const text = `{"ingest": {"secret": ${MISPLACED.unquoted}}}`;
  assert.throws(() => parseConfig(text, 'relay.json', {}), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(
      error.message,
      'relay.json has 1 problem:\n  - (file): expected valid JSON, got "an unexpected token ' +
        '(the text around it is not shown, as it may hold a secret)"',
    );
    return true;
  });
});

test('a config that is not JSON says so', () => {
  assert.throws(() => parseConfig('{"listen": ', 'relay.json', {}), /\(file\): expected valid JSON/);
});

test('a file that cannot be read is named', () => {
  assert.throws(() => loadConfig('/no/such/hookrelay.json', {}), /\(file\): expected a readable file \(ENOENT\)/);
});

test('config targets: events [] means all events and the path is normalised', () => {
  const config = parseConfig(
    JSON.stringify({ targets: [{ name: 'lab', path: '/raw//scans/', url: 'https://example.org/hook', events: [] }] }),
    'relay.json',
    {},
  );
  assert.deepEqual(config.targets, [
    { name: 'lab', path: 'raw/scans', url: 'https://example.org/hook', secret: null, events: null, ordered: false },
  ]);
});

test('config targets are checked against the security settings', () => {
  const targets = [
    { name: 'plain', url: 'http://example.org/hook' },
    { name: 'loopback', url: 'https://127.0.0.1/hook' },
    { name: 'mapped', url: 'https://[::ffff:10.0.0.1]/hook' },
    { name: 'creds', url: 'https://user:pw@example.org/hook' },
    { name: 'ftp', url: 'ftp://example.org/hook' },
    { name: 'typo', url: 'https://example.org/hook', events: ['stream-close'] },
    { name: 'plain', url: 'https://example.org/hook' },
    { name: 'ok', url: 'https://example.org/hook' },
  ];
  assert.deepEqual(problemsOf({ targets }), [
    'targets[0].url',
    'targets[1].url',
    'targets[2].url',
    'targets[3].url',
    'targets[4].url',
    'targets[5].events[0]',
  ]);
  assert.deepEqual(problemsOf({ targets: targets.slice(6).concat(targets.slice(6)) }), [
    'targets[2].name',
    'targets[3].name',
  ]);
});

test('allowHosts lets a named host or network through, and must be well formed', () => {
  const config = parseConfig(
    JSON.stringify({
      security: { allowHttp: true, allowHosts: ['127.0.0.0/8', 'receiver.lab'] },
      targets: [{ name: 'local', url: 'http://127.0.0.5:9000/hook' }],
    }),
    'relay.json',
    {},
  );
  assert.equal(config.targets.length, 1);
  assert.deepEqual(problemsOf({ security: { allowHosts: ['10.0.0.0/33', 'bad host', 'ok.example'] } }), [
    'security.allowHosts[0]',
    'security.allowHosts[1]',
  ]);
});

test('the example config is valid as it is', () => {
  const config = loadConfig(new URL('../../config.example.json', import.meta.url).pathname, {});
  assert.equal(config.listen.host, '127.0.0.1');
  assert.equal(config.apiKeys.length, 1);
});

test('loadConfig reads a file from disk', () => {
  const folder = mkdtempSync(join(tmpdir(), 'hookrelay-config-'));
  const file = join(folder, 'relay.json');
  writeFileSync(file, '{"listen": {"port": 0}}');
  assert.equal(loadConfig(file, {}).dataFile, join(folder, 'data', 'hookrelay.jsonl'));
});

test('blockNetworks must be networks and the header timeout must fit in the request timeout', () => {
  assert.deepEqual(problemsOf({ security: { blockNetworks: ['10.0.0.0/8', 'not-a-network', '::1'] } }), ['security.blockNetworks[1]']);
  assert.deepEqual(problemsOf({ listen: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }), ['listen.headersTimeoutMs']);
});
