import { appCredentialSpec, type CredentialSpec } from '../azure/credentials.js';
import type { ModelBatchOptions } from '../shared/providerBatchTypes.js';
import type { ProviderKind } from '../shared/modelTypes.js';
import { parsePriceOverrides, type PriceTable } from '../models/prices.js';
import { readOpenAIReasoning, type OpenAIReasoningSettings } from '../models/openaiReasoning.js';
import { parseRoles, type RoleConfig } from '../models/roles.js';
import { EnvReader } from './envReader.js';
import { parseServerToolSettings, type ServerToolSettings } from '../models/serverTools.js';
import { ConfigError, type Env } from './section.js';
import type { Secret } from '../models/secret.js';

export const FOUNDRY_ENTRA_SCOPE = 'https://ai.azure.com/.default';
export const AZURE_OPENAI_ENTRA_SCOPE = 'https://cognitiveservices.azure.com/.default';
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export type StructuredOutputMode = 'native' | 'tool';

export type ProviderAuth =
  { readonly type: 'api-key'; readonly apiKey: Secret } | { readonly type: 'entra'; readonly scope: string };

export type ProviderSettings =
  | {
      readonly kind: 'foundry';
      /** Either a bare resource name (the SDK builds the URL) or a full base URL. */
      readonly endpoint: { readonly resource: string } | { readonly baseURL: string };
      readonly auth: ProviderAuth;
      readonly structuredOutput: StructuredOutputMode;
    }
  | {
      readonly kind: 'anthropic';
      readonly baseURL: string | undefined;
      readonly apiKey: Secret;
      readonly structuredOutput: StructuredOutputMode;
    }
  | {
      readonly kind: 'azure-openai';
      readonly baseURL: string;
      readonly auth: ProviderAuth;
      /** Responses API (default) or Chat Completions: AZURE_OPENAI_API_STYLE. */
      readonly api: OpenAIApiStyle;
    }
  | {
      readonly kind: 'openai';
      readonly baseURL: string;
      readonly apiKey: Secret | undefined;
      /** OPENAI_API_STYLE; default Responses on api.openai.com, Chat Completions on other servers. */
      readonly api: OpenAIApiStyle;
    };

export type OpenAIApiStyle = 'responses' | 'chat';
const API_STYLES = ['responses', 'chat'] as const;

export interface ModelConfig {
  /** True when calls go to the built-in offline model instead of a real endpoint. */
  readonly offline: boolean;
  /** Why the offline model is in use, for the loud startup message. */
  readonly offlineReason: string | undefined;
  readonly providers: Readonly<Partial<Record<ProviderKind, ProviderSettings>>>;
  readonly roles: Readonly<Record<string, RoleConfig>>;
  /** Default roles that have no configured provider, with what to set; calling them is a configuration error. */
  readonly unavailableRoles: Readonly<Record<string, string>>;
  readonly prices: PriceTable;
  /** SDK request timeout; stays below host.json functionTimeout (10 min) so the activity can report it. */
  readonly timeoutMs: number;
  /** SDK-level retries (0 or 1): durable retries in the orchestrator are the main layer. */
  readonly maxRetries: number;
  /** How the SDKs reach the endpoints: `node` (node:http(s), nodeHttpFetch.ts) or Node's built-in `fetch`. */
  readonly httpClient: 'node' | 'fetch';
  readonly defaultMaxTokens: number;
  /** How runs wait for provider batches (`batch: true` steps); they carry it in `RunOptions.modelBatch`. */
  readonly batchPolling: Readonly<Required<ModelBatchOptions>>;
  /** The identity behind Entra ID auth (`*_USE_ENTRA=true`): DefaultAzureCredential with `AZURE_CLIENT_ID`. */
  readonly entraCredential: CredentialSpec;
  /** Which Azure OpenAI / OpenAI deployments are reasoning models (openaiReasoning.ts); absent = by name. */
  readonly openaiReasoning?: OpenAIReasoningSettings;
  /** Claude cache breakpoints on (default) or off (`MODEL_PROMPT_CACHE=off`, for cost comparisons). */
  readonly promptCache: boolean;
  /** Which Claude server tools each deployment offers (CLAUDE_SERVER_TOOLS_JSON, serverTools.ts); absent = none. */
  readonly serverTools?: ServerToolSettings;
}

