/** The tools this app offers agent steps: one activity per tool, named `toolActivityName(name)`. */
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicFoundry } from '@anthropic-ai/foundry-sdk';
import { getBearerTokenProvider } from '@azure/identity';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ArtifactActivities } from '../activities/artifacts.js';
import { appCredentialSpec, type CredentialFactory } from '../azure/credentials.js';
import { sharedCredentials } from '../azure/storageClients.js';
import type { RunCodeConfig } from '../config/codeExecution.js';
import type { ModelConfig } from '../config/models.js';
import type { WebToolsConfig } from '../config/web.js';
import type { UrlPolicy } from '../net/urlPolicy.js';
import { ToolDefinition } from '../shared/modelTypes.js';
import { toolActivityName } from '../shared/names.js';
import type { ArtifactRef, ToolCallResult, ToolSpec } from '../shared/toolTypes.js';
import { DYNAMIC_SESSIONS_SCOPE } from './codeExecution/containerAppsSessions.js';
import {
  checkPythonSandbox,
  createRunCodeTool,
  createSandboxes,
  runCodeLimits,
} from './codeExecution/runCode.js';
import type { MessagesCreate } from './web/claudeServerSearch.js';
import { createFetchUrlTool } from './web/fetchUrlTool.js';
import { createWebSearchTool, type SearchProviderDeps } from './web/webSearchTool.js';

/** What each tool module's factory returns. */
export interface Tool {
  readonly spec: ToolSpec;
  readonly handler: (input: unknown) => Promise<ToolCallResult>;
}

export interface ToolRegistration {
  /** `tool_<name>`: the activity the agent loop calls. */
  readonly activityName: string;
  readonly handler: (input: unknown) => Promise<ToolCallResult>;
}

export interface ToolRegistry {
  names(): string[];
  /** Name → definition as the model sees it; goes into every run's input. */
  toolSpecs(): Record<string, ToolDefinition>;
  registrations(): ToolRegistration[];
}

/**
 * Where tools come from: the built-ins, HTTP tools declared in `tools/*.yaml` (src/tools/http), TypeScript
 * tools in src/tools/custom, and any other source (MCP servers) that hands over built tools.
 */
export interface ToolSource {
  /** Shown in errors and startup lines, e.g. `built-in`, `HTTP tools in tools/`. */
  readonly name: string;
  readonly tools: readonly Tool[];
}

/** A registry over already-built tools; names must be unique and valid for every provider. */
export function toolRegistryOf(tools: readonly Tool[]): ToolRegistry {
  return toolRegistryFromSources([{ name: 'built-in', tools }]);
}

/** One registry over every source; a name two sources (or one source twice) offer is an error naming both. */
export function toolRegistryFromSources(sources: readonly ToolSource[]): ToolRegistry {
  const byName = new Map<string, Tool>();
  const sourceOf = new Map<string, string>();
  for (const source of sources) {
    for (const tool of source.tools) {
      const earlier = sourceOf.get(tool.spec.name);
      if (earlier !== undefined) {
        const where =
          earlier === source.name ? `both in ${source.name}` : `one in ${earlier}, one in ${source.name}`;
        throw new Error(`Two tools are named "${tool.spec.name}" (${where}); rename one`);
      }
      // `<server>__<tool>` names MCP servers' tools, which have an activity per server (toolActivityName).
      if (tool.spec.name.includes('__'))
        throw new Error(`"${tool.spec.name}": "__" is reserved for MCP tools`);
      byName.set(tool.spec.name, tool);
      sourceOf.set(tool.spec.name, source.name);
    }
  }
  const names = [...byName.keys()].sort();
  const specs = Object.fromEntries(
    [...byName.values()].map(({ spec }) => [spec.name, ToolDefinition.parse({ ...spec })]),
  );
  return {
    names: () => [...names],
    toolSpecs: () => ({ ...specs }),
    registrations: () =>
      names.flatMap((name) => {
        const tool = byName.get(name);
        return tool ? [{ activityName: toolActivityName(name), handler: tool.handler }] : [];
      }),
  };
}

interface ToolCallScope {
  readonly runId: string;
  readonly stepId: string;
  readonly toolUseId: string;
}

const callScope = new AsyncLocalStorage<ToolCallScope>();

function scopeOf(input: unknown): ToolCallScope | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { runId, stepId, toolUseId } = input as Record<string, unknown>;
  return typeof runId === 'string' && typeof stepId === 'string' && typeof toolUseId === 'string'
    ? { runId, stepId, toolUseId }
    : undefined;
}

/** Runs the handler with its call's run, step and tool-use ids in scope, for the artifact deps below. */
function scoped(tool: Tool): Tool {
  return {
    spec: tool.spec,
    handler: (input) => {
      const scope = scopeOf(input);
      return scope ? callScope.run(scope, () => tool.handler(input)) : tool.handler(input);
    },
  };
}

export interface ToolArtifactDeps {
  /** Stores a file a tool produced; named after the call, so a retried call overwrites its own files. */
  saveArtifact(name: string, bytes: Buffer, contentType: string): Promise<ArtifactRef>;
  loadInputFile(ref: ArtifactRef): Promise<Buffer>;
}

/** Artifact access for tools: `<runId>/<stepId>/<toolUseId>/<name>` in the artifacts container. */
export function toolArtifactDeps(artifacts: ArtifactActivities): ToolArtifactDeps {
  return {
    async saveArtifact(name, bytes, contentType) {
      const scope = callScope.getStore();
      if (!scope) throw new Error('saveArtifact called outside a tool call');
      const saved = await artifacts.saveArtifact({
        runId: scope.runId,
        name: `${scope.stepId}/${scope.toolUseId}/${name}`,
        contentType,
        contentBase64: bytes.toString('base64'),
      });
      return { name, blobRef: saved.blobRef, contentType, bytes: saved.bytes };
    },
    loadInputFile: (ref) => artifacts.loadArtifact(ref.blobRef),
  };
}

