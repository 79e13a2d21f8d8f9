import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseConfig } from '../../src/config.js';
import type { Config } from '../../src/defaults.js';
import type { AttemptRequest } from '../../src/delivery-client.js';
import type { Sender } from '../../src/dispatcher.js';
import type { FileSystem } from '../../src/files.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay } from '../../src/relay.js';
import type { Resolver } from '../../src/target-url.js';
import { FakeClock } from './fake-clock.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const READ_KEY = 'test-read-only-key-0123456789';
export const INGEST_SECRET = 'test-ingest-secret';

/** Config as written in a file (before defaults), merged one level deep into the test config. */
export type ConfigOverrides = Partial<Record<keyof Config, unknown>>;

export interface TestRelay {
  relay: Relay;
  url: string;
  clock: FakeClock;
  config: Config;
  /** Every log line the relay wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  folder: string;
  /** Posts an event to /ingest, signed with the ingest secret unless headers say otherwise. */
  ingest(body: string | object, headers?: Record<string, string | null>): Promise<Response>;
  /** Calls the admin API with the admin key (or the headers given). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Stops this relay and starts another one on the same data file and clock. */
  restart(changes?: HarnessOptions): Promise<TestRelay>;
}

export interface HarnessOptions {
  config?: ConfigOverrides;
  clock?: FakeClock;
  folder?: string;
  files?: FileSystem;
  resolve?: Resolver;
  random?: () => number;
  /** Replaces the HTTP client, for tests that must not dial anything. */
  sender?: Sender;
  onFatal?: (error: Error) => void;
  /** How long closing waits for requests under way (default 50 ms). */
  shutdownGraceMs?: number;
}

export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function testConfig(folder: string, overrides: ConfigOverrides = {}): Config {
  const base: Record<string, unknown> = {
    listen: { host: '127.0.0.1', port: 0 },
    dataFile: join(folder, 'data', 'relay.jsonl'),
    apiKeys: [
      { key: ADMIN_KEY, scopes: ['read:webhooks', 'write:webhooks'] },
      { key: READ_KEY, scopes: ['read:webhooks'] },
    ],
    secretKeys: ['test-secret-key-0123456789'],
    ingest: { secret: INGEST_SECRET },
    delivery: { jitterMs: 0 },
    // Many tests fail authentication on purpose; the limiter has tests of its own.
    security: { allowHttp: true, allowHosts: ['127.0.0.1'], maxAuthFailuresPerMinute: 10_000 },
  };
  for (const [key, value] of Object.entries(overrides)) {
    const current = base[key];
    base[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object'
        ? { ...current, ...value }
        : value;
  }
  return parseConfig(JSON.stringify(base), join(folder, 'config.json'), {});
}

/** A relay on 127.0.0.1 port 0 with a fake clock and captured logs, closed when the test ends. */
export async function startTestRelay(t: TestContext, options: HarnessOptions = {}): Promise<TestRelay> {
  const folder = options.folder ?? mkdtempSync(join(tmpdir(), 'hookrelay-test-'));
  if (options.folder === undefined) t.after(() => rmSync(folder, { recursive: true, force: true }));

  const clock = options.clock ?? new FakeClock();
  const config = testConfig(folder, options.config);
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ clock, level: 'debug', sink: (line) => logs.push(JSON.parse(line)) });
  const relay = await startRelay({
    config,
    clock,
    logger,
    random: options.random ?? (() => 0),
    shutdownGraceMs: options.shutdownGraceMs ?? 50,
    resolve: options.resolve ?? (async () => ['93.184.216.34']),
    ...(options.files ? { files: options.files } : {}),
    ...(options.sender ? { sender: options.sender } : {}),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  t.after(() => relay.close());

  return {
    relay,
    url: relay.url,
    clock,
    config,
    logs,
    folder,
    ingest(body, headers = {}) {
      const text = typeof body === 'string' ? body : tiledJson(body);
      const base: Record<string, string | null> = {
        'Content-Type': 'application/json',
        'X-Tiled-Signature': signature(INGEST_SECRET, text),
      };
      const merged = { ...base, ...headers };
      const sent = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null)) as Record<string, string>;
      return fetch(`${relay.url}/ingest`, { method: 'POST', headers: sent, body: text });
    },
    api(method, path, body, headers = { Authorization: `Apikey ${ADMIN_KEY}` }) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
      }
      return fetch(`${relay.url}${path}`, init);
    },
    async restart(changes = {}) {
      await relay.close();
      return startTestRelay(t, { ...options, ...changes, clock, folder });
    },
  };
}

/** JSON as Python's json.dumps writes it: ", " and ": " separators, non-ASCII as \uXXXX. */
export function tiledJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tiledJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(([key, item]) => `${tiledJson(key)}: ${tiledJson(item)}`);
    return `{${members.join(', ')}}`;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  return JSON.stringify(value);
}

let eventCounter = 0;

/** A Tiled event body; `path` ends with the node's key. */
export function tiledEvent(type: string, path: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  eventCounter += 1;
  const key = path[path.length - 1] ?? '';
  const base: Record<string, unknown> = { type, timestamp: `2026-01-15T12:34:56.${String(eventCounter).padStart(6, '0')}Z`, key, path };
  if (type === 'container-child-created') Object.assign(base, { structure_family: 'array', specs: [], metadata: {} });
  if (type === 'container-child-metadata-updated') Object.assign(base, { specs: [], metadata: {} });
  return { ...base, ...extra };
}

export function eventId(n: number): string {
  return n.toString(16).padStart(32, '0');
}

/** A sender that dials nothing: it records each attempt and answers 200. */
export function recordingSender(): Sender & { sent: AttemptRequest[] } {
  const sent: AttemptRequest[] = [];
  return {
    sent,
    send: async (request) => {
      sent.push(request);
      return { statusCode: 200, error: null };
    },
  };
}