/** A model settings problem; also thrown at call time for a role whose provider is not configured. */
export class ModelConfigError extends ConfigError {
  constructor(problems: readonly string[]) {
    super(
      problems,
      'Invalid model configuration',
      'See src/models/README.md; set app settings in local.settings.json "Values" or the environment.',
    );
  }
}

function keyOrEntra(
  env: EnvReader,
  keyVar: string,
  entraVar: string,
  scopeVar: string,
  defaultScope: string,
): ProviderAuth | undefined {
  const apiKey = env.secret(keyVar);
  const useEntra = env.flag(entraVar);
  if (apiKey && useEntra) {
    env.problems.push(`${keyVar} and ${entraVar}=true are both set; keep one (the key, or Entra ID auth)`);
    return undefined;
  }
  if (useEntra) return { type: 'entra', scope: env.text(scopeVar) ?? defaultScope };
  if (apiKey) return { type: 'api-key', apiKey };
  env.problems.push(`set ${keyVar}, or ${entraVar}=true to use Entra ID (managed identity, az login)`);
  return undefined;
}

function readFoundry(env: EnvReader): ProviderSettings | undefined {
  const resource = env.text('FOUNDRY_RESOURCE');
  const baseURL = env.url('FOUNDRY_BASE_URL');
  if (!resource && !env.text('FOUNDRY_BASE_URL')) {
    if (env.text('FOUNDRY_API_KEY') || env.flag('FOUNDRY_USE_ENTRA')) {
      env.problems.push(
        'Foundry credentials are set but FOUNDRY_RESOURCE is not; set it to the resource name, e.g. "myres"',
      );
    }
    return undefined;
  }
  if (resource && baseURL) {
    env.problems.push('FOUNDRY_RESOURCE and FOUNDRY_BASE_URL are both set; keep one');
  }
  if (resource && !/^[a-z0-9][a-z0-9-]{1,62}$/i.test(resource)) {
    env.problems.push(
      `FOUNDRY_RESOURCE is the bare resource name, e.g. "myres" for https://myres.services.ai.azure.com (got ${JSON.stringify(resource)})`,
    );
  }
  const auth = keyOrEntra(
    env,
    'FOUNDRY_API_KEY',
    'FOUNDRY_USE_ENTRA',
    'FOUNDRY_ENTRA_SCOPE',
    FOUNDRY_ENTRA_SCOPE,
  );
  const structuredOutput = env.choice('FOUNDRY_STRUCTURED_OUTPUT', ['tool', 'native'] as const, 'tool');
  if (!auth || (!resource && !baseURL)) return undefined;
  return {
    kind: 'foundry',
    endpoint: baseURL ? { baseURL } : { resource: resource ?? '' },
    auth,
    structuredOutput,
  };
}

function readAnthropic(env: EnvReader): ProviderSettings | undefined {
  const apiKey = env.secret('ANTHROPIC_API_KEY');
  const baseURL = env.url('ANTHROPIC_BASE_URL');
  if (!apiKey) {
    if (env.text('ANTHROPIC_BASE_URL')) {
      env.problems.push('ANTHROPIC_BASE_URL is set but ANTHROPIC_API_KEY is not; set the key');
    }
    return undefined;
  }
  const structuredOutput = env.choice('ANTHROPIC_STRUCTURED_OUTPUT', ['native', 'tool'] as const, 'native');
  return { kind: 'anthropic', baseURL, apiKey, structuredOutput };
}

/** Accepts `https://myres.openai.azure.com`, `.../openai` or `.../openai/v1` and returns the v1 base URL. */
export function azureOpenAIBaseUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '').replace(/\/openai(\/v1)?$/, '');
  return `${trimmed}/openai/v1/`;
}

