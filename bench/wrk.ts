import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Load from wrk (Debian package `wrk`: apt-get install wrk), so that the load generator runs
 * outside Node and off the measured process. A Lua script gives every request its own
 * X-Tiled-Event-ID in the form Tiled sends (32 hex digits), so the relay stores each one instead
 * of answering it as a repeat.
 */

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** Latency percentiles in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export function requireWrk(): void {
  const found = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (found.error !== undefined) {
    throw new Error(
      'wrk is not installed: install it with "apt-get install wrk" (Debian package wrk)',
    );
  }
}

export interface WrkOptions {
  url: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  threads?: number;
}

/** Runs wrk to its end, blocking this process: for benchmarks with nothing else to do meanwhile. */
export function runWrk(options: WrkOptions): WrkResult {
  const { folder, args } = prepare(options);
  try {
    return parseWrk(execFileSync('wrk', args, { encoding: 'utf8' }));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Runs wrk while this process goes on, so that it can sample the relay during the load. */
export async function runWrkInBackground(options: WrkOptions): Promise<WrkResult> {
  const { folder, args } = prepare(options);
  try {
    const { stdout } = await promisify(execFile)('wrk', args, { encoding: 'utf8' });
    return parseWrk(stdout);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Writes the Lua script into a fresh folder and gives wrk's arguments. */
function prepare(options: WrkOptions): { folder: string; args: string[] } {
  const folder = mkdtempSync(join(tmpdir(), 'hookrelay-wrk-'));
  const script = join(folder, 'post.lua');
  // Ids in Tiled's form, 32 lowercase hex digits: 22 for the run, 2 for wrk's thread and 8 for
  // the request's number within the thread.
  const run = randomBytes(11).toString('hex');
  const headerLines = Object.entries(options.headers)
    .map(([name, value]) => `  headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join('\n');
  writeFileSync(
    script,
    `local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local body = ${JSON.stringify(options.body)}
request = function()
  n = n + 1
  local headers = {}
${headerLines}
  headers["X-Tiled-Event-ID"] = "${run}" .. string.format("%02x%08x", tid, n)
  return wrk.format("POST", ${JSON.stringify(options.path)}, headers, body)
end
`,
  );
  const args = [
    `-t${options.threads ?? 2}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    '-s',
    script,
    options.url,
  ];
  return { folder, args };
}

export function parseWrk(output: string): WrkResult {
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 0);
  const errors = [...output.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce(
    (sum, match) => sum + Number(match[2]),
    0,
  );
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in/),
    p50Ms: milliseconds(/\s50%\s+([\d.]+(?:us|ms|s))/.exec(output)?.[1]),
    p99Ms: milliseconds(/\s99%\s+([\d.]+(?:us|ms|s))/.exec(output)?.[1]),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    errors,
  };
}

function milliseconds(text: string | undefined): number {
  if (text === undefined) return NaN;
  const value = Number.parseFloat(text);
  if (text.endsWith('us')) return value / 1000;
  if (text.endsWith('ms')) return value;
  return value * 1000;
}
