import { ingestKey, type AppContext } from './app.js';
import { ApiKeys } from './auth.js';
import type { Clock } from './clock.js';
import { reloadedConfig, settingChanges } from './config-reload.js';
import { describeProblem } from './config-schema.js';
import { reconcileConfigTargets } from './config-targets.js';
import { ConfigError, openAccessWarnings } from './config.js';
import type { Config } from './defaults.js';
import type { DeliveryClient } from './delivery-client.js';
import type { Dispatcher } from './dispatcher.js';
import { FailureLimiter } from './failure-limiter.js';
import type { Maintenance } from './maintenance.js';
import type { RelayMetrics } from './relay-metrics.js';
import type { RelayState } from './state.js';
import type { Store } from './store.js';
import { compileUrlPolicy } from './target-url.js';

/** The parts of a running relay whose settings a reload changes. */
export interface LiveParts {
  context: AppContext;
  dispatcher: Dispatcher;
  store: Store;
  state: RelayState;
  maintenance: Maintenance;
  /** Null when a sender was injected in its place. */
  client: DeliveryClient | null;
  clock: Clock;
  metrics: RelayMetrics;
}

export interface ReloadReport {
  /** True when the new config is in force in full. */
  applied: boolean;
  /** Why the new config was refused, one problem each, as the log shows them. */
  problems: string[];
  /** Keys of the settings that changed live (names only: some values are secrets). */
  changed: string[];
  /** Keys of the settings whose new value waits for a restart. */
  needsRestart: string[];
  targets: { created: number; updated: number; deleted: number } | null;
}

/**
 * Applies new configs to a running relay, one reload at a time, each against the config the
 * one before left in force. A config with any problem is refused whole. Otherwise the settings
 * change first (in memory, so nothing can fail), then the config targets, which are written to
 * the data file; should a write fail, the report says so, and the next reload finishes the job,
 * since reconciling only does what is still different.
 */
export class Reloader {
  private running: Config;
  private load: () => Config;
  private readonly inTurn: () => Promise<ReloadReport>;
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    initial: Config,
    private readonly live: LiveParts,
  ) {
    this.running = initial;
    this.load = () => initial;
    this.inTurn = oneAtATime(() => this.run());
  }

  /** The config in force. */
  get config(): Config {
    return this.running;
  }

  /** Reloads with `load`, which reads and checks the new config, throwing ConfigError if bad. */
  reload(load: () => Config): Promise<ReloadReport> {
    this.load = load;
    const report = this.inTurn();
    this.last = report;
    return report;
  }

  /** Resolves once no reload is under way or waiting. */
  async idle(): Promise<void> {
    await this.last.catch(() => {});
  }

  private async run(): Promise<ReloadReport> {
    const { context, metrics, clock } = this.live;
    if (!context.serving) {
      context.logger.warn('config reload ignored: the relay is closing');
      return notApplied(['the relay is closing']);
    }
    const report = await this.apply();
    metrics.lastReloadSucceeded = report.applied;
    if (report.applied) metrics.lastReloadAt = clock.now();
    return report;
  }

  private async apply(): Promise<ReloadReport> {
    const logger = this.live.context.logger;
    let next: Config;
    try {
      next = this.load();
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems.map(describeProblem) : [];
      return refused(problems.length > 0 ? problems : [String(error)], this.live);
    }

    const changes = settingChanges(this.running, next);
    for (const key of changes.needsRestart) {
      logger.warn('config setting needs a restart to change; the running value is kept', { key });
    }
    const config = reloadedConfig(this.running, next);
    applyLiveSettings(this.live, this.running, config);
    this.running = config;

    const changed = { changed: changes.live, needsRestart: changes.needsRestart };
    let targets;
    try {
      targets = await reconcileConfigTargets(this.live.store, config.targets);
    } catch (error) {
      logger.error('config reload could not change every config target; reload again to finish', {
        err: error,
      });
      return { ...notApplied([]), ...changed };
    }
    // A config target that no longer asks for ordered delivery releases what it held.
    for (const target of this.live.state.targets.values()) {
      if (target.managedBy === 'config') this.live.dispatcher.targetChanged(target);
    }
    logger.info('config reloaded', { ...changed, targets });
    for (const warning of openAccessWarnings(config)) logger.warn(warning);
    return { applied: true, problems: [], ...changed, targets };
  }
}

/** Hands each part its new settings; each reads them again on its next use. */
function applyLiveSettings(live: LiveParts, running: Config, config: Config): void {
  const { context } = live;
  const policy = compileUrlPolicy(config.security);
  context.policy = policy;
  live.client?.setPolicy(policy);
  context.keys = new ApiKeys(config.apiKeys);
  context.ingestKey = ingestKey(config.ingest.secret);
  context.maxBodyBytes = config.ingest.maxBodyBytes;
  // A new budget starts afresh, so the limiters are only replaced when the budget changed.
  const perMinute = config.security.maxAuthFailuresPerMinute;
  if (perMinute !== running.security.maxAuthFailuresPerMinute) {
    context.authFailures = new FailureLimiter(perMinute, live.clock);
    context.signatureFailures = new FailureLimiter(perMinute, live.clock);
  }

  live.dispatcher.configure(config.delivery);
  live.store.secretOverlapMs = config.delivery.secretOverlapMs;
  live.state.historyCap = config.history.maxPerTarget;
  live.maintenance.configure(config.history, config.compaction);
}

function refused(problems: string[], live: LiveParts): ReloadReport {
  const logger = live.context.logger;
  for (const problem of problems) logger.error('config problem', { problem });
  logger.error('config reload refused; the running config is kept', { problems: problems.length });
  return notApplied(problems);
}

function notApplied(problems: string[]): ReloadReport {
  return { applied: false, problems, changed: [], needsRestart: [], targets: null };
}

/**
 * Runs `task` one run at a time. A call while a run is under way gets the next run, which starts
 * when the current one ends; every call made before that next run starts shares it, so a burst
 * of reload signals reads the config file once more, not once per signal.
 */
export function oneAtATime<T>(task: () => Promise<T>): () => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  let notStarted: Promise<T> | null = null;
  return () => {
    if (notStarted !== null) return notStarted;
    const run = last
      .catch(() => {})
      .then(() => {
        notStarted = null;
        return task();
      });
    notStarted = run;
    last = run;
    return run;
  };
}