function readAzureOpenAI(env: EnvReader): ProviderSettings | undefined {
  const raw = env.text('AZURE_OPENAI_ENDPOINT');
  if (!raw) {
    if (env.text('AZURE_OPENAI_API_KEY') || env.flag('AZURE_OPENAI_USE_ENTRA')) {
      env.problems.push(
        'AZURE_OPENAI_ENDPOINT is not set but Azure OpenAI credentials are; set it to e.g. https://myres.openai.azure.com',
      );
    }
    return undefined;
  }
  const endpoint = env.url('AZURE_OPENAI_ENDPOINT');
  const auth = keyOrEntra(
    env,
    'AZURE_OPENAI_API_KEY',
    'AZURE_OPENAI_USE_ENTRA',
    'AZURE_OPENAI_ENTRA_SCOPE',
    AZURE_OPENAI_ENTRA_SCOPE,
  );
  const api = env.choice('AZURE_OPENAI_API_STYLE', API_STYLES, 'responses');
  if (!endpoint || !auth) return undefined;
  return { kind: 'azure-openai', baseURL: azureOpenAIBaseUrl(endpoint), auth, api };
}

function readOpenAI(env: EnvReader): ProviderSettings | undefined {
  const apiKey = env.secret('OPENAI_API_KEY');
  const baseURL = env.url('OPENAI_BASE_URL');
  if (!apiKey && !env.text('OPENAI_BASE_URL')) return undefined;
  if (!apiKey && baseURL?.startsWith(OPENAI_DEFAULT_BASE_URL)) {
    env.problems.push('OPENAI_BASE_URL points at api.openai.com but OPENAI_API_KEY is not set; set the key');
  }
  if (env.text('OPENAI_BASE_URL') && !baseURL) return undefined;
  const resolved = baseURL ?? OPENAI_DEFAULT_BASE_URL;
  // OpenAI-compatible servers (vLLM, Ollama) speak Chat Completions; OpenAI itself serves GPT-5.x best
  // through Responses (reasoning items kept across tool calls).
  const api = env.choice(
    'OPENAI_API_STYLE',
    API_STYLES,
    resolved.startsWith(OPENAI_DEFAULT_BASE_URL) ? 'responses' : 'chat',
  );
  return { kind: 'openai', baseURL: resolved, apiKey, api };
}

const OFFLINE_SETTING = 'OFFLINE_MODEL';

