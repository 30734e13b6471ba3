/**
 * The run's attributes (`durable_agents.instance_id`, workflow, step) travel in the OpenTelemetry
 * context, and a span processor copies them onto every span started in it: the app's own spans and
 * those of instrumented SDKs inside a call (the Anthropic SDK makes an `anthropic.messages.create`
 * span per request: node_modules/@anthropic-ai/sdk/internal/tracing.js), so every span of a run can be
 * found by its instance id.
 */
import { createContextKey, type Attributes, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

// createContextKey is Symbol.for(description): the same key in every copy of this module.
const RUN_ATTRIBUTES = createContextKey('durable_agents.run_attributes');

export function withRunAttributes(ctx: Context, attributes: Attributes): Context {
  return ctx.setValue(RUN_ATTRIBUTES, attributes);
}

/** Sets the run's attributes on each span that starts inside a run's call. */
export class RunAttributesProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const attributes = parentContext.getValue(RUN_ATTRIBUTES);
    if (attributes === undefined) return;
    for (const [key, value] of Object.entries(attributes as Attributes)) {
      // A span's own value wins (a nested call of another step keeps its step).
      if (value !== undefined && span.attributes[key] === undefined) span.setAttribute(key, value);
    }
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
