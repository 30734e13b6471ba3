import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDurableClientPayload } from './durable/bindingPayload.js';
import type { DurableBackend } from './durable/backend.js';
import { VirtualClock, SystemClock, type Clock } from './durable/clock.js';
import { DurableEngine } from './durable/engine.js';
import type { WireTotals } from './durable/wireMeter.js';
import { loadFunctionsApp } from './functions/appLoader.js';
import { applyLocalSettings } from './functions/appSettings.js';
import { WorkerInvoker } from './functions/workerInvoker.js';
import type { FunctionInvoker, InvocationInput, InvocationOutput, LogLevel } from './functions/types.js';
import { readHostConfig } from './hostConfig.js';
import { lockStateDir } from './stateLock.js';
import { loadOrCreateKeys } from './http/keys.js';
import { listHttpRoutes, startHttpServer } from './http/server.js';
import { consoleLog, type HostLog } from './log.js';
import { ensureAzurite } from './storage/azurite.js';
import { startQueueTriggers } from './storage/queueTrigger.js';
import { startTimerTriggers } from './timerTrigger.js';

export interface DevHostOptions {
  /** Folder with host.json and a package.json whose "main" is the compiled entry. */
  appDir: string;
  /** HTTP port on 127.0.0.1; 0 picks a free one. Default 7071. */
  port?: number;
  /** Durable state (SQLite), keys and Azurite data. Default `<appDir>/.state`. */
  stateDir?: string;
  /** Durable time runs this many times faster than real time. Default 1. */
  timeScale?: number;
  /** When nothing can run, jump durable time to the next timer. Default false. */
  skipIdleTime?: boolean;
  /** All new events per orchestrator episode (as the extension does) or one per episode. */
  replayMode?: 'batched' | 'eventByEvent';
  /** Replay schema the host offers the orchestrator (V2–V4). Default 3, as the extension sends today. */
  schemaVersion?: 2 | 3 | 4;
  /**
   * Where the app's code runs: 'thread' (default) in a language worker thread beside the host, as the
   * Functions host runs a Node worker process, so host and app use separate cores; 'inline' on the
   * host's own thread (one app per process).
   */
  languageWorker?: 'thread' | 'inline';
  /** 'auto' starts Azurite when AzureWebJobsStorage is UseDevelopmentStorage=true. Default 'auto'. */
  azurite?: 'auto' | 'off';
  /** The durable engine's time source; replaces `timeScale`/`skipIdleTime` (a test clock that fast-forwards). */
  clock?: Clock;
  /**
   * Sees every invocation the durable engine makes (orchestrator episodes and activities) and may answer
   * it instead of the app (`next` runs the app's function): test doubles for activities, as Temporal's
   * test environment offers. HTTP, queue and timer triggers are not affected.
   */
  interceptDurableInvocation?: DurableInvocationInterceptor;
  log?: HostLog;
}

export type DurableInvocationInterceptor = (
  functionName: string,
  input: InvocationInput,
  next: (input: InvocationInput) => Promise<InvocationOutput>,
) => Promise<InvocationOutput>;

/** The invoker the durable engine uses: the app's, or the app's behind `intercept`. */
function durableInvoker(invoker: FunctionInvoker, intercept?: DurableInvocationInterceptor): FunctionInvoker {
  if (!intercept) return invoker;
  return {
    registrations: invoker.registrations,
    invoke: (name, input) => intercept(name, input, (next) => invoker.invoke(name, next)),
  };
}

export interface DevHostKeys {
  masterKey: string;
  functionKey: string;
  systemKey: string;
}

export interface DevHost {
  url: string;
  /**
   * The origin of the webhook links the app's durable client gets (its "public" origin): unreachable on
   * purpose (bindingPayload.ts `advertisedWebhookOrigin`); the same routes are served at `url`.
   */
  webhookOrigin: string;
  port: number;
  keys: DevHostKeys;
  backend: DurableBackend;
  /**
   * Orchestrator channel totals since start: replay payloads and answers as devhost exchanged them and
   * as the Durable extension would, with every stored input (durable/wireMeter.ts). For benchmarks.
   */
  wireTotals(): WireTotals;
  /** The routes and keys, printed the way `func start` prints its functions. */
  describe(): string;
  stop(): Promise<void>;
}

