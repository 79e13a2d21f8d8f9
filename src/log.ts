import type { Clock } from './clock.js';
import { withoutUserinfo } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  clock: Clock;
  /** Receives one finished line, newline included. */
  sink?: (line: string) => void;
  level?: LogLevel;
  /** A short human form instead of JSON; chosen when stderr is a terminal. */
  pretty?: boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One JSON object a line: `time`, `level`, `msg`, then the fields. Callers never pass secrets,
 * signatures or API keys in fields; errors are reduced to their type, code and message. The
 * credentials of a URL are cut out of every line, whatever field or message brought them.
 */
export function createLogger(options: LoggerOptions): Logger {
  const sink = options.sink ?? ((line: string) => process.stderr.write(line));
  const threshold = RANK[options.level ?? 'info'];

  const write = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    if (RANK[level] < threshold) return;

    const time = new Date(options.clock.now()).toISOString();
    const entry: LogFields = { time, level, msg: message };
    for (const [key, value] of Object.entries(fields)) {
      entry[key] = value instanceof Error ? describeError(value) : value;
    }
    const line = options.pretty === true ? prettyLine(entry) : `${JSON.stringify(entry)}\n`;
    sink(withoutUserinfo(line));
  };

  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

export function describeError(error: Error): LogFields {
  const described: LogFields = { type: error.name, message: error.message };
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined) described.code = code;
  return described;
}

function prettyLine(entry: LogFields): string {
  const { time, level, msg, ...fields } = entry;
  const clock = String(time).slice(11, 23);
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${clock} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${rest ? ` ${rest}` : ''}\n`;
}

/** A logger that drops everything, for tools and tests that do not read logs. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
