/**
 * Every default the relay has, in one place. The config loader fills missing keys from here and
 * a test holds the README's config table to these values.
 */

export const SCOPES = ['read:webhooks', 'write:webhooks'] as const;
export type Scope = (typeof SCOPES)[number];

/** Tiled's event types (tiled/server/schemas.py, EventType). A target's filter names these. */
export const EVENT_TYPES = [
  'container-child-created',
  'container-child-metadata-updated',
  'stream-closed',
] as const;

export interface ApiKeyConfig {
  key: string;
  scopes: Scope[];
}

export interface TargetConfig {
  name: string;
  path: string;
  url: string;
  secret: string | null;
  events: string[] | null;
  ordered: boolean;
}

export interface Config {
  listen: {
    host: string;
    port: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    maxConnections: number;
    maxHeaders: number;
  };
  /** Absolute once loaded; a relative path in the file is taken from the config's folder. */
  dataFile: string;
  apiKeys: ApiKeyConfig[];
  secretKeys: string[];
  ingest: { secret: string | null; maxBodyBytes: number };
  delivery: {
    timeoutMs: number;
    retryDelaysMs: number[];
    jitterMs: number;
    maxRetryAfterMs: number;
    concurrency: number;
    perTargetConcurrency: number;
    disableAfterMs: number;
    secretOverlapMs: number;
  };
  security: {
    allowHttp: boolean;
    allowPrivateAddresses: boolean;
    allowHosts: string[];
    blockNetworks: string[];
    maxAuthFailuresPerMinute: number;
  };
  history: { retentionDays: number; maxPerTarget: number };
  compaction: { ratio: number; minBytes: number; checkIntervalMs: number };
  targets: TargetConfig[];
}

export const DEFAULTS: Config = {
  listen: {
    host: '127.0.0.1',
    port: 8787,
    // Slow clients (slowloris) are cut off with 408 after these; Node checks them every second.
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    maxConnections: 1_024,
    // More headers than this are refused with 431; Node alone would drop the extra ones silently.
    maxHeaders: 100,
  },
  dataFile: 'data/hookrelay.jsonl',
  apiKeys: [],
  secretKeys: [],
  ingest: { secret: null, maxBodyBytes: 1_048_576 },
  delivery: {
    timeoutMs: 10_000,
    // Tiled's documented schedule: retries after 1 s, 5 s and 25 s, each plus up to 1 s.
    retryDelaysMs: [1_000, 5_000, 25_000],
    jitterMs: 1_000,
    maxRetryAfterMs: 3_600_000,
    concurrency: 256,
    perTargetConcurrency: 16,
    // A target whose every attempt failed for this long is disabled (0: never); 5 days.
    disableAfterMs: 432_000_000,
    // A replaced target secret keeps signing beside the new one for this long; 24 hours.
    secretOverlapMs: 86_400_000,
  },
  security: {
    allowHttp: false,
    allowPrivateAddresses: false,
    allowHosts: [],
    blockNetworks: [],
    maxAuthFailuresPerMinute: 10,
  },
  history: { retentionDays: 30, maxPerTarget: 10_000 },
  compaction: { ratio: 2, minBytes: 16_777_216, checkIntervalMs: 60_000 },
  targets: [],
};

/** Defaults for the optional keys of one entry of `targets`. */
export const TARGET_DEFAULTS: Omit<TargetConfig, 'name' | 'url'> = {
  path: '',
  secret: null,
  events: null,
  ordered: false,
};

/**
 * Stopping on SIGTERM or SIGINT. Requests and delivery attempts under way share `graceMs`,
 * counted once from the signal; then the data file takes its last writes. The process exits at
 * `limitMs` after the signal whatever is still under way (a compaction, a stalled disk): that is
 * as safe as a crash, which the data file survives at every step.
 */
export const SHUTDOWN = { graceMs: 2_000, limitMs: 3_000 } as const;

/** Request body limit for the admin API; events go through `ingest.maxBodyBytes` instead. */
export const ADMIN_MAX_BODY_BYTES = 65_536;

/**
 * Deepest nesting accepted in JSON bodies. Events get room for deep metadata; admin requests
 * are flat objects.
 */
export const MAX_JSON_DEPTH = { event: 256, admin: 32 } as const;

/** How much of a target's answer is kept in `error_detail` (Tiled keeps 256 characters). */
export const ERROR_DETAIL_CHARS = 256;

/** History `limit`: default and bounds, as Tiled's endpoint. */
export const HISTORY_LIMIT = { default: 50, min: 1, max: 500 } as const;

/**
 * `GET /api/v1/activity`: the window in minutes and the buckets it is split into, each with its
 * default and bounds. A day in 5-minute buckets is the most it serves.
 */
export const ACTIVITY_LIMITS = {
  minutes: { default: 60, min: 1, max: 1_440 },
  buckets: { default: 12, min: 1, max: 288 },
} as const;

/**
 * Upper bounds of the buckets of `hookrelay_fsync_duration_seconds`, from a fast SSD's 100 µs to
 * a stalled disk's seconds.
 */
export const FSYNC_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;
