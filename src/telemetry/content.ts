/**
 * Message content on spans: off unless `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`, and
 * then in the GenAI semantic conventions' shapes (gen_ai.input.messages / gen_ai.output.messages /
 * gen_ai.system_instructions: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and the
 * JSON schemas it links, gen-ai-input-messages.json and gen-ai-output-messages.json), with secrets
 * removed by the app's two redactors: secret-named keys and secret-shaped text (src/operator/redact.ts),
 * then credential shapes and the provider's own keys (src/models/secret.ts).
 */
import { redactSecrets as redactCredentials, type Secret } from '../models/secret.js';
import type { ContentBlock, ModelMessage, StopReason } from '../shared/modelTypes.js';
import { redactSecrets as redactKeys } from '../operator/redact.js';

/**
 * Whether prompts, answers and tool arguments/results go on spans. The telemetry section of loadSettings
 * (src/config/telemetry.ts) checks the value at startup; it is read per call so capture can be switched
 * for one investigation in a running process (test/app/telemetry.e2e.test.ts does).
 */
// eslint-disable-next-line no-restricted-properties -- a per-call switch, checked by src/config/telemetry.ts
export function captureMessageContent(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true';
}

/** A value as JSON text for a span attribute, with secrets redacted. */
export function redactedJson(value: unknown, secrets: readonly Secret[] = []): string {
  return redactCredentials(JSON.stringify(redactKeys(value)) ?? 'null', secrets);
}

type Part = Record<string, unknown> & { type: string };

function partOf(block: ContentBlock): Part | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', content: block.text };
    case 'tool_use':
      return { type: 'tool_call', id: block.id, name: block.name, arguments: block.input };
    case 'tool_result':
      return { type: 'tool_call_response', id: block.toolUseId, response: block.content };
    case 'thinking':
      return { type: 'reasoning', content: block.thinking };
    case 'reasoning':
      return block.summary === undefined
        ? undefined
        : { type: 'reasoning', content: block.summary.join('\n') };
    case 'redacted_thinking':
      return undefined;
    case 'provider':
      // Server-tool blocks (web search calls and results): named, their payload left out.
      return { type: typeof block.block.type === 'string' ? block.block.type : 'provider' };
  }
}

/** Transcript messages as gen_ai.input.messages; a user turn of only tool results has role `tool`. */
export function inputMessages(messages: readonly ModelMessage[]): object[] {
  return messages.map((message) => {
    const parts = message.content.flatMap((block) => partOf(block) ?? []);
    const toolTurn =
      message.role === 'user' && message.content.every((block) => block.type === 'tool_result');
    return { role: toolTurn ? 'tool' : message.role, parts };
  });
}

/**
 * The normalized stop reason as a semantic-conventions finish reason (`stop`, `length`, `tool_call`,
 * `content_filter`, the OutputMessage schema's values); others pass through as they are.
 */
export function finishReason(stop: StopReason): string {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_call';
    case 'refusal':
    case 'content_filter':
      return 'content_filter';
    default:
      return stop;
  }
}

/** The model's answer as gen_ai.output.messages. */
export function outputMessages(message: ModelMessage, stop: StopReason): object[] {
  return [
    {
      role: 'assistant',
      parts: message.content.flatMap((block) => partOf(block) ?? []),
      finish_reason: finishReason(stop),
    },
  ];
}
