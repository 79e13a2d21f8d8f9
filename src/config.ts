import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import {
  boolean,
  describeProblem,
  fail,
  integer,
  listOf,
  nullable,
  oneOf,
  positiveNumber,
  section,
  string,
  unique,
  type Context,
  type Problem,
  type Rule,
} from './config-schema.js';
import {
  DEFAULTS,
  EVENT_TYPES,
  SCOPES,
  TARGET_DEFAULTS,
  type Config,
  type TargetConfig,
} from './defaults.js';
import { HttpError } from './errors.js';
import { tryParseNetwork } from './address-policy.js';
import { normalisePath } from './matching.js';
import {
  compileUrlPolicy,
  judgeTargetAddress,
  parseTargetUrl,
  urlHost,
  type UrlPolicy,
} from './target-url.js';

export class ConfigError extends Error {
  readonly problems: readonly Problem[];

  constructor(file: string, problems: Problem[]) {
    const lines = problems.map((problem) => `  - ${describeProblem(problem)}`);
    super(
      `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;
const DAY_MS = 86_400_000;
const SECRET_KEY = string({ minLength: 16, expected: 'a key of at least 16 characters' });

/** An entry of security.allowHosts: a host name, an IP address or a network in CIDR form. */
const hostOrNetwork: Rule<string> = (value, key, context) => {
  const expected = 'a host name, an IP address or a network such as 10.0.0.0/8';
  if (typeof value !== 'string') return fail(context, key, value, expected);
  const bare = value.replace(/^\[|\]$/g, '');
  const valid = value.includes('/')
    ? tryParseNetwork(bare) !== null
    : isIP(bare) !== 0 || HOST_NAME.test(value);
  return valid ? value : fail(context, key, value, expected);
};

/**
 * A target URL, checked as the API checks one, except that host names are not resolved:
 * they are checked when they are dialled, so DNS trouble cannot stop the relay from starting.
 */
function targetUrl(policy: UrlPolicy): Rule<string> {
  return (value, key, context) => {
    try {
      const url = parseTargetUrl(value, policy);
      const host = urlHost(url);
      const verdict = isIP(host) === 0 ? { allowed: true } : judgeTargetAddress(policy, host, host);
      return verdict.allowed
        ? (value as string)
        : fail(context, key, value, `a public address (${host} is ${verdict.reason})`);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return fail(context, key, value, error.message.replace(/\.$/, ''));
    }
  };
}

function targetRule(policy: UrlPolicy): Rule<TargetConfig> {
  return section<TargetConfig>(
    {
      name: string({
        pattern: /^[A-Za-z0-9._-]{1,64}$/,
        expected: '1-64 letters, digits, ".", "_" or "-"',
      }),
      path: string({ minLength: 0 }),
      url: targetUrl(policy),
      secret: nullable(string()),
      events: nullable(listOf(oneOf(EVENT_TYPES), { maxItems: EVENT_TYPES.length * 4 })),
      ordered: boolean,
    },
    TARGET_DEFAULTS,
  );
}

/** An entry of security.blockNetworks: an address or a network in CIDR form. */
const network: Rule<string> = (value, key, context) =>
  typeof value === 'string' && tryParseNetwork(value.replace(/^\[|\]$/g, '')) !== null
    ? value
    : fail(context, key, value, 'an IP address or a network such as 10.20.0.0/16');

const securityRule = section<Config['security']>(
  {
    allowHttp: boolean,
    allowPrivateAddresses: boolean,
    allowHosts: listOf(hostOrNetwork),
    blockNetworks: listOf(network),
    maxAuthFailuresPerMinute: integer(1, 100_000),
  },
  DEFAULTS.security,
);

function configRule(policy: UrlPolicy): Rule<Config> {
  return section<Config>(
    {
      listen: section(
        {
          host: string(),
          port: integer(0, 65_535),
          headersTimeoutMs: integer(100, 600_000),
          requestTimeoutMs: integer(100, 3_600_000),
          maxConnections: integer(1, 1_000_000),
          maxHeaders: integer(10, 1_000),
        },
        DEFAULTS.listen,
      ),
      dataFile: string(),
      apiKeys: unique(
        listOf(
          section({
            key: SECRET_KEY,
            scopes: listOf(oneOf(SCOPES), { minItems: 1, maxItems: SCOPES.length }),
          }),
          { maxItems: 1_000 },
        ),
        'key',
      ),
      secretKeys: listOf(SECRET_KEY, { maxItems: 100 }),
      ingest: section(
        { secret: nullable(string()), maxBodyBytes: integer(1_024, 67_108_864) },
        DEFAULTS.ingest,
      ),
      delivery: section(
        {
          timeoutMs: integer(1, 600_000),
          retryDelaysMs: listOf(integer(0, 30 * DAY_MS), { maxItems: 100 }),
          jitterMs: integer(0, DAY_MS),
          maxRetryAfterMs: integer(0, 30 * DAY_MS),
          concurrency: integer(1, 100_000),
          perTargetConcurrency: integer(1, 10_000),
          disableAfterMs: integer(0, 365 * DAY_MS),
          secretOverlapMs: integer(0, 365 * DAY_MS),
        },
        DEFAULTS.delivery,
      ),
      security: securityRule,
      history: section(
        { retentionDays: positiveNumber(36_500), maxPerTarget: integer(1, 10_000_000) },
        DEFAULTS.history,
      ),
      compaction: section(
        {
          ratio: positiveNumber(1_000),
          minBytes: integer(0, 2 ** 50),
          checkIntervalMs: integer(100, DAY_MS),
        },
        DEFAULTS.compaction,
      ),
      targets: unique(listOf(targetRule(policy), { maxItems: 10_000 }), 'name'),
    },
    DEFAULTS,
  );
}

/** What a valid config leaves open, worth a warning in the log each time it is loaded. */
export function openAccessWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.ingest.secret === null) {
    warnings.push(
      'ingest.secret is not set: /ingest accepts unsigned events from anyone who can reach it',
    );
  }
  if (config.apiKeys.length === 0) {
    warnings.push('no apiKeys configured: the admin API refuses every request');
  }
  return warnings;
}

/** Reads, substitutes and validates a config file; throws ConfigError listing every problem. */
export function loadConfig(file: string, environment: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(file, [
      { key: '(file)', value: file, expected: `a readable file (${reason})` },
    ]);
  }
  return parseConfig(text, file, environment);
}

export function parseConfig(text: string, file: string, environment: NodeJS.ProcessEnv): Config {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const problem = { key: '(file)', value: syntaxError(error as Error), expected: 'valid JSON' };
    throw new ConfigError(file, [problem]);
  }

  const context: Context = { problems: [], substituted: new Set() };
  const substituted = substitute(raw, '', environment, context);
  const config = configRule(targetPolicy(substituted, context))(substituted, '', context);
  if (config !== undefined && config.listen.headersTimeoutMs > config.listen.requestTimeoutMs) {
    const expected = `at most listen.requestTimeoutMs (${config.listen.requestTimeoutMs})`;
    fail(context, 'listen.headersTimeoutMs', config.listen.headersTimeoutMs, expected);
  }
  if (config === undefined || context.problems.length > 0) {
    throw new ConfigError(file, context.problems);
  }

  config.dataFile = resolve(dirname(resolve(file)), config.dataFile);
  for (const target of config.targets) {
    target.path = normalisePath(target.path).join('/');
    if (target.events?.length === 0) target.events = null;
  }
  return config;
}

/**
 * JSON.parse's message, less the excerpt of the text that V8 quotes in some of them: it may be a
 * secret written without quotes. The other messages give a position and no text.
 */
function syntaxError(error: Error): string {
  if (!error.message.endsWith(' is not valid JSON')) return error.message;
  return 'an unexpected token (the text around it is not shown, as it may hold a secret)';
}

/** Replaces every "${NAME}" inside a string with the environment variable NAME. */
function substitute(
  value: unknown,
  key: string,
  environment: NodeJS.ProcessEnv,
  context: Context,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    (context.substituted as Set<string>).add(key);
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const found = environment[name];
      if (found !== undefined) return found;
      context.problems.push({
        key,
        value: whole,
        expected: `the environment variable ${name} to be set`,
      });
      return whole;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => substitute(item, `${key}[${index}]`, environment, context));
  }
  if (typeof value === 'object' && value !== null) {
    const prefix = key === '' ? '' : `${key}.`;
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [
        name,
        substitute(item, `${prefix}${name}`, environment, context),
      ]),
    );
  }
  return value;
}

/**
 * The URL policy that config targets are held to. Problems in `security` itself are reported
 * when the whole config is checked; here the defaults stand in for a section that is wrong.
 */
function targetPolicy(raw: unknown, context: Context): UrlPolicy {
  const scratch: Context = { problems: [], substituted: context.substituted };
  const security =
    typeof raw === 'object' && raw !== null ? (raw as { security?: unknown }).security : undefined;
  return compileUrlPolicy(
    (security !== undefined && securityRule(security, 'security', scratch)) || DEFAULTS.security,
  );
}