/**
 * A Claude client for `WEB_SEARCH_PROVIDER=claude` (the server-side web search tool), from the model
 * configuration: Foundry when configured, else the Claude API. Offline there is none, and web_search
 * answers "not configured".
 */
export function claudeMessagesCreate(
  models: ModelConfig,
  credentials: CredentialFactory = sharedCredentials,
): MessagesCreate | undefined {
  if (models.offline) return undefined;
  const common = { timeout: models.timeoutMs, maxRetries: models.maxRetries };
  const foundry = models.providers.foundry;
  const anthropic = models.providers.anthropic;
  if (foundry?.kind === 'foundry') {
    const endpoint =
      'resource' in foundry.endpoint
        ? { resource: foundry.endpoint.resource, baseURL: null }
        : { baseURL: foundry.endpoint.baseURL, resource: null };
    const auth =
      foundry.auth.type === 'api-key'
        ? { apiKey: foundry.auth.apiKey.reveal() }
        : {
            azureADTokenProvider: getBearerTokenProvider(
              credentials(models.entraCredential),
              foundry.auth.scope,
            ),
          };
    const client = new AnthropicFoundry({ ...common, ...endpoint, ...auth });
    return (params, options) => client.messages.create(params, options);
  }
  if (anthropic?.kind === 'anthropic') {
    const client = new Anthropic({
      ...common,
      baseURL: anthropic.baseURL ?? null,
      apiKey: anthropic.apiKey.reveal(),
    });
    return (params, options) => client.messages.create(params, options);
  }
  return undefined;
}

export interface ToolRegistryDeps {
  readonly artifacts: ArtifactActivities;
  /** `web_search` and `fetch_url` settings (src/config/web.ts). */
  readonly web: WebToolsConfig;
  /** `run_code` settings (src/config/codeExecution.ts). */
  readonly runCode: RunCodeConfig;
  /** The app's identity (`entraCredential`) and, for `WEB_SEARCH_PROVIDER=claude`, the Claude provider. */
  readonly models: ModelConfig;
  /** Entra ID credentials for dynamic sessions and Foundry web search (default: the shared ones). */
  readonly credentials?: CredentialFactory;
  /** Every outbound request's URL policy (src/net); default public addresses only. */
  readonly urlPolicy?: UrlPolicy;
  /** Tools beyond the built-ins (HTTP tools, TypeScript tools, MCP servers), each call one activity too. */
  readonly sources?: readonly ToolSource[];
}

/**
 * Builds the Claude client on the first search, so startup never needs credentials; `billing` names the
 * provider claudeMessagesCreate picks (Foundry first), so the side call's tokens and fee reach the ledger.
 */
function lazyMessagesCreate(
  config: ModelConfig,
  credentials: CredentialFactory,
): Pick<SearchProviderDeps, 'messagesCreate' | 'billing'> {
  if (config.offline || (!config.providers.foundry && !config.providers.anthropic)) return {};
  let create: MessagesCreate | undefined;
  return {
    billing: { provider: config.providers.foundry ? 'foundry' : 'anthropic', prices: config.prices },
    messagesCreate: (params, options) => {
      create ??= claudeMessagesCreate(config, credentials);
      if (!create) throw new Error('No Claude provider is configured for WEB_SEARCH_PROVIDER=claude');
      return create(params, options);
    },
  };
}

/** The app's tools, built from their configuration; adding a tool is one line in the list. */
export function createToolRegistry(deps: ToolRegistryDeps): ToolRegistry {
  const { web, runCode } = deps;
  checkPythonSandbox(runCode);
  const files = toolArtifactDeps(deps.artifacts);
  const credentials = deps.credentials ?? sharedCredentials;
  let sessionsTokens: (() => Promise<string>) | undefined;
  // Dynamic sessions tokens from the app's identity (AZURE_CLIENT_ID), built on the first Python call.
  const sessionsToken = () =>
    (sessionsTokens ??= getBearerTokenProvider(
      credentials(deps.models.entraCredential),
      DYNAMIC_SESSIONS_SCOPE,
    ))();
  const builtIn = [
    createRunCodeTool({
      ...createSandboxes(runCode, { getToken: sessionsToken }),
      limits: runCodeLimits(runCode),
      ...files,
    }),
    createWebSearchTool({
      config: web.search,
      ...(web.search.provider === 'claude' && deps.models
        ? lazyMessagesCreate(deps.models, credentials)
        : {}),
    }),
    createFetchUrlTool({ config: web.fetch, ...(deps.urlPolicy ? { urlPolicy: deps.urlPolicy } : {}) }),
  ];
  return toolRegistryFromSources(
    [{ name: 'built-in', tools: builtIn }, ...(deps.sources ?? [])].map((source) => ({
      name: source.name,
      tools: source.tools.map(scoped),
    })),
  );
}

/** Bearer tokens from the app's identity (AZURE_CLIENT_ID), one cached provider per scope. */
export function appTokenProvider(
  credentials: CredentialFactory,
  env: Readonly<Record<string, string | undefined>>,
): (scope: string) => Promise<string> {
  const providers = new Map<string, () => Promise<string>>();
  return (scope) => {
    let provider = providers.get(scope);
    if (!provider) {
      provider = getBearerTokenProvider(credentials(appCredentialSpec(env)), scope);
      providers.set(scope, provider);
    }
    return provider();
  };
}
