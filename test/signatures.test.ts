import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  HmacKey,
  standardWebhooksKey,
  standardWebhooksSignature,
  tiledSignature,
  verifyTiledSignature,
} from '../src/signatures.js';

test("Tiled's signature matches the contract's test vector", () => {
  const body = Buffer.from('{"type": "test"}');
  assert.equal(
    tiledSignature('mysecret', body),
    'sha256=c613f598d224ae4d9ee65484f926c59960ab081bfcc389fe6020ac94f1f82392',
  );
});

test('a correct Tiled signature verifies, in either hex case', () => {
  const body = Buffer.from('{"type": "test"}');
  const good = 'sha256=c613f598d224ae4d9ee65484f926c59960ab081bfcc389fe6020ac94f1f82392';
  assert.equal(verifyTiledSignature('mysecret', body, good), true);
  const upper = good.toUpperCase().replace('SHA256', 'sha256');
  assert.equal(verifyTiledSignature('mysecret', body, upper), true);
  assert.equal(verifyTiledSignature(new HmacKey('mysecret'), body, good), true);
});

test('a Tiled signature that is wrong, short, missing or of another form does not verify', () => {
  const body = Buffer.from('{"type": "test"}');
  const good = tiledSignature('mysecret', body);
  for (const header of [
    undefined,
    '',
    good.slice(0, -2),
    `${good}00`,
    good.replace('sha256=', 'sha1='),
    good.replace('sha256=', ''),
    tiledSignature('othersecret', body),
    `sha256=${'z'.repeat(64)}`,
    `${good.slice(0, -1)}g`,
    `${good.slice(0, 20)} ${good.slice(21)}`,
    good.replace('sha256=', 'SHA256='),
  ]) {
    assert.equal(verifyTiledSignature('mysecret', body, header), false, String(header));
  }
  assert.equal(verifyTiledSignature('mysecret', Buffer.from('{"type":"test"}'), good), false);
});

test('HmacKey gives the HMAC-SHA256 of createHmac for keys around the block size', () => {
  const body = Buffer.from('{"type": "container-child-created", "path": ["raw"]}');
  for (const length of [0, 1, 31, 32, 63, 64, 65, 100, 200]) {
    const secret = randomBytes(length);
    const expected = createHmac('sha256', secret).update(body).digest();
    assert.deepEqual(new HmacKey(secret).digest(body), expected, `key of ${length} bytes`);
    assert.deepEqual(new HmacKey(secret).digest(body.subarray(0, 9), body.subarray(9)), expected);
  }
  const key = new HmacKey('mysecret');
  // The key keeps scratch space between calls: a second body must not see the first.
  key.digest(Buffer.from('first'));
  assert.deepEqual(key.digest(body), createHmac('sha256', 'mysecret').update(body).digest());
  assert.deepEqual(
    new HmacKey('näive').digest(body),
    createHmac('sha256', 'näive').update(body).digest(),
  );
  // Bodies larger than the memory the key keeps, and one larger than it will ever keep.
  for (const size of [5_000, 70_000, 3_000]) {
    const large = randomBytes(size);
    const expected = createHmac('sha256', 'mysecret').update(large).digest();
    assert.deepEqual(key.digest(large), expected, `${size} bytes`);
  }
});

test('the Standard Webhooks signature matches the spec library test vector', () => {
  // From standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts.
  const signature = standardWebhooksSignature(
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'msg_p5jXN8AQM9LWM0D4loKWxJek',
    1614265330,
    Buffer.from('{"test": 2432232314}'),
  );
  assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
});

test('a secret without the whsec_ prefix is used as its UTF-8 bytes', () => {
  assert.deepEqual(standardWebhooksKey('mysecret'), Buffer.from('mysecret'));
  const body = Buffer.from('{"type": "test"}');
  const expected = createHmac('sha256', 'mysecret')
    .update('abc.1700000000.')
    .update(body)
    .digest('base64');
  assert.equal(standardWebhooksSignature('mysecret', 'abc', 1700000000, body), `v1,${expected}`);
});

test('signatures stay right as the prepared keys of many secrets come and go', () => {
  const body = Buffer.from('{"type": "test"}');
  const expectTiled = (secret: string): string =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const expectStandard = (secret: string): string => {
    const hmac = createHmac('sha256', standardWebhooksKey(secret)).update('id.1.').update(body);
    return `v1,${hmac.digest('base64')}`;
  };
  // More secrets than the relay keeps prepared, so the keys are dropped and prepared again.
  for (let round = 0; round < 2; round += 1) {
    for (let index = 0; index < 10_050; index += 1) {
      const secret =
        index % 2 === 0
          ? `secret-${index}`
          : `whsec_${Buffer.from(`key-${index}`).toString('base64')}`;
      if (index % 1000 !== 1 && index % 1000 !== 0) {
        tiledSignature(secret, body);
        continue;
      }
      assert.equal(tiledSignature(secret, body), expectTiled(secret), secret);
      const standard = standardWebhooksSignature(secret, 'id', 1, body);
      assert.equal(standard, expectStandard(secret), secret);
    }
  }
});
