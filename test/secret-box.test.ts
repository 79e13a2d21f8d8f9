import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretBox } from '../src/secret-box.js';

test('a sealed secret does not contain the secret and opens again', () => {
  const box = new SecretBox(['first-secret-key-0123456789']);
  const sealed = box.seal('my-hmac-secret');
  assert.match(sealed, /^aes256gcm:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
  assert.ok(!sealed.includes('my-hmac-secret'));
  assert.equal(box.open(sealed), 'my-hmac-secret');
  assert.notEqual(box.seal('my-hmac-secret'), sealed, 'every seal uses a fresh IV');
});

test('keys rotate: the first key seals, every key opens', () => {
  const old = new SecretBox(['old-secret-key-0123456789']);
  const sealed = old.seal('s');
  const rotated = new SecretBox(['new-secret-key-0123456789', 'old-secret-key-0123456789']);
  assert.equal(rotated.open(sealed), 's');
  assert.equal(
    rotated.seal('s').split(':')[1],
    new SecretBox(['new-secret-key-0123456789']).seal('s').split(':')[1],
  );
});

test('a secret no configured key opens, or a tampered one, gives null', () => {
  const sealed = new SecretBox(['old-secret-key-0123456789']).seal('s');
  assert.equal(new SecretBox(['another-key-0123456789']).open(sealed), null);
  assert.equal(new SecretBox([]).open(sealed), null);
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA');
  assert.equal(new SecretBox(['old-secret-key-0123456789']).open(tampered), null);
});

test('without keys, secrets are stored as they are', () => {
  const box = new SecretBox([]);
  assert.equal(box.encrypts, false);
  assert.equal(box.seal('s'), 'plain:s');
  assert.equal(box.open('plain:s'), 's');
});
