import { z } from 'zod';
import { getModelConfig, type ModelConfig } from '../models/config.js';
import { costUsd, findPrice } from '../models/cost.js';
import { classifyModelError } from '../models/errors.js';
import { sharedModelProviders, type ModelProviders } from '../models/providers.js';
import { resolveRoute } from '../models/routing.js';
import { compileOutputSchema } from '../models/structuredOutput.js';
import {
  CallModelInput,
  CallModelResult,
  ModelMessage,
  type CallModelFailure,
  type ProviderKind,
} from '../shared/modelTypes.js';
import { describeIssues, parseActivityInput } from './activityInput.js';

export interface CallModelActivityDeps {
  /** Model configuration, read on first call (e.g. `getModelConfig`). */
  readonly config: () => ModelConfig;
  /** Builds the providers for a configuration, once (e.g. `(config) => createModelProviders(config)`). */
  readonly providers: (config: ModelConfig) => ModelProviders;
  /** Loads a transcript stored as a blob reference (`messages: { blobRef }`). */
  readonly resolveBlob?: (ref: string) => Promise<ModelMessage[]>;
  readonly now?: () => number;
}

/**
 * The `callModel` activity: exactly one model call per invocation, routed by role and `attempt`, with the
 * outcome classified and priced. A malformed input throws (a caller bug); a failed call is returned.
 */
export function createCallModelActivity(
  deps: CallModelActivityDeps,
): (input: unknown) => Promise<CallModelResult> {
  const now = deps.now ?? Date.now;
  let providersFor: { config: ModelConfig; providers: ModelProviders } | undefined;

  const providersOf = (config: ModelConfig) => {
    if (providersFor?.config !== config) providersFor = { config, providers: deps.providers(config) };
    return providersFor.providers;
  };

  async function transcript(messages: CallModelInput['messages']): Promise<ModelMessage[]> {
    if (Array.isArray(messages)) return messages;
    if (!deps.resolveBlob)
      throw new Error('callModel got messages as a blob reference but has no resolveBlob');
    const resolved = z
      .array(ModelMessage)
      .min(1)
      .safeParse(await deps.resolveBlob(messages.blobRef));
    if (!resolved.success) {
      throw new Error(
        `Transcript ${messages.blobRef} is not a list of messages: ${describeIssues(resolved.error)}`,
      );
    }
    // The agent loop saves a snapshot rarely and sends the turns after it inline as `tail`.
    return [...resolved.data, ...(messages.tail ?? [])];
  }

  return async function callModel(raw: unknown): Promise<CallModelResult> {
    const input = parseActivityInput(CallModelInput, raw, 'callModel');
    const config = deps.config();
    const { route, fallbackAvailable } = resolveRoute(config, input.role, input.attempt, input.route);
    const messages = await transcript(input.messages);
    const checkOutput = input.outputSchema ? compileOutputSchema(input.outputSchema) : undefined;
    const provider = await providersOf(config).get(route.provider);
    const failure = (
      details: Omit<CallModelFailure, 'ok' | 'provider' | 'deployment' | 'fallbackAvailable'>,
    ) =>
      CallModelResult.parse({
        ok: false,
        ...details,
        provider: route.provider satisfies ProviderKind,
        deployment: route.deployment,
        fallbackAvailable,
      });

    const startedAt = now();
    let response;
    try {
      response = await provider.call({
        deployment: route.deployment,
        ...(input.system === undefined ? {} : { system: input.system }),
        messages,
        ...(input.tools === undefined ? {} : { tools: input.tools }),
        ...(input.outputSchema === undefined ? {} : { outputSchema: input.outputSchema }),
        maxTokens: input.maxTokens ?? config.defaultMaxTokens,
        ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
        ...(input.reasoningEffort === undefined ? {} : { reasoningEffort: input.reasoningEffort }),
      });
    } catch (error) {
      return failure(classifyModelError(error, { nowMs: now(), secrets: provider.secrets }));
    }
    const latencyMs = Math.max(0, now() - startedAt);

    let structured: unknown;
    if (response.structured && checkOutput) {
      const checked = checkOutput(response.structured.value);
      if (!checked.ok) {
        return failure({
          kind: 'invalid_output',
          retryable: false,
          message: `Structured answer does not match outputSchema: ${checked.problem}`,
        });
      }
      structured = checked.value;
    }
    const price = findPrice(config.prices, response.model, route.deployment);
    return CallModelResult.parse({
      ok: true,
      message: response.message,
      stopReason: response.stopReason,
      ...(structured === undefined ? {} : { structured }),
      usage: response.usage,
      costUsd: price ? costUsd(response.usage, price) : 0,
      priced: price !== undefined,
      provider: route.provider,
      deployment: route.deployment,
      model: response.model,
      offline: response.offline,
      latencyMs,
    });
  };
}

/** The activity wired to the environment's configuration and real SDK clients (what src/index.ts registers). */
export function createDefaultCallModelActivity(
  resolveBlob?: CallModelActivityDeps['resolveBlob'],
): (input: unknown) => Promise<CallModelResult> {
  return createCallModelActivity({
    config: getModelConfig,
    providers: sharedModelProviders,
    ...(resolveBlob ? { resolveBlob } : {}),
  });
}