/** Starts the app on a local Functions + Durable host; everything is stopped by `stop()`. */
export async function startDevHost(options: DevHostOptions): Promise<DevHost> {
  const appDir = path.resolve(options.appDir);
  const stateDir = path.resolve(options.stateDir ?? path.join(appDir, '.state'));
  mkdirSync(stateDir, { recursive: true });
  const lock = lockStateDir(stateDir);
  const log = options.log ?? consoleLog();
  const stoppers: (() => Promise<void>)[] = [() => Promise.resolve(lock.release())];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch (error) {
        log('error', `Error while stopping: ${String(error)}`);
      }
    }
  };

  try {
    applyLocalSettings(appDir, log);
    // AzureFunctionsJobHost__ overrides and a %SETTING% hubName read the app settings, as on Azure.
    const config = readHostConfig(appDir, os.availableParallelism());
    if (process.env.AzureWebJobsStorage === undefined) {
      // As a fresh `func init` app does (local.settings.json): the local storage emulator.
      process.env.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
      log('information', 'AzureWebJobsStorage is not set; using UseDevelopmentStorage=true (Azurite).');
    }
    if ((options.azurite ?? 'auto') === 'auto') {
      const azurite = await ensureAzurite({
        dataDir: path.join(stateDir, 'azurite'),
        log: (level, message) => log(level, message),
      });
      stoppers.push(() => azurite.stop());
    }

    const invoker =
      (options.languageWorker ?? 'thread') === 'thread'
        ? await WorkerInvoker.start(appDir, { count: workerCount(), log })
        : await loadFunctionsApp(appDir, { log });
    if (invoker instanceof WorkerInvoker) stoppers.push(() => invoker.stop());
    invoker.functionTimeoutMs = config.functionTimeoutMs;
    const keys = await loadOrCreateKeys(stateDir);
    const clock =
      options.clock ??
      ((options.timeScale ?? 1) === 1 && !options.skipIdleTime
        ? new SystemClock()
        : new VirtualClock({
            timeScale: options.timeScale ?? 1,
            skipIdleTime: options.skipIdleTime ?? false,
          }));

    const engine = DurableEngine.open({
      stateDir,
      invoker: durableInvoker(invoker, options.interceptDurableInvocation),
      taskHubName: config.taskHubName,
      maxConcurrentActivityFunctions: config.maxConcurrentActivityFunctions,
      maxConcurrentOrchestratorFunctions: config.maxConcurrentOrchestratorFunctions,
      clock,
      replayMode: options.replayMode ?? 'batched',
      schemaVersion: options.schemaVersion ?? 3,
      versioning: config.versioning,
      log: (line: string) => log('information', line),
    });
    stoppers.push(() => engine.stop());

    const server = await startHttpServer({
      port: options.port ?? 7071,
      routePrefix: config.routePrefix,
      invoker,
      backend: engine,
      keys,
      log: (line: string) => log('debug', line),
      durableClientPayload: ({ webhookOrigin, rpcOrigin }) =>
        buildDurableClientPayload({
          origin: webhookOrigin,
          rpcOrigin,
          taskHubName: config.taskHubName,
          systemKey: keys.systemKeys.durabletask_extension,
        }),
    });
    stoppers.push(() => server.close());
    invoker.durableClientPayload = server.durableClientPayload;

    engine.start();
    const queueTriggers = startQueueTriggers({ invoker, hostJson: config.raw, log });
    stoppers.push(() => queueTriggers.stop());
    const timers = startTimerTriggers({ invoker, log });
    stoppers.push(() => timers.stop());

    const routes = listHttpRoutes(invoker, config.routePrefix, server.url);
    const hostKeys: DevHostKeys = {
      masterKey: keys.masterKey,
      functionKey: keys.functionKeys.default,
      systemKey: keys.systemKeys.durabletask_extension,
    };
    log('information', `Host started on ${server.url} (state: ${stateDir})`);
    return {
      url: server.url,
      webhookOrigin: server.webhookOrigin,
      port: server.port,
      keys: hostKeys,
      backend: engine,
      wireTotals: () => engine.wireTotals(),
      describe: () => describeHost(server.url, routes, hostKeys),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** FUNCTIONS_WORKER_PROCESS_COUNT, as the Functions host reads it: 1 to 10 workers, default 1. */
function workerCount(): number {
  const text = process.env.FUNCTIONS_WORKER_PROCESS_COUNT;
  if (text === undefined || text === '') return 1;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 10) {
    throw new Error(`FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number from 1 to 10 (got "${text}").`);
  }
  return count;
}

function describeHost(
  url: string,
  routes: { name: string; methods: string[]; url: string; authLevel: string }[],
  keys: DevHostKeys,
): string {
  const lines = ['', 'Functions:', ''];
  for (const route of routes) {
    const key =
      route.authLevel === 'admin' ? keys.masterKey : route.authLevel === 'function' ? keys.functionKey : '';
    lines.push(`  ${route.name}: [${route.methods.join(',')}] ${route.url}${key ? `?code=${key}` : ''}`);
  }
  lines.push('', `Durable HTTP API: ${url}/runtime/webhooks/durabletask/ (code=${keys.systemKey})`, '');
  return lines.join('\n');
}

export type { Clock, LogLevel };
