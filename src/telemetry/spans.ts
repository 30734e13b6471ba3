/**
 * The spans the app makes: one `invoke_workflow` span where a run starts, one `chat` span per model call
 * and one `execute_tool` span per tool call, all in the run's trace (src/telemetry/README.md).
 *
 * Everything goes through @opentelemetry/api: with no SDK registered (no exporter configured) the tracer
 * is the API's no-op, spans are non-recording, nothing is serialized and no trace context is carried.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { redactSecrets as redactCredentials, type Secret } from '../models/secret.js';
import type { CallModelResult, ModelMessage, ProviderKind, ToolDefinition } from '../shared/modelTypes.js';
import type { ToolCallResult } from '../shared/toolTypes.js';
import type { RunTrace } from '../shared/traceTypes.js';
import { DurableAgents, ERROR_TYPE, GenAi, GenAiOperation } from './attributes.js';
import {
  captureMessageContent,
  finishReason,
  inputMessages,
  outputMessages,
  redactedJson,
} from './content.js';
import { withRunAttributes } from './runContext.js';
import { flushSpans } from './setup.js';

const TRACER_NAME = 'durable-agents';
const RUN_KEYS = [DurableAgents.instanceId, DurableAgents.workflow, DurableAgents.stepId, GenAi.workflowName];
const tracer = () => trace.getTracer(TRACER_NAME);

/**
 * `gen_ai.provider.name` for each provider kind, as the semantic conventions name them
 * (GEN_AI_PROVIDER_NAME_VALUE_*): Claude on Microsoft Foundry speaks the Anthropic Messages API, so it
 * is `anthropic`; the kind itself goes in `durable_agents.provider`.
 */
export const GEN_AI_PROVIDER: Readonly<Record<ProviderKind, string>> = {
  foundry: 'anthropic',
  anthropic: 'anthropic',
  'azure-openai': 'azure.ai.openai',
  openai: 'openai',
};

/** The context a carried run trace stands for; the active context when there is none. */
export function contextOf(carrier: RunTrace | undefined): Context {
  if (carrier === undefined) return otelContext.active();
  const headers: Record<string, string> = { traceparent: carrier.traceparent };
  if (carrier.tracestate !== undefined) headers.tracestate = carrier.tracestate;
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** The trace context to carry for this span, or undefined when it is not a real (recording) trace. */
export function carrierOf(ctx: Context): RunTrace | undefined {
  const span = trace.getSpan(ctx);
  if (!span || !isSpanContextValid(span.spanContext())) return undefined;
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  if (headers.traceparent === undefined) return undefined;
  return {
    traceparent: headers.traceparent,
    ...(headers.tracestate ? { tracestate: headers.tracestate } : {}),
  };
}

/** `durable_agents.*` attributes from a carried trace and the call's own ids (every span gets them). */
function runAttributes(
  carrier: RunTrace | undefined,
  runId: string | undefined,
  stepId?: string,
): Attributes {
  const instanceId = carrier?.runId ?? runId;
  const attributes: Attributes = {};
  if (instanceId !== undefined) attributes[DurableAgents.instanceId] = instanceId;
  if (carrier?.workflow !== undefined) {
    attributes[DurableAgents.workflow] = carrier.workflow;
    attributes[GenAi.workflowName] = carrier.workflow;
  }
  if (stepId !== undefined) attributes[DurableAgents.stepId] = stepId;
  return attributes;
}

/** Marks a span failed with a low-cardinality `error.type` and a message without secrets. */
function fail(span: Span, type: string, message: string, secrets: readonly Secret[] = []): void {
  span.setAttribute(ERROR_TYPE, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: redactCredentials(message, secrets).slice(0, 500) });
}

function thrown(span: Span, error: unknown): void {
  const type = error instanceof Error ? error.name || 'Error' : typeof error;
  fail(span, type, error instanceof Error ? error.message : String(error));
}

/**
 * Runs `work` in a span, ends it, then flushes the exporter: a Functions worker may be stopped or
 * frozen between invocations, so the spans are sent before the invocation returns (bounded by the
 * exporter's own timeout, `OTEL_EXPORTER_OTLP_TIMEOUT`). Errors are recorded and rethrown.
 */
