import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fifo } from '../src/fifo.js';

test('items come out in the order they went in, across compactions', () => {
  const queue = new Fifo<number>();
  const out: number[] = [];
  for (let index = 0; index < 5000; index += 1) {
    queue.push(index);
    if (index % 3 === 0) out.push(queue.shift() as number);
  }
  assert.equal(queue.length, 5000 - out.length);
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  assert.deepEqual(out, Array.from({ length: 5000 }, (_, index) => index));
  assert.equal(queue.length, 0);
  assert.equal(queue.shift(), undefined);
});
