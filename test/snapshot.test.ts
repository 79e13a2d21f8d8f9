import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventRecord, JournalRecord } from '../src/records.js';
import { SecretBox } from '../src/secret-box.js';
import { RelayState } from '../src/state.js';

function stateWithOneTarget(): RelayState {
  const state = new RelayState(new SecretBox([]));
  state.apply({ type: 'header', format: 'hookrelay-journal', version: 1, created: 1 });
  state.apply({
    type: 'target',
    target: {
      id: 1,
      path: [],
      url: 'https://example.org/a',
      events: null,
      secret: null,
      active: true,
      name: null,
      managedBy: 'api',
      created: 1,
      disabledReason: null,
    },
  });
  return state;
}

function event(id: string, deliveryId: number): EventRecord {
  return {
    type: 'event',
    id,
    eventType: 'stream-closed',
    at: 10,
    body: '{"type": "stream-closed"}',
    deliveries: [{ id: deliveryId, target: 1, eventId: `${id}-for-1`, outcome: 'pending' }],
  };
}

const summary = (records: Iterable<JournalRecord>) =>
  [...records].map((record) => {
    if (record.type === 'event') return `event ${record.id}`;
    if (record.type === 'delivery') return `delivery ${record.id} ${record.outcome}`;
    return record.type;
  });

test('a snapshot holds what existed when it was taken, each record as it is when read', () => {
  const state = stateWithOneTarget();
  state.apply(event('first', 1));
  state.apply(event('second', 2));

  const snapshot = state.snapshot(100);
  state.apply(event('third', 3));
  state.apply({
    type: 'delivery',
    id: 1,
    outcome: 'success',
    attempts: 1,
    status: 200,
    error: null,
    next: null,
    done: 20,
  });
  state.apply({ type: 'target-deleted', id: 99 });

  // "third" is carried over by the journal; a second copy would create its delivery twice.
  assert.deepEqual(summary(snapshot), [
    'header',
    'target',
    'event first',
    'delivery 1 success',
    'event second',
  ]);
});

test('a snapshot leaves out what was forgotten while it was read, ids of events included', () => {
  const state = stateWithOneTarget();
  state.apply(event('kept', 1));
  state.apply(event('gone', 2));

  const snapshot = state.snapshot(100)[Symbol.iterator]();
  assert.equal(snapshot.next().value?.type, 'header');
  state.apply({ type: 'target-deleted', id: 1 });

  assert.deepEqual(summary({ [Symbol.iterator]: () => snapshot }), ['seen']);
  assert.equal(state.seen.size, 2);
});
