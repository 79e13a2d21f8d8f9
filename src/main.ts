import { parseArgs } from 'node:util';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';
import { JournalDamage } from './journal-reader.js';
import { createLogger, type Logger } from './log.js';
import { startRelay } from './relay.js';
import { VERSION } from './version.js';

const USAGE = `hookrelay ${VERSION}: a durable, signed webhook relay for the Tiled data catalog

Usage:
  hookrelay --config FILE           run the relay
  hookrelay check --config FILE     validate a config file and list every problem
  hookrelay --help | --version

Options:
  -c, --config FILE   the JSON config file (see config.example.json)
  -h, --help          show this help
  -v, --version       print the version

Signals: SIGTERM or SIGINT stop the relay gracefully.
`;

/** Exit codes: 0 done, 1 the config or the data file is wrong, 2 the command line is. */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
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
  if (!['serve', 'check'].includes(command) || extra.length > 0) {
    process.stderr.write(`hookrelay: unknown command ${JSON.stringify(positionals.join(' '))}\n\n${USAGE}`);
    return 2;
  }
  if (values.config === undefined) {
    process.stderr.write(`hookrelay: --config FILE is required\n\n${USAGE}`);
    return 2;
  }
  return command === 'check' ? check(values.config) : serve(values.config);
}

function print(text: string, code: number): number {
  process.stdout.write(text);
  return code;
}

function check(file: string): number {
  try {
    const config = loadConfig(file);
    process.stdout.write(`${file} is valid (${config.targets.length} targets, data file ${config.dataFile})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

async function serve(file: string): Promise<number> {
  const logger = createLogger({ clock: systemClock, pretty: process.stderr.isTTY === true });
  let config;
  try {
    config = loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('the config is not valid; not starting', { file, problems: error.problems.length });
    process.stderr.write(`${error.message}\n`);
    return 1;
  }

  // Signals are caught from the start, so one that arrives during startup still stops cleanly.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });

  let relay;
  try {
    relay = await startRelay({ config, logger, onFatal: (error) => fatal(logger, error) });
  } catch (error) {
    if (error instanceof JournalDamage) {
      const { line, reason } = error.damage;
      logger.error('the data file is damaged; not starting', { file: error.file, line, reason });
      return 1;
    }
    logger.error('could not start', { err: error });
    return 1;
  }

  logger.info('stopping', { signal: await signalled });
  try {
    await relay.close();
    return 0;
  } catch (error) {
    logger.error('could not stop cleanly', { err: error });
    return 1;
  }
}

function fatal(logger: Logger, error: Error): void {
  logger.error('the data file cannot be kept consistent; exiting so a restart can recover it', { err: error });
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
