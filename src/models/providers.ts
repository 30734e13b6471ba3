import Anthropic from '@anthropic-ai/sdk';
import { AnthropicFoundry } from '@anthropic-ai/foundry-sdk';
import { getBearerTokenProvider } from '@azure/identity';
import OpenAI from 'openai';
import type { CredentialFactory } from '../azure/credentials.js';
import { sharedCredentials } from '../azure/storageClients.js';
import { startOfflineModelServer } from '../offline/offlineModelServer.js';
import type { ProviderKind } from '../shared/modelTypes.js';
import { createAnthropicProvider } from './anthropicProvider.js';
import { serverToolOffer } from './serverTools.js';
import {
  ModelConfigError,
  OPENAI_DEFAULT_BASE_URL,
  type ModelConfig,
  type ProviderAuth,
  type ProviderSettings,
} from '../config/models.js';
import { CredentialError } from './errors.js';
import { createNodeHttpFetch } from './nodeHttpFetch.js';
import { createOpenAIProvider } from './openaiProvider.js';
import type { ModelProvider } from './provider.js';
import type { Secret } from './secret.js';

export type TokenProvider = () => Promise<string>;

export interface OfflineEndpoints {
  readonly anthropicBaseUrl: string;
  readonly foundryBaseUrl: string;
  readonly openaiBaseUrl: string;
  readonly azureOpenAIBaseUrl: string;
}

export interface ModelProvidersOptions {
  /** Passed to every SDK client (tests and proxies); otherwise as `MODEL_HTTP_CLIENT` says. */
  readonly fetch?: typeof globalThis.fetch;
  /** Entra ID tokens for a scope; defaults to `credentials(config.entraCredential)`. */
  readonly tokenProviderFor?: (scope: string) => TokenProvider;
  /** Builds the Entra ID credential (src/azure/credentials.ts); default: the process's shared credentials. */
  readonly credentials?: CredentialFactory;
  /** Where the offline model listens; by default one is started on loopback on first use. */
  readonly offlineEndpoints?: () => Promise<OfflineEndpoints>;
}

/** The configured providers, each built once on first use. */
export interface ModelProviders {
  get(kind: ProviderKind): Promise<ModelProvider>;
}

const OFFLINE_API_KEY = 'offline-model-no-key';

function withCredentialErrors(scope: string, provider: TokenProvider): TokenProvider {
  return async () => {
    try {
      return await provider();
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new CredentialError(`Could not get an Entra ID token for ${scope}: ${reason}`, { cause: error });
    }
  };
}

/**
 * Builds SDK clients from configuration: AnthropicFoundry for Foundry, Anthropic for the Claude API, and the
 * plain OpenAI client for Azure OpenAI (`/openai/v1/`), OpenAI and compatible servers. In offline mode every
 * provider kind points at the offline model server, over the same wire path its real endpoint uses.
 */
