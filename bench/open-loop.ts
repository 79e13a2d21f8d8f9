import { Agent, request as post } from 'node:http';
import { sleep } from './common.js';

/**
 * An open-loop load generator on node:http: request n goes out at n / rate seconds after the
 * start whether or not earlier ones have been answered, as a catalog emits events regardless of
 * how the relay is doing. A closed loop (send the next when the last is answered) would slow
 * down with a slow relay and so hide the very delays it is meant to measure.
 */

export interface OutgoingEvent {
  body: string;
  headers: Record<string, string>;
}

export interface OpenLoopResult {
  /** performance.now() at which each request was handed to node:http, by request number. */
  sentAt: Float64Array;
  /** Requests answered with anything but 2xx, or not answered at all. */
  failures: number;
  /** How far behind its schedule the generator fell at worst, in milliseconds. */
  maxLagMs: number;
}

/** Sends `events` in order, `rate` a second, to `url`; resolves once every one is answered. */
export async function sendAtRate(options: {
  url: string;
  rate: number;
  events: readonly OutgoingEvent[];
}): Promise<OpenLoopResult> {
  const { url, rate, events } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const sentAt = new Float64Array(events.length);
  const answers: Array<Promise<boolean>> = [];
  const intervalMs = 1000 / rate;
  let maxLagMs = 0;

  // An event whose time has come goes at once, with no wait for earlier answers.
  const start = performance.now();
  let n = 0;
  for (const event of events) {
    const due = start + n * intervalMs;
    if (due > performance.now()) await sleep(due - performance.now());
    maxLagMs = Math.max(maxLagMs, performance.now() - due);
    sentAt[n] = performance.now();
    answers.push(send(agent, url, event));
    n += 1;
  }

  const failures = (await Promise.all(answers)).filter((accepted) => !accepted).length;
  agent.destroy();
  return { sentAt, failures, maxLagMs };
}

function send(agent: Agent, url: string, event: OutgoingEvent): Promise<boolean> {
  return new Promise((resolve) => {
    const outgoing = post(url, {
      method: 'POST',
      agent,
      headers: { ...event.headers, 'Content-Length': String(Buffer.byteLength(event.body)) },
    });
    outgoing.on('response', (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      response.on('end', () => resolve(status >= 200 && status <= 299));
    });
    outgoing.on('error', () => resolve(false));
    outgoing.end(event.body);
  });
}