async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes: Attributes },
  parent: Context,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, options, parent);
  try {
    const run: Attributes = {};
    for (const key of RUN_KEYS) if (options.attributes[key] !== undefined) run[key] = options.attributes[key];
    const active = withRunAttributes(trace.setSpan(parent, span), run);
    return await otelContext.with(active, () => work(span));
  } catch (error) {
    thrown(span, error);
    throw error;
  } finally {
    const recording = span.isRecording();
    span.end();
    if (recording) await flushSpans();
  }
}

/** Loose view of an activity input: the ids spans need, read before the activity validates it. */
function fieldsOf(input: unknown): Record<string, unknown> {
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
}
const stringOf = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

function carriedTrace(input: unknown): RunTrace | undefined {
  const trace = fieldsOf(input).trace;
  if (typeof trace !== 'object' || trace === null) return undefined;
  const { traceparent, tracestate, runId, workflow } = trace as Record<string, unknown>;
  const parent = stringOf(traceparent);
  if (parent === undefined) return undefined;
  return {
    traceparent: parent,
    ...(stringOf(tracestate) ? { tracestate: stringOf(tracestate) } : {}),
    ...(stringOf(runId) ? { runId: stringOf(runId) } : {}),
    ...(stringOf(workflow) ? { workflow: stringOf(workflow) } : {}),
  };
}

/**
 * Starts a run inside an `invoke_workflow <workflow>` span, child of the active context (the HTTP
 * request's or the host's trace, else a new root): `start` gets the span's trace context to put in the
 * orchestration input (undefined when tracing is off) and returns the run's instance id.
 */
export function traceRunStart<T extends { instanceId: string; existing?: unknown }>(
  workflow: string,
  start: (carrier: RunTrace | undefined) => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    [GenAi.operationName]: GenAiOperation.invokeWorkflow,
    [GenAi.workflowName]: workflow,
    [DurableAgents.workflow]: workflow,
  };
  const trigger = activeTrigger();
  if (trigger !== undefined) attributes[DurableAgents.trigger] = trigger;
  return inSpan(
    `${GenAiOperation.invokeWorkflow} ${workflow}`,
    { kind: SpanKind.INTERNAL, attributes },
    otelContext.active(),
    async (span) => {
      const started = await start(carrierOf(otelContext.active()));
      span.setAttribute(DurableAgents.instanceId, started.instanceId);
      if (started.existing !== undefined) span.setAttribute(DurableAgents.existing, true);
      return started;
    },
  );
}

/** Runs a trigger's handler in the trace its invocation came with (host trace context, else `traceparent`). */
export function withTriggerTrace<A extends unknown[], R>(
  trigger: 'http' | 'queue',
  handler: (...args: A) => R,
): (...args: A) => R {
  return (...args) => {
    const headers: Record<string, string> = {};
    for (const arg of args) {
      const host = fieldsOf(fieldsOf(arg).traceContext);
      const hostParent = stringOf(host.traceParent) ?? stringOf(host.traceparent);
      if (hostParent !== undefined && headers.traceparent === undefined) {
        headers.traceparent = hostParent;
        const state = stringOf(host.traceState) ?? stringOf(host.tracestate);
        if (state !== undefined) headers.tracestate = state;
      }
      // An HttpRequest's headers (a fetch Headers from the library's own undici, so no instanceof).
      const requestHeaders = fieldsOf(arg).headers as { get?: unknown } | undefined;
      if (typeof requestHeaders?.get === 'function' && headers.traceparent === undefined) {
        const get = (name: string) =>
          (requestHeaders.get as (name: string) => string | null).call(requestHeaders, name);
        const parent = get('traceparent');
        if (parent !== null) headers.traceparent = parent;
        const state = get('tracestate');
        if (state !== null) headers.tracestate = state;
      }
    }
    const base = otelContext.active();
    const parent = headers.traceparent === undefined ? base : propagation.extract(base, headers);
    return otelContext.with(parent.setValue(TRIGGER, trigger), () => handler(...args));
  };
}
const TRIGGER = Symbol.for('durable-agents.trigger');

/** The trigger `withTriggerTrace` recorded, for the start span. */
export function activeTrigger(): string | undefined {
  const value = otelContext.active().getValue(TRIGGER);
  return typeof value === 'string' ? value : undefined;
}

