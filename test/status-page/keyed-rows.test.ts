import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedRows, type RowHost } from '../../src/status-page/browser/keyed-rows.js';

interface Item {
  id: string;
  text: string;
}

interface Row {
  id: string;
  text: string;
}

/** A list kept in an array, logging every change the way the DOM would receive it. */
function arrayHost(): { host: RowHost<Row>; list: Row[]; log: string[] } {
  const list: Row[] = [];
  const log: string[] = [];
  const host: RowHost<Row> = {
    first: () => list[0] ?? null,
    next: (row) => list[list.indexOf(row) + 1] ?? null,
    place(row, before) {
      const at = list.indexOf(row);
      if (at !== -1) list.splice(at, 1);
      list.splice(before === null ? list.length : list.indexOf(before), 0, row);
      log.push(`place ${row.id} before ${before?.id ?? 'end'}`);
    },
    remove(row) {
      list.splice(list.indexOf(row), 1);
      log.push(`remove ${row.id}`);
    },
  };
  return { host, list, log };
}

function keyedRows(host: RowHost<Row>, log: string[]): KeyedRows<Item, Row> {
  return new KeyedRows<Item, Row>(host, {
    key: (item) => item.id,
    create: (item) => {
      log.push(`create ${item.id}`);
      return { id: item.id, text: '' };
    },
    update: (row, item) => {
      if (row.text !== item.text) log.push(`update ${item.id}`);
      row.text = item.text;
    },
  });
}

const items = (...entries: string[]): Item[] =>
  entries.map((entry) => {
    const [id = '', text = ''] = entry.split('=');
    return { id, text };
  });

test('a row is made once per key, then updated in place and left where it is', () => {
  const { host, list, log } = arrayHost();
  const rows = keyedRows(host, log);

  rows.sync(items('1=a', '2=b', '3=c'));
  const made = [...list];
  log.length = 0;
  rows.sync(items('1=a', '2=B', '3=c'));

  assert.deepEqual(log, ['update 2']);
  assert.deepEqual(list, [
    { id: '1', text: 'a' },
    { id: '2', text: 'B' },
    { id: '3', text: 'c' },
  ]);
  assert.ok(list.every((row, index) => row === made[index]));
});

test('rows of items gone are removed, new ones put in their place, moved ones moved', () => {
  const { host, list, log } = arrayHost();
  const rows = keyedRows(host, log);
  rows.sync(items('1=a', '2=b', '3=c', '4=d'));
  log.length = 0;

  rows.sync(items('5=e', '1=a', '4=d', '3=c'));

  assert.deepEqual(log, [
    'remove 2',
    'create 5',
    'update 5',
    'place 5 before 1',
    'place 4 before 3',
  ]);
  assert.deepEqual(list.map((row) => row.id), ['5', '1', '4', '3']);
  assert.equal(rows.row('2'), undefined);
});
