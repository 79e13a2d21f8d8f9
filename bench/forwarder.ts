import { Agent, createServer, request as post, type IncomingMessage } from 'node:http';
import { listenLocal } from './common.js';

/**
 * The delivery ceiling: a hand-written forwarder that keeps nothing. Its /ingest reads the body
 * and posts it on to every receiver named on the command line over keep-alive connections, then
 * answers 202 once all of them have answered. Answering after the receivers, not before, holds
 * the work in flight to what the load generator has outstanding, so the forwarder measures how
 * fast this machine can deliver rather than how much it can queue.
 *
 *   node forwarder.js http://127.0.0.1:PORT …
 *
 * `GET /api/v1/status` answers with `events_ingested`, as the relay's status does, so that the
 * benchmarks read both sides alike. Prints {"url"} once it listens.
 */

const receivers = process.argv.slice(2).map((text) => new URL(text));
const agent = new Agent({ keepAlive: true });
let eventsIngested = 0;

function forward(target: URL, body: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const outgoing = post(target, {
      method: 'POST',
      agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) },
    });
    outgoing.on('response', (response: IncomingMessage) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
    });
    outgoing.on('error', () => resolve(false));
    outgoing.end(body);
  });
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/api/v1/status') {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ events_ingested: eventsIngested }));
    return;
  }

  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    eventsIngested += 1;
    const body = Buffer.concat(chunks);
    void Promise.all(receivers.map((target) => forward(target, body))).then((answers) => {
      const status = answers.every(Boolean) ? 202 : 502;
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end('{"accepted":true}');
    });
  });
});

const url = await listenLocal(server);
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => process.exit(0));