export function createModelProviders(
  config: ModelConfig,
  options: ModelProvidersOptions = {},
): ModelProviders {
  const built = new Map<ProviderKind, Promise<ModelProvider>>();
  const credentials = options.credentials ?? sharedCredentials;
  const tokenProviderFor =
    options.tokenProviderFor ??
    ((scope: string) => getBearerTokenProvider(credentials(config.entraCredential), scope));
  let offlineServer: Promise<OfflineEndpoints> | undefined;
  const offlineEndpoints = () =>
    (offlineServer ??=
      options.offlineEndpoints?.() ??
      startOfflineModelServer({
        unref: true,
        // The offline model refuses server tools a deployment is not configured for, as its hosting would.
        serverTools: (provider, deployment) =>
          Object.values(serverToolOffer(config.serverTools ?? {}, provider, deployment)),
      }));
  const common = {
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    ...(options.fetch
      ? { fetch: options.fetch }
      : config.httpClient === 'node'
        ? { fetch: createNodeHttpFetch() }
        : {}),
  };

  const reasoning = config.openaiReasoning ? { reasoning: config.openaiReasoning } : {};

  const authOf = (auth: ProviderAuth): { secrets: Secret[]; key: string | TokenProvider } =>
    auth.type === 'api-key'
      ? { secrets: [auth.apiKey], key: auth.apiKey.reveal() }
      : { secrets: [], key: withCredentialErrors(auth.scope, tokenProviderFor(auth.scope)) };

  async function buildOffline(kind: ProviderKind): Promise<ModelProvider> {
    const endpoints = await offlineEndpoints();
    switch (kind) {
      case 'foundry':
      case 'anthropic': {
        const baseURL = kind === 'foundry' ? endpoints.foundryBaseUrl : endpoints.anthropicBaseUrl;
        const anthropic = new Anthropic({ ...common, baseURL, apiKey: OFFLINE_API_KEY });
        const client =
          kind === 'foundry'
            ? new AnthropicFoundry({ ...common, baseURL, resource: null, apiKey: OFFLINE_API_KEY })
            : anthropic;
        // Offline, every role is the offline model, batches included: a batch step on a Foundry role
        // runs offline, while the startup check refuses it once Foundry is really configured.
        return createAnthropicProvider({
          kind,
          client,
          batchClient: anthropic.messages.batches,
          structuredOutput: kind === 'foundry' ? 'tool' : 'native',
          offline: true,
          secrets: [],
          promptCache: config.promptCache,
          serverTools: (deployment) => serverToolOffer(config.serverTools ?? {}, kind, deployment),
        });
      }
      case 'azure-openai':
      case 'openai': {
        const baseURL = kind === 'azure-openai' ? endpoints.azureOpenAIBaseUrl : endpoints.openaiBaseUrl;
        const client = new OpenAI({
          ...common,
          baseURL,
          apiKey: OFFLINE_API_KEY,
          organization: null,
          project: null,
        });
        // Offline, GPT speaks the Responses API, as Azure OpenAI and OpenAI do by default.
        return createOpenAIProvider({
          kind,
          client,
          api: 'responses',
          offline: true,
          secrets: [],
          chatPromptCacheKey: true,
          ...reasoning,
        });
      }
    }
  }

  function buildOnline(settings: ProviderSettings): ModelProvider {
    switch (settings.kind) {
      case 'foundry': {
        const { secrets, key } = authOf(settings.auth);
        const endpoint =
          'resource' in settings.endpoint
            ? { resource: settings.endpoint.resource, baseURL: null }
            : { baseURL: settings.endpoint.baseURL, resource: null };
        const client = new AnthropicFoundry({
          ...common,
          ...endpoint,
          ...(typeof key === 'string' ? { apiKey: key } : { azureADTokenProvider: key }),
        });
        return createAnthropicProvider({
          kind: 'foundry',
          client,
          structuredOutput: settings.structuredOutput,
          offline: false,
          secrets,
          promptCache: config.promptCache,
          serverTools: (deployment) => serverToolOffer(config.serverTools ?? {}, 'foundry', deployment),
        });
      }
      case 'anthropic': {
        const client = new Anthropic({
          ...common,
          baseURL: settings.baseURL ?? null,
          apiKey: settings.apiKey.reveal(),
        });
        return createAnthropicProvider({
          kind: 'anthropic',
          client,
          batchClient: client.messages.batches,
          structuredOutput: settings.structuredOutput,
          offline: false,
          secrets: [settings.apiKey],
          promptCache: config.promptCache,
          serverTools: (deployment) => serverToolOffer(config.serverTools ?? {}, 'anthropic', deployment),
        });
      }
      case 'azure-openai': {
        const { secrets, key } = authOf(settings.auth);
        const client = new OpenAI({
          ...common,
          baseURL: settings.baseURL,
          apiKey: key,
          organization: null,
          project: null,
        });
        return createOpenAIProvider({
          kind: 'azure-openai',
          client,
          api: settings.api,
          offline: false,
          secrets,
          chatPromptCacheKey: true,
          ...reasoning,
        });
      }
      case 'openai': {
        // Local OpenAI-compatible servers (vLLM, Ollama) take no key, but the SDK insists on one.
        const apiKey = settings.apiKey?.reveal() ?? 'no-key-configured';
        const client = new OpenAI({
          ...common,
          baseURL: settings.baseURL,
          apiKey,
          organization: null,
          project: null,
        });
        return createOpenAIProvider({
          kind: 'openai',
          client,
          api: settings.api,
          offline: false,
          secrets: settings.apiKey ? [settings.apiKey] : [],
          // Only OpenAI itself documents prompt_cache_key; compatible servers (vLLM, Ollama) may refuse it.
          chatPromptCacheKey: settings.baseURL.startsWith(OPENAI_DEFAULT_BASE_URL),
          ...reasoning,
        });
      }
    }
  }

  return {
    get(kind) {
      let provider = built.get(kind);
      if (!provider) {
        const settings = config.providers[kind];
        if (!config.offline && !settings) {
          return Promise.reject(
            new ModelConfigError([`model provider "${kind}" is not configured; see src/models/README.md`]),
          );
        }
        provider =
          config.offline || !settings
            ? buildOffline(kind)
            : Promise.resolve().then(() => buildOnline(settings));
        built.set(kind, provider);
      }
      return provider;
    },
  };
}

const shared = new WeakMap<ModelConfig, ModelProviders>();

/**
 * The providers of a configuration, shared by every activity of the process: one set of SDK clients,
 * and offline one offline model server, which also keeps the batches submitted to it.
 */
export function sharedModelProviders(config: ModelConfig): ModelProviders {
  let providers = shared.get(config);
  if (!providers) {
    providers = createModelProviders(config);
    shared.set(config, providers);
  }
  return providers;
}
