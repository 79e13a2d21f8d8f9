import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DueQueue } from '../src/due-queue.js';

test('items come out in due order, ties in the order they went in', () => {
  const queue = new DueQueue<string>();
  const seeds = [50, 10, 30, 10, 40, 20, 30, 0];
  seeds.forEach((due, index) => queue.push(due, `${due}-${index}`));
  assert.equal(queue.nextDue, 0);
  assert.deepEqual(queue.popDue(25), ['0-7', '10-1', '10-3', '20-5']);
  assert.equal(queue.nextDue, 30);
  assert.deepEqual(queue.popDue(100), ['30-2', '30-6', '40-4', '50-0']);
  assert.equal(queue.size, 0);
  assert.equal(queue.nextDue, Infinity);
});

test('a large random set comes out sorted', () => {
  const queue = new DueQueue<number>();
  let seed = 7;
  const random = (): number => (seed = (seed * 48271) % 2147483647);
  const values = Array.from({ length: 2000 }, () => random() % 1000);
  for (const value of values) queue.push(value, value);
  assert.deepEqual(queue.popDue(1000), [...values].sort((a, b) => a - b));
});
