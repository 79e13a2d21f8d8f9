import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, nowMs } from './common.js';

/**
 * The targets of the delivery benchmarks, run as a process of their own so that they never take
 * time from the relay's event loop. One bare node:http server on 127.0.0.1 per argument, each
 * answering 200 after that many milliseconds (0: at once) and counting what arrives:
 *
 *   node receivers.js 0 0 2000     two receivers that answer at once and one that takes 2 s
 *
 * A control server beside them answers `GET /arrivals` with the counts and the clock readings of
 * the first and last arrival at each, and `POST /reset` starts the counts over. Once every
 * server listens, prints {"url": control URL, "receivers": [receiver URL, …]}.
 */

export interface Tally {
  arrivals: number;
  /** Wall-clock milliseconds of the first and of the latest arrival; 0 before any. */
  firstMs: number;
  lastMs: number;
}

// Longer than any pause in the benchmarks, so that the relay never reuses a connection the
// receiver is closing at that instant; that race is the relay's to survive, not to measure here.
const KEEP_ALIVE_MS = 60_000;

function receiver(delayMs: number, tally: Tally): Server {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const at = nowMs();
    if (tally.arrivals === 0) tally.firstMs = at;
    tally.arrivals += 1;
    tally.lastMs = at;

    request.resume();
    request.on('end', () => {
      if (delayMs === 0) answer(response);
      else setTimeout(() => answer(response), delayMs);
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return server;
}

function answer(response: ServerResponse): void {
  response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '2' });
  response.end('ok');
}

function control(tallies: Tally[]): Server {
  return createServer((request, response) => {
    request.resume();
    if (request.method === 'POST' && request.url === '/reset') {
      for (const tally of tallies) Object.assign(tally, { arrivals: 0, firstMs: 0, lastMs: 0 });
    }
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ receivers: tallies }));
  });
}

const delays = process.argv.slice(2).map(Number);
if (delays.length === 0 || delays.some((delay) => !Number.isInteger(delay) || delay < 0)) {
  process.stderr.write('usage: receivers DELAY_MS [DELAY_MS …]\n');
  process.exit(2);
}
const tallies: Tally[] = [];
const urls = await Promise.all(
  delays.map((delay) => {
    const tally = { arrivals: 0, firstMs: 0, lastMs: 0 };
    tallies.push(tally);
    return listenLocal(receiver(delay, tally));
  }),
);
const url = await listenLocal(control(tallies));
process.stdout.write(`${JSON.stringify({ url, receivers: urls })}\n`);
process.on('SIGTERM', () => process.exit(0));
