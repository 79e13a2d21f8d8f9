import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler, ingestKey, type AppContext } from './app.js';
import { ApiKeys } from './auth.js';
import { systemClock, type Clock } from './clock.js';
import { reconcileConfigTargets } from './config-targets.js';
import { openAccessWarnings } from './config.js';
import { SHUTDOWN, type Config } from './defaults.js';
import { DeliveryClient } from './delivery-client.js';
import { Dispatcher, type Sender } from './dispatcher.js';
import { FailureLimiter } from './failure-limiter.js';
import type { FileSystem } from './files.js';
import { Journal } from './journal.js';
import { Maintenance } from './maintenance.js';
import { silentLogger, type Logger } from './log.js';
import { RelayMetrics } from './relay-metrics.js';
import { Reloader, type ReloadReport } from './reloader.js';
import { SecretBox } from './secret-box.js';
import { RelayState } from './state.js';
import { Store } from './store.js';
import { compileUrlPolicy, systemResolver, type Resolver } from './target-url.js';

/**
 * Everything the relay is made of can be replaced here; tests swap the clock, the
 * files and the network.
 */
export interface RelayOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  files?: FileSystem;
  resolve?: Resolver;
  sender?: Sender;
  random?: () => number;
  /** Called when the data file can no longer be kept consistent; the process should exit. */
  onFatal?: (error: Error) => void;
  /** How long closing waits for requests and delivery attempts under way, all together. */
  shutdownGraceMs?: number;
}

export interface Relay {
  /** Where the relay listens, e.g. http://127.0.0.1:8787. */
  url: string;
  store: Store;
  dispatcher: Dispatcher;
  journal: Journal;
  maintenance: Maintenance;
  metrics: RelayMetrics;
  /** The config in force: the one the relay started with, as reloads have changed it. */
  readonly config: Config;
  /**
   * Loads the config again with `load` and applies it: config targets are reconciled, settings
   * that can change live do, the others wait for a restart. A config that `load` refuses changes
   * nothing. Reloads run one at a time; calls made during one share the next.
   */
  reload(load: () => Config): Promise<ReloadReport>;
  /**
   * Stops accepting, lets requests and attempts under way finish within one grace period, and
   * closes the file. A compaction under way gives up at its next chunk, before its switch. The
   * CLI does not wait past SHUTDOWN.limitMs.
   */
  close(): Promise<void>;
}

/** The composition root: reads the data file, wires the parts together and starts serving. */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = new RelayMetrics(clock.now());

  const box = new SecretBox(config.secretKeys);
  const state = new RelayState(box, config.history.maxPerTarget);
  const { journal } = await Journal.open(config.dataFile, {
    clock,
    logger,
    onRecord: (record, bytes) => state.apply(record, bytes),
    onFatal:
      options.onFatal ?? ((error) => logger.error('data file is inconsistent', { err: error })),
    ...(options.files ? { files: options.files } : {}),
  });
  journal.onSync = (seconds) => metrics.fsyncSeconds.observe(seconds);
  const store = new Store(state, journal, box, clock, logger);
  store.secretOverlapMs = config.delivery.secretOverlapMs;
  const reconciled = await reconcileConfigTargets(store, config.targets);
  if (reconciled.created + reconciled.updated + reconciled.deleted > 0) {
    logger.info('config targets reconciled', reconciled);
  }
  const maintenance = new Maintenance({
    state,
    journal,
    clock,
    logger,
    history: config.history,
    compaction: config.compaction,
  });
  maintenance.prune();
  warnAboutSettings(config, state, box, logger);

  const policy = compileUrlPolicy(config.security);
  const resolve = options.resolve ?? systemResolver;
  const client = options.sender ? null : new DeliveryClient({ clock, policy, resolve });
  const dispatcher = new Dispatcher({
    store,
    sender: options.sender ?? (client as DeliveryClient),
    clock,
    logger,
    settings: config.delivery,
    metrics,
    ...(options.random ? { random: options.random } : {}),
  });
  const pending = state.pending();
  dispatcher.restore(pending);
  maintenance.start();

  const context: AppContext = {
    store,
    dispatcher,
    clock,
    logger,
    metrics,
    journal,
    serving: true,
    keys: new ApiKeys(config.apiKeys),
    authFailures: new FailureLimiter(config.security.maxAuthFailuresPerMinute, clock),
    signatureFailures: new FailureLimiter(config.security.maxAuthFailuresPerMinute, clock),
    policy,
    resolve,
    ingestKey: ingestKey(config.ingest.secret),
    maxBodyBytes: config.ingest.maxBodyBytes,
    maxHeaders: config.listen.maxHeaders,
  };
  const server = createHttpServer(config.listen, createHandler(context));
  const url = await listen(server, config.listen.host, config.listen.port);
  const graceMs = options.shutdownGraceMs ?? SHUTDOWN.graceMs;

  logger.info('hookrelay listening', {
    url,
    ingest: `${url}/ingest`,
    dataFile: config.dataFile,
    targets: state.targets.size,
    pending: pending.length,
  });

  const reloader = new Reloader(config, {
    context,
    dispatcher,
    store,
    state,
    maintenance,
    client,
    clock,
    metrics,
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      context.serving = false;
      // One deadline for the requests and the attempts together, so a slow client and a hung
      // receiver do not each get a grace period of their own.
      const deadline = Date.now() + graceMs;
      const left = (): number => Math.max(0, deadline - Date.now());
      journal.abandonCompaction();
      const maintenanceStopped = maintenance.stop();
      await stopServer(server, left());
      await reloader.idle();
      await dispatcher.stop(left());
      client?.close();
      // A compaction under way gives up at its next chunk; the data file stays as it was.
      await maintenanceStopped;
      await journal.close();
      logger.info('hookrelay stopped', { pending: state.pending().length });
    })();
    return closing;
  };

  return {
    url,
    store,
    dispatcher,
    journal,
    maintenance,
    metrics,
    get config() {
      return reloader.config;
    },
    reload: (load) => reloader.reload(load),
    close,
  };
}

/**
 * node:http with the limits a public endpoint needs: slow clients are cut off (the timeouts are
 * only checked every connectionsCheckingInterval, 30 s by default), connections are capped, and
 * one header more than allowed is kept so that too many can be told from just enough.
 */
function createHttpServer(settings: Config['listen'], handler: RequestListener): Server {
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, settings.headersTimeoutMs / 2),
    },
    handler,
  );
  server.maxConnections = settings.maxConnections;
  server.maxHeadersCount = settings.maxHeaders + 1;
  return server;
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}`);
    });
  });
}

/** Stops accepting connections, waits for requests under way, then drops what is left. */
function stopServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function warnAboutSettings(
  config: Config,
  state: RelayState,
  box: SecretBox,
  logger: Logger,
): void {
  for (const warning of openAccessWarnings(config)) logger.warn(warning);
  if (!box.encrypts) {
    logger.warn('no secretKeys configured: target secrets are stored unencrypted in the data file');
  }
  for (const target of state.targets.values()) {
    if (target.secretUnreadable) {
      logger.warn(
        'a target secret cannot be decrypted with the configured secretKeys; its deliveries fail',
        { target: target.id },
      );
    }
  }
}
