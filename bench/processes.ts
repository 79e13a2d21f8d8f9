import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Processes the benchmarks start: the relay, the ceilings and the receivers, each on its own. */

export interface Running {
  url: string;
  /** The line the process printed when it started listening, parsed. */
  info: Record<string, unknown>;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Resident set size now, from /proc. */
  rssBytes(): number;
}

const BUNDLE = fileURLToPath(new URL('../../dist/hookrelay.mjs', import.meta.url));

/** A script of bench/ (compiled next to this file) that prints `{"url": …}` once it listens. */
export function startScript(name: string, args: string[] = []): Promise<Running> {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  return startProcess(
    [script, ...args],
    (line) => {
      const parsed = JSON.parse(line) as { url?: string };
      return parsed.url ?? null;
    },
    'stdout',
  );
}

export interface RelayProcess extends Running {
  folder: string;
  dataFile: string;
}

/** The bundled relay on a config of its own in a fresh folder, listening on 127.0.0.1:0. */
export async function startRelay(config: Record<string, unknown>): Promise<RelayProcess> {
  const folder = mkdtempSync(join(tmpdir(), 'hookrelay-bench-'));
  const file = join(folder, 'relay.json');
  writeFileSync(
    file,
    JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, dataFile: 'relay.jsonl', ...config }),
  );
  const args = [...relayNodeOptions(), BUNDLE, '--config', file];
  const running = await startProcess(
    args,
    (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      return entry.msg === 'hookrelay listening' ? (entry.url ?? null) : null;
    },
    'stderr',
  );
  return {
    ...running,
    folder,
    dataFile: join(folder, 'relay.jsonl'),
    async stop() {
      await running.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/**
 * Node's own options for the relay's process alone, from BENCH_RELAY_NODE_OPTIONS (words split
 * on spaces): to measure what a V8 setting does to the relay, such as
 * `BENCH_RELAY_NODE_OPTIONS=--max-semi-space-size=16` against the relay's own young generation cap.
 */
function relayNodeOptions(): string[] {
  return (process.env.BENCH_RELAY_NODE_OPTIONS ?? '').split(' ').filter((word) => word !== '');
}

function startProcess(
  args: string[],
  urlFrom: (line: string) => string | null,
  stream: 'stdout' | 'stderr',
): Promise<Running> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child[stream] });
    const other = stream === 'stdout' ? child.stderr : child.stdout;
    other.resume();
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it listened`)),
    );
    lines.on('line', (line) => {
      let url: string | null = null;
      try {
        url = urlFrom(line);
      } catch {
        return;
      }
      if (url === null) return;
      lines.removeAllListeners('line');
      child[stream].resume();
      resolve({
        url,
        info: JSON.parse(line) as Record<string, unknown>,
        child,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
        rssBytes() {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
        },
      });
    });
  });
}
