import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What every benchmark sends: a Tiled event of typical size, signed as Tiled signs it. */

export const INGEST_SECRET = 'bench-ingest-secret';

export const EVENT_BODY =
  '{"type": "container-child-created", "timestamp": "2026-11-01T12:00:00.123456Z", "key": "scan_0001", ' +
  '"path": ["raw", "beamline2", "scan_0001"], "structure_family": "array", ' +
  '"specs": [{"name": "xdi", "version": "1.0"}], "metadata": {"sample": "Ni\\u00e9", "energy": 8333}}';

export function signed(body: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Tiled-Signature': `sha256=${createHmac('sha256', INGEST_SECRET).update(body).digest('hex')}`,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN;
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Lets a benchmark read the relay's status (events taken in, deliveries pending). */
export const STATUS_API_KEY = 'bench-status-reader-key';

/**
 * Relay settings every benchmark shares: signed ingest, deliveries to loopback receivers, and a
 * key that may read the status.
 */
export const RELAY_BASE = {
  ingest: { secret: INGEST_SECRET },
  security: { allowHttp: true, allowHosts: ['127.0.0.1'] },
  apiKeys: [{ key: STATUS_API_KEY, scopes: ['read:webhooks'] }],
};

/** Config targets on the root path, one per receiver, so that every event goes to each. */
export function targetsAt(urls: readonly string[]): Array<Record<string, string>> {
  return urls.map((url, index) => ({ name: `receiver-${index + 1}`, path: '', url }));
}

/** Listens on a free loopback port and gives the server's base URL. */
export function listenLocal(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
