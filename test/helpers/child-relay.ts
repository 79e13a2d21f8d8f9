import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The bundled relay, built by build.mjs before the tests run. */
export const BUNDLE = fileURLToPath(new URL('../../../dist/hookrelay.mjs', import.meta.url));

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BUNDLE, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface ChildRelay {
  child: ChildProcess;
  /** Log lines written so far, parsed (lines that are not JSON are kept as { text }). */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line that satisfies `match`, waiting for it if need be. */
  logLine(
    match: (entry: Record<string, unknown>) => boolean,
    what?: string,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** Starts `node dist/hookrelay.mjs ARGS`; the process is killed when the test ends. */
export function spawnRelay(
  t: TestContext,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildRelay {
  const child = spawn(process.execPath, [BUNDLE, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const watchers: Array<() => void> = [];
  let partial = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ text: line });
      }
    }
    for (const watcher of [...watchers]) watcher();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  return {
    child,
    logs,
    exited,
    logLine(match, what = 'a log line') {
      return new Promise((resolve, reject) => {
        const limit = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; logs: ${JSON.stringify(logs)}`)),
          10_000,
        );
        const check = (): void => {
          const found = logs.find(match);
          if (found === undefined) return;
          clearTimeout(limit);
          watchers.splice(watchers.indexOf(check), 1);
          resolve(found);
        };
        watchers.push(check);
        check();
        void exited.then(() => setImmediate(check));
      });
    },
  };
}
