import { connect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A client that sends the headers of an ingest request and never its body. It asks for
 * `100 Continue`, which node:http sends just before it hands the request to the relay: once it
 * arrives the request is under way, and a server closing must wait for it or cut it off.
 */
export async function stalledClient(t: TestContext, relayUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(relayUrl);
  const socket = connect(Number(port), hostname);
  t.after(() => socket.destroy());
  socket.write(
    'POST /ingest HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n' +
      'Content-Length: 100\r\nExpect: 100-continue\r\n\r\n',
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      if (head.startsWith('HTTP/1.1 100 ')) resolve();
      else reject(new Error(`expected 100 Continue, got ${JSON.stringify(head.slice(0, 40))}`));
    });
  });
  return socket;
}
