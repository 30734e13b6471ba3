/**
 * Provider batch APIs: many model calls submitted at once, answered within 24 hours at half price.
 * The Claude API has Message Batches; OpenAI and Azure OpenAI have the Batch API (Global Batch on
 * Azure); Microsoft Foundry has none (`AnthropicFoundry` deletes `messages.batches`).
 */
import type { ModelBatchCounts, ModelBatchFailureKind } from '../shared/providerBatchTypes.js';
import { ProviderKind, splitRoleTarget } from '../shared/modelTypes.js';
import type { ModelConfig } from '../config/models.js';
import type { ProviderRequest, ProviderResponse } from './provider.js';
import type { ModelRoute } from './roles.js';
import { workflowRouteChain } from './routing.js';

export interface ModelBatchLimits {
  readonly maxRequests: number;
  /** Of the request body (Anthropic) or the uploaded JSONL input file (OpenAI). */
  readonly maxBytes: number;
}

const MB = 1_000_000;

/** Per batch, from the providers' documentation; a step with more goes out as several batches. */
export const MODEL_BATCH_LIMITS: Readonly<Record<Exclude<ProviderKind, 'foundry'>, ModelBatchLimits>> = {
  anthropic: { maxRequests: 100_000, maxBytes: 256 * MB },
  'azure-openai': { maxRequests: 100_000, maxBytes: 200 * MB },
  openai: { maxRequests: 50_000, maxBytes: 200 * MB },
};

/** Whether a provider kind has a batch API. Offline, every kind is the offline model, which has one. */
export function supportsModelBatches(provider: ProviderKind, offline: boolean): boolean {
  return offline || provider !== 'foundry';
}

/** Why a role cannot run `batch: true` steps, naming the settings that would fix it. */
export function batchUnsupportedReason(role: string, primary: ModelRoute): string {
  return (
    `role "${role}" runs on ${primary.provider}:${primary.deployment}, and Microsoft Foundry has no batch API ` +
    '(no Message Batches). Route the role, or one of its fallbacks, to the Claude API (anthropic:<model> with ' +
    'ANTHROPIC_API_KEY) or to an Azure OpenAI Global Batch deployment (azure-openai:<deployment>), e.g. ' +
    `MODEL_ROLE_${role.toUpperCase()}_FALLBACK=anthropic:${primary.deployment}; or remove batch: true`
  );
}

/**
 * The startup check of `batch: true` steps: why the role (after the workflow's `roles` overrides)
 * cannot reach a batch API, or undefined when some deployment in its chain can. Roles that are unknown
 * or unavailable are left to the checks and calls that already report them.
 */
export function batchRouteProblem(
  config: Pick<ModelConfig, 'roles' | 'unavailableRoles' | 'offline'>,
): (role: string, workflowRoles: Readonly<Record<string, string>>) => string | undefined {
  return (role, workflowRoles) => {
    const target = workflowRoles[role];
    const parsed = target === undefined ? undefined : splitRoleTarget(target);
    const chainRole = parsed !== undefined && 'role' in parsed ? parsed.role : role;
    let workflowRoute: ModelRoute | undefined;
    if (parsed !== undefined && !('role' in parsed)) {
      const provider = ProviderKind.safeParse(parsed.provider);
      if (!provider.success) return undefined;
      workflowRoute = { provider: provider.data, deployment: parsed.deployment };
    }
    if (workflowRoute === undefined && !config.roles[chainRole]) return undefined;
    const chain = workflowRouteChain(config, chainRole, workflowRoute);
    const primary = chain[0];
    if (!primary || chain.some((route) => supportsModelBatches(route.provider, config.offline))) {
      return undefined;
    }
    return batchUnsupportedReason(chainRole, primary);
  };
}

/** One request of a batch, already routed and built like a direct call. */
export interface ModelBatchItem {
  readonly customId: string;
  readonly request: ProviderRequest;
}

export type ModelBatchItemOutcome =
  | { readonly customId: string; readonly ok: true; readonly response: ProviderResponse }
  | {
      readonly customId: string;
      readonly ok: false;
      readonly kind: ModelBatchFailureKind;
      readonly retryable: boolean;
      readonly status?: number;
      readonly message: string;
    };

export interface ModelBatchStatus {
  /** `failed`: the provider gave up on the batch as a whole (`message` says why). */
  readonly state: 'in_progress' | 'ended' | 'failed';
  readonly counts: ModelBatchCounts;
  readonly message?: string;
}

/** A provider's batch API. Throws SDK errors; callers classify them as they do for direct calls. */
export interface ModelBatchApi {
  /** Submits the items, split into as few batches as the provider's limits allow; returns the batch ids. */
  submit(items: readonly ModelBatchItem[]): Promise<string[]>;
  status(batchId: string): Promise<ModelBatchStatus>;
  /** Every result of an ended batch, answers parsed as a direct call's would be. */
  results(
    batchId: string,
    parse: { readonly outputSchema?: ProviderRequest['outputSchema'] },
  ): Promise<ModelBatchItemOutcome[]>;
  cancel(batchId: string): Promise<void>;
}

/** One request is larger than a whole batch may be: it cannot be sent as a batch at all. */
export class BatchLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Groups serialized entries into batches of at most `maxRequests` entries and `maxBytes` bytes,
 * `overheadBytes` being what each batch adds around its entries (an envelope, separators).
 */
export function chunkForLimits<T extends { readonly bytes: number }>(
  entries: readonly T[],
  limits: ModelBatchLimits,
  overheadBytes = 0,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = overheadBytes;
  for (const entry of entries) {
    if (entry.bytes + overheadBytes > limits.maxBytes) {
      throw new BatchLimitError(
        `One batch request is ${entry.bytes} bytes, over the provider's ${limits.maxBytes}-byte batch limit`,
      );
    }
    if (current.length >= limits.maxRequests || bytes + entry.bytes > limits.maxBytes) {
      chunks.push(current);
      current = [];
      bytes = overheadBytes;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