/** Parses model settings; blank values count as unset. Throws ModelConfigError listing every problem. */
export function parseModelConfig(rawEnv: Env): ModelConfig {
  const env = new EnvReader(rawEnv);
  const offlineSetting = env.choice(OFFLINE_SETTING, ['auto', 'on', 'off'] as const, 'auto');
  const configured = [readFoundry(env), readAnthropic(env), readAzureOpenAI(env), readOpenAI(env)].filter(
    (settings): settings is ProviderSettings => settings !== undefined,
  );
  const anyEndpointSet = configured.length > 0 || env.problems.length > 0;
  if (offlineSetting === 'off' && !anyEndpointSet) {
    env.problems.push(
      `${OFFLINE_SETTING}=off but no model provider is configured; set FOUNDRY_RESOURCE, ANTHROPIC_API_KEY, ` +
        `AZURE_OPENAI_ENDPOINT or OPENAI_API_KEY (or ${OFFLINE_SETTING}=auto to use the offline model)`,
    );
  }
  // WEBSITE_INSTANCE_ID is set on every App Service / Functions instance in Azure
  // (https://learn.microsoft.com/azure/app-service/reference-app-settings#scaling): a deployed app with no
  // provider would answer every call with placeholders, so there only OFFLINE_MODEL=on allows that.
  if (offlineSetting === 'auto' && !anyEndpointSet && env.text('WEBSITE_INSTANCE_ID')) {
    env.problems.push(
      'no model provider is configured and this app runs on Azure (WEBSITE_INSTANCE_ID is set); set ' +
        'FOUNDRY_RESOURCE, ANTHROPIC_API_KEY, AZURE_OPENAI_ENDPOINT or OPENAI_API_KEY, ' +
        `or ${OFFLINE_SETTING}=on to answer with the offline stand-in on purpose`,
    );
  }
  const offline = offlineSetting === 'on' || (offlineSetting === 'auto' && !anyEndpointSet);
  const offlineReason = !offline
    ? undefined
    : offlineSetting === 'on'
      ? `${OFFLINE_SETTING}=on`
      : 'no model provider is configured (FOUNDRY_RESOURCE, ANTHROPIC_API_KEY, AZURE_OPENAI_ENDPOINT, OPENAI_API_KEY are unset)';
  const providers: Partial<Record<ProviderKind, ProviderSettings>> = {};
  for (const settings of configured) providers[settings.kind] = settings;

  const { roles, unavailableRoles } = parseRoles(
    env,
    new Set(Object.keys(providers) as ProviderKind[]),
    offline,
  );
  const { prices, problems: priceProblems } = parsePriceOverrides(env.text('MODEL_PRICES_JSON'));
  env.problems.push(...priceProblems);
  const timeoutSeconds = env.integer('MODEL_TIMEOUT_SECONDS', 1, 540, 120);
  const maxRetries = env.integer('MODEL_MAX_RETRIES', 0, 1, 0);
  const httpClient = env.choice('MODEL_HTTP_CLIENT', ['node', 'fetch'] as const, 'node');
  const defaultMaxTokens = env.integer('MODEL_DEFAULT_MAX_TOKENS', 1, 64_000, 4_096);
  const promptCache = env.choice('MODEL_PROMPT_CACHE', ['on', 'off'] as const, 'on') === 'on';
  const batchPollSeconds = env.integer('MODEL_BATCH_POLL_SECONDS', 1, 3_600, 30);
  const batchPollMaxSeconds = env.integer('MODEL_BATCH_POLL_MAX_SECONDS', 1, 86_400, 600);
  const batchMaxWaitHours = env.integer('MODEL_BATCH_MAX_WAIT_HOURS', 1, 168, 24);
  const openaiReasoning = readOpenAIReasoning(env);
  const serverTools = parseServerToolSettings(env.text('CLAUDE_SERVER_TOOLS_JSON'));
  env.problems.push(...serverTools.problems);
  if (batchPollMaxSeconds < batchPollSeconds) {
    env.problems.push(
      `MODEL_BATCH_POLL_MAX_SECONDS (${batchPollMaxSeconds}) must be at least MODEL_BATCH_POLL_SECONDS (${batchPollSeconds})`,
    );
  }

  if (env.problems.length > 0) throw new ModelConfigError(env.problems);
  return {
    offline,
    offlineReason,
    providers: offline ? {} : providers,
    roles,
    unavailableRoles,
    prices,
    timeoutMs: timeoutSeconds * 1000,
    maxRetries,
    httpClient,
    defaultMaxTokens,
    batchPolling: {
      initialPollMs: batchPollSeconds * 1000,
      maxPollMs: batchPollMaxSeconds * 1000,
      maxWaitMs: batchMaxWaitHours * 3_600_000,
    },
    entraCredential: appCredentialSpec(rawEnv),
    openaiReasoning,
    promptCache,
    serverTools: serverTools.settings,
  };
}

/** One secret-free line per role for the startup log; offline mode is announced first, loudly. */
export function describeModelConfig(config: ModelConfig): string {
  const routes = Object.entries(config.roles)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([role, { route, fallback }]) => {
      const chain = fallback.map((entry) => ` → ${entry.provider}:${entry.deployment}`).join('');
      return `  ${role}: ${route.provider}:${route.deployment}${chain}`;
    });
  const unavailable = Object.entries(config.unavailableRoles).map(
    ([role, reason]) => `  ${role}: unavailable (${reason})`,
  );
  const head = config.offline
    ? `MODELS ARE OFFLINE: ${config.offlineReason ?? ''}. Answers come from the deterministic stand-in and are marked [offline].`
    : 'Model roles:';
  return [head, ...routes, ...unavailable].join('\n');
}
