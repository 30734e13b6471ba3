/**
 * The one settings loader. `loadSettings(env)` reads every section at once and throws one ConfigError
 * listing every bad or missing setting of every section, each named; handlers never read the
 * environment: src/index.ts hands each factory the plain values it needs (lint bans `process.env`
 * outside this folder and the entry points). Each section is its own file, mirroring the subsystem it
 * configures; a new setting is one zod field in its section plus a row in that subsystem's README table.
 */
import { parseConfig, type Config } from './app.js';
import { parseMcpServers, type McpServerConfig } from './mcp.js';
import { parseRunCodeConfig, type RunCodeConfig } from './codeExecution.js';
import { parseModelConfig, type ModelConfig } from './models.js';
import { ConfigError, type Env } from './section.js';
import { readTelemetrySettings, type TelemetrySettings } from './telemetry.js';
import { parseWebToolsConfig, type WebToolsConfig } from './web.js';

export interface Settings {
  /** Storage, queues, containers, starter limits, callbacks (README.md "Settings"). */
  readonly app: Config;
  /** Providers, roles, prices, timeouts, provider batches (src/models/README.md). */
  readonly models: ModelConfig;
  /** `web_search` and `fetch_url` (src/tools/web/README.md). */
  readonly web: WebToolsConfig;
  /** `run_code` maxima and sandboxes (src/tools/codeExecution/README.md). */
  readonly runCode: RunCodeConfig;
  /** Tracing export (src/telemetry/README.md). */
  readonly telemetry: TelemetrySettings;
  /** MCP servers whose tools workflows may use (README.md "MCP servers as tools"). */
  readonly mcp: readonly McpServerConfig[];
}

const SECTIONS = {
  app: parseConfig,
  models: parseModelConfig,
  web: parseWebToolsConfig,
  runCode: parseRunCodeConfig,
  telemetry: readTelemetrySettings,
  mcp: parseMcpServers,
} satisfies { readonly [K in keyof Settings]: (env: Env) => Settings[K] };

/** Every section's settings, or one ConfigError whose problems are `<section>: <problem>` for all sections. */
export function loadSettings(env: Env): Settings {
  const problems: string[] = [];
  const settings: Partial<Record<keyof Settings, unknown>> = {};
  for (const [section, parse] of Object.entries(SECTIONS) as [keyof Settings, (env: Env) => unknown][]) {
    try {
      settings[section] = parse(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((problem) => `${section}: ${problem}`));
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      problems,
      'Invalid configuration',
      'Fix these app settings (locally: "Values" in local.settings.json, or the environment); ' +
        'README.md "Settings" links each section\'s table.',
    );
  }
  return settings as unknown as Settings;
}
