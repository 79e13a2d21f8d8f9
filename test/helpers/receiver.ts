import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  path: string;
}

export type Answer = (request: Received, response: ServerResponse) => void;

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves with request number `count` (1-based) once it has arrived. */
  request(count: number): Promise<Received>;
  /** Changes how later requests are answered. */
  answer(handler: Answer): void;
}

export function status(code: number, headers: Record<string, string> = {}, body = ''): Answer {
  return (_request, response) => {
    response.writeHead(code, headers);
    response.end(body);
  };
}

/**
 * A webhook receiver on 127.0.0.1 (or `host`), port 0 (or `port`), closed when the test ends.
 * Rejects when it cannot listen, EADDRINUSE for a port taken.
 */
export async function startReceiver(
  t: TestContext,
  initial: Answer = status(200),
  host = '127.0.0.1',
  port = 0,
): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: Array<{ count: number; resolve: (request: Received) => void }> = [];
  let handler = initial;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { headers: request.headers, body: Buffer.concat(chunks), path: request.url ?? '' };
      received.push(entry);
      handler(entry, response);
      for (const waiter of waiters.filter((w) => w.count <= received.length)) {
        waiter.resolve(received[waiter.count - 1] as Received);
        waiters.splice(waiters.indexOf(waiter), 1);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/hook`,
    received,
    request(count) {
      const ready = received[count - 1];
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const limit = setTimeout(() => reject(new Error(`request ${count} never arrived`)), 5_000);
        waiters.push({
          count,
          resolve: (request) => {
            clearTimeout(limit);
            resolve(request);
          },
        });
      });
    },
    answer(next) {
      handler = next;
    },
  };
}

/**
 * A port that nothing listens on: the system picks a free one for a listener, which is closed at
 * once. Unlike a fixed port such as 1, it cannot be one that some service on the machine uses.
 */
export async function unusedPort(host = '127.0.0.1'): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
