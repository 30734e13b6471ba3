import { z } from 'zod';
import { AttachmentError, fileUsage, loadAttachments, type ReadFile } from '../files/attachments.js';
import type { ModelConfig } from '../config/models.js';
import { costUsd, findPrice } from '../models/cost.js';
import { roundUsd } from '../shared/money.js';
import { classifyModelError } from '../models/errors.js';
import { findModelLimits } from '../models/modelLimits.js';
import { sharedModelProviders, type ModelProviders } from '../models/providers.js';
import { resolveRoute } from '../models/routing.js';
import { compileOutputSchema } from '../models/structuredOutput.js';
import {
  CallModelInput,
  CallModelResult,
  CallModelSuccess,
  ModelMessage,
  OFF_SCHEMA_MESSAGE,
  type CallModelFailure,
  type ProviderKind,
} from '../shared/modelTypes.js';
import type { PayloadRef } from '../shared/payloadRef.js';
import { recordChatInput, tracedCallModel } from '../telemetry/spans.js';
import { describeIssues, parseActivityInput } from './activityInput.js';

export interface CallModelActivityDeps {
  /** Model configuration (the `models` section of loadSettings in src/config/). */
  readonly config: () => ModelConfig;
  /** Builds the providers for a configuration, once (e.g. `(config) => createModelProviders(config)`). */
  readonly providers: (config: ModelConfig) => ModelProviders;
  /** Loads a transcript stored by reference (`messages: { ref }`, src/activities/payloadStore.ts `load`). */
  readonly resolvePayload?: (ref: PayloadRef) => Promise<unknown>;
  /**
   * Loads a transcript saved by `saveArtifact` (`messages: { blobRef }`), which instances older than the
   * transcript claim check still send (src/orchestrators/transcriptLegacy.ts).
   */
  readonly resolveBlob?: (ref: string) => Promise<unknown>;
  /** Reads the bytes of file blocks (`blobRef`), allowed containers only (src/files/blobFiles.ts). */
  readonly readFile?: ReadFile;
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
    let where: string;
    let stored: unknown;
    if ('ref' in messages) {
      if (!deps.resolvePayload)
        throw new Error('callModel got messages by reference ({ ref }) but has no resolvePayload');
      where = `${messages.ref.container}/${messages.ref.path}`;
      stored = await deps.resolvePayload(messages.ref);
    } else {
      if (!deps.resolveBlob)
        throw new Error('callModel got messages as a blob reference ({ blobRef }) but has no resolveBlob');
      where = messages.blobRef;
      stored = await deps.resolveBlob(messages.blobRef);
    }
    const resolved = z.array(ModelMessage).min(1).safeParse(stored);
    if (!resolved.success) {
      throw new Error(`Transcript ${where} is not a list of messages: ${describeIssues(resolved.error)}`);
    }
    // The agent loop stores a snapshot rarely and sends the turns after it inline as `tail`.
    return [...resolved.data, ...(messages.tail ?? [])];
  }

  return async function callModel(raw: unknown): Promise<CallModelResult> {
    const input = parseActivityInput(CallModelInput, raw, 'callModel');
    const config = deps.config();
    const { route, fallbackAvailable } = resolveRoute(config, input.role, input.attempt, input.route);
    const transcribed = await transcript(input.messages);
    const checkOutput = input.outputSchema ? compileOutputSchema(input.outputSchema) : undefined;
    const provider = await providersOf(config).get(route.provider);
    // Recorded before attachments are loaded, so file bytes never go into a span.
    recordChatInput(
      { ...(input.system === undefined ? {} : { system: input.system }), messages: transcribed },
      provider.secrets,
    );
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

    let messages: ModelMessage[];
    try {
      messages = await loadAttachments(transcribed, route.provider, deps.readFile);
    } catch (error) {
      // A file the provider would refuse (wrong type, too large): the same 400 the API would give.
      if (!(error instanceof AttachmentError)) throw error;
      return failure({ kind: 'bad_request', retryable: false, status: 400, message: error.message });
    }

    const maxTokens = input.maxTokens ?? config.defaultMaxTokens;
    // The step's thinking and effort win; else the role's (MODEL_ROLE_<ROLE>_THINKING, …), else the model's default.
    const roleConfig = config.roles[input.role];
    const thinking = input.thinking ?? roleConfig?.thinking;
    const effort = input.effort ?? roleConfig?.effort;
    const reasoningEffort = input.reasoningEffort ?? roleConfig?.reasoningEffort;
    const startedAt = now();
    let response;
    try {
      response = await provider.call({
        deployment: route.deployment,
        ...(input.system === undefined ? {} : { system: input.system }),
        messages,
        ...(input.tools === undefined ? {} : { tools: input.tools }),
        ...(input.outputSchema === undefined ? {} : { outputSchema: input.outputSchema }),
        maxTokens,
        ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
        ...(thinking === undefined ? {} : { thinking }),
        ...(effort === undefined ? {} : { effort }),
        ...(reasoningEffort === undefined ? {} : { reasoningEffort }),
      });
    } catch (error) {
      return failure(classifyModelError(error, { nowMs: now(), secrets: provider.secrets }));
    }
    const latencyMs = Math.max(0, now() - startedAt);

    const price = findPrice(config.prices, response.model, route.deployment);
    const known = findModelLimits(response.model, route.deployment);
    const files = fileUsage(messages, route.provider, price?.input ?? 0);
    const answered = CallModelSuccess.parse({
      ok: true,
      message: response.message,
      stopReason: response.stopReason,
      usage: response.usage,
      // Server-tool fees (per search, container time) are billed whether or not the model is priced.
      costUsd: roundUsd((price ? costUsd(response.usage, price) : 0) + (response.serverTools?.feeUsd ?? 0)),
      priced: price !== undefined,
      provider: route.provider,
      deployment: route.deployment,
      model: response.model,
      offline: response.offline,
      latencyMs,
      limits: { maxTokens, ...known },
      fallbackAvailable,
      ...(files ? { files } : {}),
      ...(response.serverTools ? { serverTools: response.serverTools } : {}),
    });
    if (!response.structured || !checkOutput) return answered;
    const checked = checkOutput(response.structured.value);
    if (!checked.ok) {
      // The answer was billed: it goes back with the failure for the ledger and the repair call.
      return failure({
        kind: 'invalid_output',
        retryable: false,
        message: `${OFF_SCHEMA_MESSAGE}${checked.problem}`,
        answered,
      });
    }
    return { ...answered, structured: checked.value };
  };
}

/** The activity wired to the app's model settings and real SDK clients (what src/index.ts registers). */
export function createDefaultCallModelActivity(
  config: ModelConfig,
  resolvers: Pick<CallModelActivityDeps, 'resolvePayload' | 'resolveBlob' | 'readFile'> = {},
): (input: unknown) => Promise<CallModelResult> {
  return tracedCallModel(
    createCallModelActivity({ config: () => config, providers: sharedModelProviders, ...resolvers }),
  );
}
