import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ConnectionPool, type Connection, type Origin } from '../src/connection-pool.js';
import { guardedLookup } from '../src/dial-guard.js';
import { compileUrlPolicy } from '../src/target-url.js';

const policy = compileUrlPolicy({
  allowHttp: true,
  allowPrivateAddresses: false,
  allowHosts: ['127.0.0.1'],
  blockNetworks: [],
});
const lookup = guardedLookup(policy, async () => []);

/** A listener that accepts connections and says nothing; closed with every connection. */
async function silentListener(t: TestContext): Promise<Origin> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { key: `http://127.0.0.1:${port}`, secure: false, hostname: '127.0.0.1', port };
}

/** A connection of `pool` to `origin`, once it may carry a request. */
function connected(pool: ConnectionPool, origin: Origin): Promise<Connection> {
  return new Promise((resolve) => {
    const connection = pool.connect(origin, lookup, {
      ready: () => resolve(connection),
      receive: () => {},
      closed: () => {},
    });
  });
}

test('a connection destroyed before its close event is neither kept nor handed out', async (t) => {
  const origin = await silentListener(t);
  const pool = new ConnectionPool(policy);
  t.after(() => pool.destroyAll());

  const destroyedFirst = await connected(pool, origin);
  destroyedFirst.destroy();
  pool.release(destroyedFirst, 0, undefined);
  assert.equal(pool.take(origin, 0), undefined);

  const destroyedWhileIdle = await connected(pool, origin);
  pool.release(destroyedWhileIdle, 0, undefined);
  destroyedWhileIdle.destroy();
  assert.equal(pool.take(origin, 0), undefined);
});

test('past the idle limit over all origins, the longest idle connection is closed', async (t) => {
  const [first, second] = [await silentListener(t), await silentListener(t)];
  const pool = new ConnectionPool(policy, { maxIdle: 2 });
  t.after(() => pool.destroyAll());
  const oldest = await connected(pool, first);
  const other = await connected(pool, second);
  const newest = await connected(pool, first);

  for (const connection of [oldest, other, newest]) pool.release(connection, 0, undefined);
  assert.equal(oldest.socket.destroyed, true);
  assert.equal(pool.take(first, 0), newest);
  assert.equal(pool.take(first, 0), undefined);
  assert.equal(pool.take(second, 0), other);
});

test('a connection whose announced idle time is nearly over is closed, not kept', async (t) => {
  const origin = await silentListener(t);
  const pool = new ConnectionPool(policy);
  t.after(() => pool.destroyAll());
  const connection = await connected(pool, origin);
  pool.release(connection, 0, 1);
  assert.equal(connection.socket.destroyed, true);
});