/** Request details callModel knows only after resolving the transcript; recorded when content capture is on. */
export function recordChatInput(
  request: { system?: string; messages: readonly ModelMessage[]; tools?: readonly ToolDefinition[] },
  secrets: readonly Secret[] = [],
): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording() || !captureMessageContent()) return;
  if (request.system !== undefined) {
    span.setAttribute(
      GenAi.systemInstructions,
      redactedJson([{ type: 'text', content: request.system }], secrets),
    );
  }
  span.setAttribute(GenAi.inputMessages, redactedJson(inputMessages(request.messages), secrets));
}

/** The callModel activity with a `chat <model>` span per call (GenAI semantic conventions). */
export function tracedCallModel(
  callModel: (input: unknown) => Promise<CallModelResult>,
): (input: unknown) => Promise<CallModelResult> {
  return (input) => {
    const fields = fieldsOf(input);
    const carrier = carriedTrace(input);
    const attributes: Attributes = {
      [GenAi.operationName]: GenAiOperation.chat,
      ...runAttributes(carrier, stringOf(fields.runId), stringOf(fields.stepId)),
    };
    if (stringOf(fields.role)) attributes[DurableAgents.role] = stringOf(fields.role);
    if (typeof fields.attempt === 'number') attributes[DurableAgents.attempt] = fields.attempt;
    if (typeof fields.maxTokens === 'number') attributes[GenAi.requestMaxTokens] = fields.maxTokens;
    if (typeof fields.temperature === 'number') attributes[GenAi.requestTemperature] = fields.temperature;
    return inSpan(
      GenAiOperation.chat,
      { kind: SpanKind.CLIENT, attributes },
      contextOf(carrier),
      async (span) => {
        const result = await callModel(input);
        span.updateName(`${GenAiOperation.chat} ${result.deployment}`);
        span.setAttributes({
          [GenAi.providerName]: GEN_AI_PROVIDER[result.provider],
          [DurableAgents.provider]: result.provider,
          [GenAi.requestModel]: result.deployment,
        });
        const answered = result.ok ? result : result.answered;
        if (answered) {
          const { usage } = answered;
          span.setAttributes({
            [GenAi.responseModel]: answered.model,
            [GenAi.responseFinishReasons]: [finishReason(answered.stopReason)],
            // The conventions count cached tokens in input_tokens; our usage keeps them apart.
            [GenAi.usageInputTokens]: usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
            [GenAi.usageOutputTokens]: usage.outputTokens,
            [GenAi.usageCacheReadInputTokens]: usage.cacheReadTokens,
            [GenAi.usageCacheCreationInputTokens]: usage.cacheWriteTokens,
            [DurableAgents.costUsd]: answered.costUsd,
            [DurableAgents.offline]: answered.offline,
          });
          if (span.isRecording() && captureMessageContent()) {
            span.setAttribute(
              GenAi.outputMessages,
              redactedJson(outputMessages(answered.message, answered.stopReason)),
            );
          }
        }
        if (!result.ok) fail(span, result.kind, result.message);
        return result;
      },
    );
  };
}

/** A tool activity with an `execute_tool <name>` span per call. */
export function tracedToolCall(
  handler: (input: unknown) => Promise<ToolCallResult>,
): (input: unknown) => Promise<ToolCallResult> {
  return (input) => {
    const fields = fieldsOf(input);
    const carrier = carriedTrace(input);
    const name = stringOf(fields.name) ?? 'unknown';
    const attributes: Attributes = {
      [GenAi.operationName]: GenAiOperation.executeTool,
      [GenAi.toolName]: name,
      [GenAi.toolType]: 'function',
      ...runAttributes(carrier, stringOf(fields.runId), stringOf(fields.stepId)),
    };
    if (stringOf(fields.toolUseId)) attributes[GenAi.toolCallId] = stringOf(fields.toolUseId);
    const label = `${GenAiOperation.executeTool} ${name}`;
    return inSpan(label, { kind: SpanKind.INTERNAL, attributes }, contextOf(carrier), async (span) => {
      const capture = span.isRecording() && captureMessageContent();
      if (capture) span.setAttribute(GenAi.toolCallArguments, redactedJson(fields.arguments ?? {}));
      const result = await handler(input);
      if (capture) span.setAttribute(GenAi.toolCallResult, redactedJson(result.content));
      if (result.isError) fail(span, result.errorKind ?? 'tool_error', result.content.slice(0, 200));
      return result;
    });
  };
}
