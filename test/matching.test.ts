import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, normalisePath } from '../src/matching.js';

const created = (path: string[]) => ({ type: 'container-child-created', path });
const updated = (path: string[]) => ({ type: 'container-child-metadata-updated', path });
const closed = (path: string[]) => ({ type: 'stream-closed', path });
const on = (path: string, events: string[] | null = null) => ({
  path: normalisePath(path),
  events,
});

test('a root target gets every event', () => {
  const events = [created(['x']), created(['a', 'b', 'x']), updated(['x']), closed(['a', 'x'])];
  for (const event of events) {
    assert.equal(matches(on(''), event), true, JSON.stringify(event));
  }
});

test('a created event belongs to the parent of the new node', () => {
  assert.equal(matches(on('a'), created(['a', 'x'])), true);
  assert.equal(matches(on('a'), created(['a', 'b', 'x'])), true);
  // The node's own creation is reported to its parent's targets, not to targets on the node.
  assert.equal(matches(on('a/x'), created(['a', 'x'])), false);
  assert.equal(matches(on('a'), created(['a'])), false);
});

test('metadata-updated and stream-closed belong to the node itself', () => {
  assert.equal(matches(on('a/x'), updated(['a', 'x'])), true);
  assert.equal(matches(on('a/x'), closed(['a', 'x'])), true);
  assert.equal(matches(on('a'), updated(['a', 'x', 'y'])), true);
  assert.equal(matches(on('a/x/y'), updated(['a', 'x'])), false);
});

test('siblings and look-alike prefixes do not match', () => {
  assert.equal(matches(on('a'), updated(['b', 'x'])), false);
  assert.equal(matches(on('a'), updated(['ab', 'x'])), false);
  assert.equal(matches(on('a/b'), created(['a', 'c', 'x'])), false);
});

test('an event filter keeps only the listed types; other types pass a target without a filter', () => {
  assert.equal(matches(on('', ['stream-closed']), closed(['x'])), true);
  assert.equal(matches(on('', ['stream-closed']), updated(['x'])), false);
  assert.equal(matches(on(''), { type: 'node-deleted', path: ['x'] }), true);
});

test('a/b, a/b/ and a//b name the same node', () => {
  assert.deepEqual(normalisePath('a/b'), ['a', 'b']);
  assert.deepEqual(normalisePath('a/b/'), ['a', 'b']);
  assert.deepEqual(normalisePath('a//b'), ['a', 'b']);
  assert.deepEqual(normalisePath('/'), []);
  assert.deepEqual(normalisePath(''), []);
});
