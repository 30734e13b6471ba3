import { OFFLINE_PREFIX } from './constants.js';
import { jsonObjectIn } from './documentText.js';
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
  if (view.outputSchema) {
    const value = valueFromSchema(view.outputSchema, random);
    return { kind: 'structured', value: fromAttachments(view, view.outputSchema, value) };
  }
  const choice = view.toolChoice;
  const server = choice === 'none' ? undefined : nextServerTool(view);
  if (server) {
    // One server tool per answer; with another still to run, the turn pauses (pause_turn) after it.
    const answer = offlineReply({ ...view, serverTools: [], hasToolResult: view.hasToolResult }, seed);
    return server.pause
      ? { kind: 'text', text: '', stopReason: 'pause_turn', serverTool: server.tool }
      : { ...(answer as Extract<RenderableReply, { kind: 'text' | 'tool_use' }>), serverTool: server.tool };
  }
  if (typeof choice === 'object') {
    const forced = view.tools.find((tool) => tool.name === choice.name);
    if (forced) {
      // A forced tool is how structured output goes through tool mode (emit_output): it reads files too.
      const input = fromAttachments(view, forced.inputSchema, toolInput(forced.inputSchema, random));
      return { kind: 'tool_use', name: forced.name, input: input as JsonObject };
    }
  }
  if (choice !== 'none' && view.tools.length > 0) {
    const tool = !view.hasToolResult ? view.tools[0] : choice === 'any' ? view.tools.at(-1) : undefined;
    if (tool) return { kind: 'tool_use', name: tool.name, input: toolInput(tool.inputSchema, random) };
  }
  const read = view.attachmentText ? `\n${view.attachmentText}` : '';
  return { kind: 'text', text: summarize(`${view.lastUserText}${read}`) };
}

/**
 * The offline model's server-side loop runs one server tool per answer, in the order offered, each once a
 * turn (`serverToolsRun`: those already run since the last user message, i.e. before a `pause_turn`). When
 * another offered server tool is still to run after this one, the answer pauses, as Claude does when its
 * server-side loop stops before the turn is done
 * (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons#pause-turn).
 */
function nextServerTool(
  view: RequestView,
): { tool: NonNullable<RequestView['serverTools']>[number]; pause: boolean } | undefined {
  const pending = (view.serverTools ?? []).filter((tool) => !(view.serverToolsRun ?? []).includes(tool.name));
  const [tool, ...rest] = pending;
  return tool ? { tool, pause: rest.length > 0 } : undefined;
}

/**
 * A structured answer that "reads" the attached files: the properties the schema declares take their
 * values from the first JSON object in the files' text (documentText.ts), the rest stay schema-generated.
 * So a document that shows `{"vendor": "Acme", "total": 12.5}` is extracted as such, deterministically.
 */
function fromAttachments(view: RequestView, schema: JsonObject, generated: unknown): unknown {
  const found = view.attachmentText ? jsonObjectIn(view.attachmentText) : undefined;
  const properties = schema.properties;
  if (!found || typeof properties !== 'object' || properties === null) return generated;
  if (typeof generated !== 'object' || generated === null || Array.isArray(generated)) return generated;
  const declared = Object.keys(properties);
  return {
    ...(generated as JsonObject),
    ...Object.fromEntries(Object.entries(found).filter(([key]) => declared.includes(key))),
  };
}
