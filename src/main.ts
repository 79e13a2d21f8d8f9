import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { systemClock } from './clock.js';
import { describeProblem } from './config-schema.js';
import { ConfigError, loadConfig } from './config.js';
import { SHUTDOWN, type Config } from './defaults.js';
import { JournalDamage } from './journal-reader.js';
import { capYoungGeneration, keepHeapNearLiveSize } from './heap.js';
import { createLogger, type Logger } from './log.js';
import { startRelay, type Relay } from './relay.js';
import { describeRepair, repairJournal } from './repair.js';
import { closeWithin } from './shutdown.js';
import { VERSION } from './version.js';

const USAGE = `hookrelay ${VERSION}: a durable, signed webhook relay for the Tiled data catalog

Usage:
  hookrelay --config FILE [--repair]   run the relay
  hookrelay check --config FILE        validate a config file and list every problem
  hookrelay repair --config FILE       get a damaged data file past its damage, keeping a copy
  hookrelay --help | --version

Options:
  -c, --config FILE   the JSON config file (see config.example.json)
      --repair        repair the data file first if it is damaged (see "repair")
  -h, --help          show this help
  -v, --version       print the version

Signals: SIGTERM or SIGINT stop the relay gracefully; SIGHUP reloads the config file.
`;

/** Exit codes: 0 done, 1 the config or the data file is wrong, 2 the command line is. */
async function main(argv: string[]): Promise<number> {
  // fdatasync and DNS lookups share libuv's thread pool (4 threads by default): a few slow name
  // lookups of target hosts must not hold up the syncs that every ingest waits for. The pool is
  // created on its first use, which is after this line.
  process.env.UV_THREADPOOL_SIZE ??= '16';
  keepHeapNearLiveSize();
  capYoungGeneration();

  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        repair: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    process.stderr.write(`hookrelay: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const { values, positionals } = parsed;
  if (values.help) return print(USAGE, 0);
  if (values.version) return print(`${VERSION}\n`, 0);

  const [command = 'serve', ...extra] = positionals;
  if (!['serve', 'check', 'repair'].includes(command) || extra.length > 0) {
    process.stderr.write(
      `hookrelay: unknown command ${JSON.stringify(positionals.join(' '))}\n\n${USAGE}`,
    );
    return 2;
  }
  if (values.config === undefined) {
    process.stderr.write(`hookrelay: --config FILE is required\n\n${USAGE}`);
    return 2;
  }
  if (command === 'check') return check(values.config);
  if (command === 'repair') return repair(values.config);
  return serve(values.config, values.repair === true);
}

function print(text: string, code: number): number {
  process.stdout.write(text);
  return code;
}

function check(file: string): number {
  const config = configOrNull(file);
  if (config === null) return 1;
  process.stdout.write(
    `${file} is valid (${config.targets.length} targets, data file ${config.dataFile})\n`,
  );
  return 0;
}

function repair(file: string): number {
  const config = configOrNull(file);
  if (config === null) return 1;
  if (!existsSync(config.dataFile)) {
    process.stderr.write(
      `hookrelay: ${config.dataFile} does not exist; there is nothing to repair\n`,
    );
    return 1;
  }
  let report;
  try {
    report = repairJournal(config.dataFile, Date.now());
  } catch (error) {
    process.stderr.write(`hookrelay: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${describeRepair(report).join('\n')}\n`);
  return 0;
}

/** The config, or null after its problems were shown: as text, or through a log when given one. */
function configOrNull(file: string, logger?: Logger): Config | null {
  try {
    return loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (logger === undefined) {
      process.stderr.write(`${error.message}\n`);
    } else {
      for (const problem of error.problems) {
        logger.error('config problem', { file, problem: describeProblem(problem) });
      }
    }
    return null;
  }
}

async function serve(file: string, repairFirst: boolean): Promise<number> {
  const logger = createLogger({ clock: systemClock, pretty: process.stderr.isTTY === true });
  const config = configOrNull(file, logger);
  if (config === null) {
    logger.error('the config is not valid; not starting', { file });
    return 1;
  }
  if (repairFirst && existsSync(config.dataFile)) {
    try {
      const report = repairJournal(config.dataFile, systemClock.now());
      for (const line of describeRepair(report)) logger.warn(line, { file: config.dataFile });
    } catch (error) {
      logger.error('could not repair the data file; not starting', {
        file: config.dataFile,
        err: error,
      });
      return 1;
    }
  }

  // Signals are caught from the start, so one that arrives during startup still stops cleanly.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // SIGHUP would end the process if nothing caught it: one that comes during startup is kept
  // and served once the relay is up.
  let reloadAsked = false;
  let onHangup = (): void => {
    reloadAsked = true;
  };
  process.on('SIGHUP', () => onHangup());

  let relay;
  try {
    relay = await startRelay({ config, logger, onFatal: (error) => fatal(logger, error) });
  } catch (error) {
    if (error instanceof JournalDamage) {
      const { line, reason } = error.damage;
      logger.error('the data file is damaged; not starting', { file: error.file, line, reason });
      logger.error('to drop the damaged lines and keep a copy of the file, run with --repair', {
        file: error.file,
      });
      return 1;
    }
    logger.error('could not start', { err: error });
    return 1;
  }
  const running = relay;
  onHangup = () => reloadFromFile(running, file, logger);
  if (reloadAsked) onHangup();

  logger.info('stopping', { signal: await signalled });
  try {
    await closeWithin(() => relay.close(), SHUTDOWN.limitMs, { clock: systemClock, logger });
    return 0;
  } catch (error) {
    logger.error('could not stop cleanly', { err: error });
    return 1;
  }
}

/** Reads the config file again and applies it; the relay logs what changed or why not. */
function reloadFromFile(relay: Relay, file: string, logger: Logger): void {
  relay
    .reload(() => loadConfig(file))
    .catch((error: unknown) => {
      logger.error('config reload failed unexpectedly; the running config is kept', { err: error });
    });
}

function fatal(logger: Logger, error: Error): void {
  logger.error('the data file cannot be kept consistent; exiting so a restart can recover it', {
    err: error,
  });
  process.exit(1);
}

main(process.argv.slice(2)).then(
  // Everything is flushed and closed by now; exiting outright also ends keep-alive sockets a
  // receiver holds open.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`hookrelay: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
