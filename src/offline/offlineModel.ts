import { OFFLINE_PREFIX } from './constants.js';
import { seededRandom, seedFrom } from './prng.js';
import type { JsonObject, RequestView } from './requestView.js';
import { valueFromSchema } from './schemaValue.js';
import type { RenderableReply } from './wire.js';

const SUMMARY_WORDS = 40;

function summarize(text: string): string {
  const words = text.split(/\s+/).filter((word) => word.length > 0);
  if (words.length === 0) return `${OFFLINE_PREFIX} The last message was empty.`;
  const excerpt = words.slice(0, SUMMARY_WORDS).join(' ');
  return `${OFFLINE_PREFIX} Summary of the last message (${words.length} words): ${excerpt}${words.length > SUMMARY_WORDS ? ' …' : ''}`;
}

function toolInput(schema: JsonObject, random: () => number): JsonObject {
  const value = valueFromSchema(schema, random);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/**
 * The deterministic stand-in's answer: a schema-shaped value when structured output is asked for, a call
 * to the forced tool or (before any tool result) the first offered tool, otherwise a marked summary of the
 * last user message. `seed` is a hash of the request, so identical requests get identical answers.
 */
export function offlineReply(view: RequestView, seed: string): RenderableReply {
  const random = seededRandom(seedFrom(seed));
  if (view.outputSchema) return { kind: 'structured', value: valueFromSchema(view.outputSchema, random) };
  const choice = view.toolChoice;
  if (typeof choice === 'object') {
    const forced = view.tools.find((tool) => tool.name === choice.name);
    if (forced) return { kind: 'tool_use', name: forced.name, input: toolInput(forced.inputSchema, random) };
  }
  if (choice !== 'none' && view.tools.length > 0) {
    const tool = !view.hasToolResult ? view.tools[0] : choice === 'any' ? view.tools.at(-1) : undefined;
    if (tool) return { kind: 'tool_use', name: tool.name, input: toolInput(tool.inputSchema, random) };
  }
  return { kind: 'text', text: summarize(view.lastUserText) };
}
