import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { VersioningOptions } from './durable/versioning.js';

const TimeSpan = z
  .string()
  .regex(/^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$/, 'expected a TimeSpan like "00:05:00" or "1.00:00:00"');

/**
 * An enum option bound by .NET configuration, which matches names ignoring case; returns the
 * canonical name.
 */
function dotNetEnum<const T extends string>(option: string, names: readonly T[]) {
  return z
    .string()
    .transform((value, ctx) => {
      const name = names.find((n) => n.toLowerCase() === value.trim().toLowerCase());
      if (name === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${option} must be one of ${names.join(', ')}; got "${value}"`,
        });
        return z.NEVER;
      }
      return name;
    })
    .optional();
}

const HUB_NAME = /^[A-Za-z][A-Za-z0-9]{2,49}$/;
const HUB_NAME_RULE = '3-50 letters or digits, starting with a letter';

/** The parts of host.json the devhost honours; everything else is accepted and ignored. */
const HostJson = z.looseObject({
  version: z.literal('2.0', { error: 'host.json "version" must be "2.0"' }),
  functionTimeout: TimeSpan.optional(),
  /**
   * How the host emits its own telemetry: `ApplicationInsights` (the default) or `OpenTelemetry`
   * (https://learn.microsoft.com/azure/azure-functions/opentelemetry-howto and
   * https://learn.microsoft.com/azure/azure-functions/functions-host-json#telemetrymode); the host binds
   * it to an enum through .NET configuration, which ignores case. devhost emits no host telemetry of its
   * own (the app's spans go where the app's OTEL_* settings say) and only checks the value.
   */
  telemetryMode: z
    .string()
    .refine((mode) => /^(ApplicationInsights|OpenTelemetry)$/i.test(mode), {
      error: 'telemetryMode must be "ApplicationInsights" or "OpenTelemetry"',
    })
    .optional(),
  extensions: z
    .looseObject({
      http: z.looseObject({ routePrefix: z.string().optional() }).optional(),
      queues: z
        .looseObject({
          maxDequeueCount: z.number().int().min(1).optional(),
          visibilityTimeout: TimeSpan.optional(),
          batchSize: z.number().int().min(1).max(32).optional(),
          newBatchThreshold: z.number().int().min(0).optional(),
          maxPollingInterval: TimeSpan.optional(),
          messageEncoding: z.enum(['base64', 'none']).optional(),
        })
        .optional(),
      durableTask: z
        .looseObject({
          hubName: z
            .string()
            .refine((name) => HUB_NAME.test(name) || /^%[^%]+%$/.test(name), {
              error: `hubName: ${HUB_NAME_RULE}, or one whole %APP_SETTING% reference`,
            })
            .optional(),
          maxConcurrentActivityFunctions: z.number().int().min(1).optional(),
          maxConcurrentOrchestratorFunctions: z.number().int().min(1).optional(),
          /** Orchestration versioning (durable/versioning.ts); `null` or blank is the same as leaving it out. */
          defaultVersion: z.string().nullable().optional(),
          versionMatchStrategy: dotNetEnum('versionMatchStrategy', ['None', 'Strict', 'CurrentOrOlder']),
          versionFailureStrategy: dotNetEnum('versionFailureStrategy', ['Reject', 'Fail']),
        })
        .optional(),
    })
    .optional(),
});
export type HostJson = z.infer<typeof HostJson>;

export interface HostConfig {
  routePrefix: string;
  functionTimeoutMs: number | undefined;
  taskHubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  queues: NonNullable<NonNullable<HostJson['extensions']>['queues']>;
  /** Orchestration versioning from `extensions.durableTask` (durable/versioning.ts). */
  versioning: VersioningOptions;
  raw: HostJson;
}

export function timeSpanToMs(value: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value);
  if (!match) throw new Error(`"${value}" is not a TimeSpan like "00:05:00"`);
  const [, days, hours, minutes, seconds, fraction] = match;
  const whole = ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return whole * 1000 + Math.round(Number(`0.${fraction ?? '0'}`) * 1000);
}

type Env = Readonly<Record<string, string | undefined>>;

/** `AzureFunctionsJobHost__` app settings override host.json, path segments split on `__`. */
const HOST_OVERRIDE_PREFIX = /^AzureFunctionsJobHost__/i;

/**
 * Applies `AzureFunctionsJobHost__<path>` app settings to the parsed host.json, as the host does:
 * https://learn.microsoft.com/azure/azure-functions/functions-app-settings#azurefunctionsjobhost__
 * (the host merges them over host.json through .NET configuration, whose keys are case-insensitive
 * and whose values are strings converted to the option's type: a value replacing a number or a
 * boolean becomes one when it parses as one, so the schema below still checks it).
 */
export function applyHostJsonOverrides(json: unknown, env: Env): unknown {
  if (typeof json !== 'object' || json === null) return json;
  const root = json as Record<string, unknown>;
  for (const [key, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || !HOST_OVERRIDE_PREFIX.test(key)) continue;
    const segments = key.replace(HOST_OVERRIDE_PREFIX, '').split('__');
    let node = root;
    for (const [index, segment] of segments.entries()) {
      const existing = Object.keys(node).find((k) => k.toLowerCase() === segment.toLowerCase()) ?? segment;
      if (index === segments.length - 1) {
        const current = node[existing];
        node[existing] =
          typeof current === 'number' && value.trim() !== '' && Number.isFinite(Number(value))
            ? Number(value)
            : typeof current === 'boolean' && /^(true|false)$/i.test(value)
              ? value.toLowerCase() === 'true'
              : value;
      } else {
        const child = node[existing];
        if (typeof child !== 'object' || child === null) node[existing] = {};
        node = node[existing] as Record<string, unknown>;
      }
    }
  }
  return root;
}

/**
 * The Durable extension resolves a hubName that is one whole `%SETTING%` reference from app settings
 * (DurableTaskExtension.cs, `nameResolver.TryResolveWholeString(this.Options.HubName, …)` in
 * Azure/azure-functions-durable-extension); an unset setting leaves `%SETTING%`, which the task hub
 * name rules then refuse. devhost refuses it too, naming the setting.
 */
function resolveHubName(hubName: string | undefined, env: Env, file: string): string | undefined {
  const reference = hubName === undefined ? undefined : /^%([^%]+)%$/.exec(hubName)?.[1];
  if (reference === undefined) return hubName;
  const value = env[reference];
  if (value === undefined || value === '') {
    throw new Error(
      `${file}: extensions.durableTask.hubName is "${hubName}", but the app setting ${reference} is not set.`,
    );
  }
  if (!HUB_NAME.test(value)) {
    throw new Error(`${file}: the app setting ${reference} (hubName) is "${value}": ${HUB_NAME_RULE}`);
  }
  return value;
}

/**
 * Reads and validates host.json with the app settings' `AzureFunctionsJobHost__` overrides applied;
 * defaults follow the Functions host and Durable extension. Call it after the app settings are loaded.
 */
export function readHostConfig(appDir: string, cores: number, env: Env = process.env): HostConfig {
  const file = path.join(appDir, 'host.json');
  if (!existsSync(file)) throw new Error(`No host.json in app folder ${appDir}.`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = HostJson.safeParse(applyHostJsonOverrides(json, env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file} is invalid:\n${problems.join('\n')}`);
  }
  const hostJson = parsed.data;
  const durable = hostJson.extensions?.durableTask;
  return {
    routePrefix: (hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    functionTimeoutMs: hostJson.functionTimeout ? timeSpanToMs(hostJson.functionTimeout) : undefined,
    taskHubName: resolveHubName(durable?.hubName, env, file) ?? 'TestHubName',
    maxConcurrentActivityFunctions: durable?.maxConcurrentActivityFunctions ?? 10 * cores,
    maxConcurrentOrchestratorFunctions: durable?.maxConcurrentOrchestratorFunctions ?? 10 * cores,
    queues: hostJson.extensions?.queues ?? {},
    versioning: versioningOf(durable),
    raw: hostJson,
  };
}

/**
 * The versioning options: `CurrentOrOlder` and `Reject` by default once a `defaultVersion` is set
 * (https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-orchestration-versioning).
 * Without a `defaultVersion` and no strategy named, devhost checks nothing: whether the extension then
 * refuses instances started with an explicit version is unverified (its `InitializeTaskHubWorker`
 * comment says the default strategy is a no-op), and an app that versions nothing never notices.
 */
function versioningOf(durable: NonNullable<HostJson['extensions']>['durableTask']): VersioningOptions {
  // "A null (or empty) version is valid as it signifies non-versioned case" (DurableTaskExtension.cs), so
  // an app setting override of "" turns versioning off for one environment.
  const defaultVersion = durable?.defaultVersion?.trim() ? durable.defaultVersion : undefined;
  const implied = defaultVersion === undefined ? 'None' : 'CurrentOrOlder';
  return {
    ...(defaultVersion !== undefined ? { defaultVersion } : {}),
    matchStrategy: durable?.versionMatchStrategy ?? implied,
    failureStrategy: durable?.versionFailureStrategy ?? 'Reject',
  };
}
