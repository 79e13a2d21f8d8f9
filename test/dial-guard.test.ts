import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { startTestRelay, tiledEvent, type TestRelay } from './helpers/relay-harness.js';

interface Canary {
  port: number;
  /** Connections the canary got; any at all is a failure. */
  connections: () => number;
}

/** A listener that must never be reached: it counts the connections it gets. */
async function startCanary(t: TestContext, host: string): Promise<Canary> {
  let connections = 0;
  const server: Server = createServer((_request, response) => response.end());
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

/**
 * A canary on 127.0.0.3 (not allowed) and a receiver on 127.0.0.2 (allowed), on one port. The
 * canary takes a free port first; should something hold that port on 127.0.0.2, both move on.
 */
async function canaryAndReceiver(t: TestContext): Promise<{ canary: Canary; receiver: Receiver }> {
  for (let tries = 1; ; tries += 1) {
    const canary = await startCanary(t, '127.0.0.3');
    try {
      return { canary, receiver: await startReceiver(t, undefined, '127.0.0.2', canary.port) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries === 5) throw error;
    }
  }
}

async function setup(t: TestContext) {
  const { canary, receiver } = await canaryAndReceiver(t);
  const port = Number(new URL(receiver.url).port);
  const answers = new Map<string, string[]>([['rebind.test', ['127.0.0.2']]]);
  const resolve = async (host: string): Promise<string[]> => answers.get(host) ?? [];
  const relay = await startTestRelay(t, {
    resolve,
    config: { security: { allowHosts: ['127.0.0.2'] } },
  });
  return { receiver, canary, answers, relay, url: `http://rebind.test:${port}/hook` };
}

async function lastRecord(relay: TestRelay, id: number): Promise<Record<string, unknown>> {
  const records = (await (
    await relay.api('GET', `/api/v1/webhooks/history/${id}`)
  ).json()) as Array<Record<string, unknown>>;
  return records[0] ?? {};
}

function attempted(relay: TestRelay, delivery: number): Promise<void> {
  return eventually(
    () => (relay.relay.store.state.deliveries.get(delivery)?.attempts ?? 0) >= 1,
    `delivery ${delivery}`,
  );
}

test(
  'a host that rebinds to a forbidden address after registration is never dialled',
  async (t) => {
    const { receiver, canary, answers, relay, url } = await setup(t);
    const created = await relay.api('POST', '/api/v1/webhooks/target/', { url });
    assert.equal(created.status, 200);
    const { id } = (await created.json()) as { id: number };

    answers.set('rebind.test', ['127.0.0.3']);
    await relay.ingest(tiledEvent('stream-closed', ['x']));
    await attempted(relay, 1);
    const record = await lastRecord(relay, id);
    assert.equal(record.status_code, null);
    assert.equal(
      record.error_detail,
      'EBLOCKED: target address blocked: "rebind.test" resolves to 127.0.0.3, ' +
        'which is loopback (127.0.0.0/8); list the host in security.allowHosts to allow it',
    );
    assert.equal(canary.connections(), 0);
    assert.equal(receiver.received.length, 0);
  },
);

test('a mixed answer is dialled only at its allowed addresses', async (t) => {
  const { receiver, canary, answers, relay, url } = await setup(t);
  await relay.api('POST', '/api/v1/webhooks/target/', { url });
  answers.set('rebind.test', ['127.0.0.3', '127.0.0.2', '127.0.0.3']);
  for (let n = 0; n < 5; n += 1) await relay.ingest(tiledEvent('stream-closed', [`n${n}`]));
  await receiver.request(5);
  assert.equal(canary.connections(), 0);
});

test(
  'a stored target whose address a config change forbids is blocked at dial time, not at startup',
  async (t) => {
    const { receiver, canary, relay } = await setup(t);
    const port = new URL(receiver.url).port;
    const created = await relay.api('POST', '/api/v1/webhooks/target/', {
      url: `http://127.0.0.2:${port}/hook`,
    });
    const { id } = (await created.json()) as { id: number };
    await relay.ingest(tiledEvent('stream-closed', ['before']));
    await receiver.request(1);

    const restarted = await relay.restart({ config: { security: { allowHosts: [] } } });
    assert.ok(
      restarted.logs.some((entry) => entry.msg === 'hookrelay listening' && entry.targets === 1),
    );
    await restarted.ingest(tiledEvent('stream-closed', ['after']));
    await attempted(restarted, 2);
    const record = await lastRecord(restarted, id);
    assert.match(
      String(record.error_detail),
      /^EBLOCKED: target address blocked: "127\.0\.0\.2" loopback \(127\.0\.0\.0\/8\)/,
    );
    assert.equal(receiver.received.length, 1);
    assert.equal(canary.connections(), 0);
  },
);

test(
  'an answer that streams forever is cut off: the attempt ends and the connection is dropped',
  async (t) => {
    const streams: Array<() => void> = [];
    const receiver = await startReceiver(t, (_request, response) => {
      response.writeHead(500);
      const timer = setInterval(() => response.write('x'.repeat(4096)), 1);
      streams.push(() => clearInterval(timer));
      response.on('close', () => clearInterval(timer));
    });
    t.after(() => streams.forEach((stop) => stop()));
    const relay = await startTestRelay(t);
    const created = await relay.api('POST', '/api/v1/webhooks/target/', { url: receiver.url });
    const { id } = (await created.json()) as { id: number };
    await relay.ingest(tiledEvent('stream-closed', ['x']));
    await attempted(relay, 1);
    const record = await lastRecord(relay, id);
    assert.equal(record.status_code, 500);
    assert.equal(record.error_detail, `HTTP 500: ${'x'.repeat(256)}`);
  },
);

test('a successful answer that streams forever does not hold the connection', async (t) => {
  let closed = false;
  const receiver = await startReceiver(t, (_request, response) => {
    response.writeHead(200);
    const timer = setInterval(() => response.write('y'.repeat(65536)), 1);
    response.on('close', () => {
      clearInterval(timer);
      closed = true;
    });
  });
  const relay = await startTestRelay(t);
  await relay.api('POST', '/api/v1/webhooks/target/', { url: receiver.url });
  await relay.ingest(tiledEvent('stream-closed', ['x']));
  await attempted(relay, 1);
  await eventually(() => closed, 'the receiver to see its connection dropped');
  assert.equal(relay.relay.store.state.deliveries.get(1)?.outcome, 'success');
});
