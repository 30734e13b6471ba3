import { z } from 'zod';
import { anthropicRequestProblem, claudeThinks } from './anthropicRules.js';
import { CHARS_PER_TOKEN } from './constants.js';
import { claudeFileCheck, openAIFileCheck, openAIFileParts, withFiles } from './fileRules.js';
import { serverToolsOf, serverToolsRunThisTurn, type ServerToolOffered } from './serverTools.js';

export type Protocol = 'anthropic' | 'openai';
export type JsonObject = Record<string, unknown>;

/** What the offline model needs from a request, the same for both wire protocols. */
export interface RequestView {
  readonly protocol: Protocol;
  readonly model: string;
  readonly system: string;
  readonly lastUserText: string;
  readonly hasToolResult: boolean;
  /** Custom (client) tools; Claude's server tools are in `serverTools`. */
  readonly tools: readonly { readonly name: string; readonly inputSchema: JsonObject }[];
  /** Claude: the server tools offered (serverTools.ts), and the names of those already run this turn. */
  readonly serverTools?: readonly ServerToolOffered[];
  readonly serverToolsRun?: readonly string[];
  readonly toolChoice: 'auto' | 'any' | 'none' | { readonly name: string };
  /** Native structured output: Anthropic `output_config.format`, OpenAI `response_format`. */
  readonly outputSchema: JsonObject | undefined;
  /** Characters of prompt, for deterministic token counts (files count as their tokens, fileRules.ts). */
  readonly promptChars: number;
  /** Text read from attached images and PDFs (documentText.ts): what answers draw on. */
  readonly attachmentText?: string;
  /** Claude: the request's `max_tokens`, and whether the model thinks (anthropicRules.ts). */
  readonly maxTokens?: number;
  readonly thinking?: boolean;
  /** Set on an OpenAI Responses API request (responsesWire.ts): the answer is a `Response`. */
  readonly responses?: {
    readonly reasoning: boolean;
    readonly encryptedReasoning: boolean;
    readonly effort: string;
  };
}

const Json = z.record(z.string(), z.unknown());
const AnthropicText = z.object({ type: z.literal('text'), text: z.string() });
const AnthropicBlock = z.looseObject({ type: z.string() });

const AnthropicRequest = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  system: z.union([z.string(), z.array(AnthropicText.loose())]).optional(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(AnthropicBlock)]),
      }),
    )
    .min(1),
  tools: z.array(z.looseObject({ name: z.string(), input_schema: Json.optional() })).optional(),
  tool_choice: z
    .looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional() })
    .optional(),
  output_config: z.looseObject({ format: z.looseObject({ schema: Json }).nullish() }).optional(),
});

const OpenAIContent = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  z.null(),
]);
const OpenAIRequest = z.looseObject({
  model: z.string().min(1),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: OpenAIContent.optional(),
      }),
    )
    .min(1),
  tools: z
    .array(
      z.looseObject({
        type: z.literal('function'),
        function: z.looseObject({ name: z.string(), parameters: Json.optional() }),
      }),
    )
    .optional(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.looseObject({ function: z.looseObject({ name: z.string() }) }),
    ])
    .optional(),
  response_format: z
    .looseObject({ type: z.string(), json_schema: z.looseObject({ schema: Json.optional() }).optional() })
    .optional(),
});

function blockText(block: z.infer<typeof AnthropicBlock>): string {
  if (typeof block.text === 'string') return block.text;
  if (typeof block.content === 'string') return block.content;
  if (Array.isArray(block.content)) {
    return block.content.map((part: unknown) => AnthropicText.safeParse(part).data?.text ?? '').join('\n');
  }
  return '';
}

function openAIText(content: z.infer<typeof OpenAIContent> | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('\n');
}

function viewAnthropic(body: z.infer<typeof AnthropicRequest>): RequestView {
  const system =
    typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join('\n');
  const lastUser = body.messages.filter((m) => m.role === 'user').at(-1);
  const lastUserText =
    typeof lastUser?.content === 'string'
      ? lastUser.content
      : (lastUser?.content ?? []).map(blockText).join('\n');
  const hasToolResult = body.messages.some(
    (m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result'),
  );
  const choice = body.tool_choice;
  return {
    protocol: 'anthropic',
    model: body.model,
    system,
    lastUserText,
    hasToolResult,
    tools: (body.tools ?? [])
      .filter((t) => t.type === undefined || t.type === null || t.type === 'custom')
      .map((t) => ({ name: t.name, inputSchema: t.input_schema ?? {} })),
    serverTools: serverToolsOf(body.tools ?? []),
    serverToolsRun: serverToolsRunThisTurn(body.messages),
    toolChoice: !choice ? 'auto' : choice.type === 'tool' ? { name: choice.name ?? '' } : choice.type,
    outputSchema: body.output_config?.format?.schema,
    promptChars:
      system.length + JSON.stringify(body.messages).length + JSON.stringify(body.tools ?? []).length,
    maxTokens: body.max_tokens,
    thinking: claudeThinks(body),
  };
}

function viewOpenAI(body: z.infer<typeof OpenAIRequest>): RequestView {
  const system = body.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => openAIText(m.content))
    .join('\n');
  const lastUser = body.messages.filter((m) => m.role === 'user' || m.role === 'tool').at(-1);
  const choice = body.tool_choice;
  const schema =
    body.response_format?.type === 'json_schema' ? body.response_format.json_schema?.schema : undefined;
  return {
    protocol: 'openai',
    model: body.model,
    system,
    lastUserText: openAIText(lastUser?.content),
    hasToolResult: body.messages.some((m) => m.role === 'tool'),
    tools: (body.tools ?? []).map((t) => ({
      name: t.function.name,
      inputSchema: t.function.parameters ?? {},
    })),
    toolChoice:
      choice === undefined || choice === 'auto'
        ? 'auto'
        : choice === 'required'
          ? 'any'
          : choice === 'none'
            ? 'none'
            : { name: choice.function.name },
    outputSchema: schema,
    promptChars: JSON.stringify(body.messages).length + JSON.stringify(body.tools ?? []).length,
  };
}

/** Validates the request body the way the real API would (400 with the path) and returns its view. */
export function viewRequest(
  protocol: Protocol,
  body: unknown,
): { ok: true; view: RequestView } | { ok: false; problem: string } {
  const parsed = protocol === 'anthropic' ? AnthropicRequest.safeParse(body) : OpenAIRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid request'}`,
    };
  }
  // The Messages API's rules beyond the request's shape (anthropicRules.ts, each with its source).
  const problem = protocol === 'anthropic' ? anthropicRequestProblem(parsed.data) : undefined;
  if (problem) return { ok: false, problem };
  const files =
    protocol === 'anthropic'
      ? claudeFileCheck(parsed.data.messages)
      : openAIFileCheck(openAIFileParts(parsed.data.messages, 'messages'));
  if (!files.ok) return { ok: false, problem: files.problem };
  const view =
    protocol === 'anthropic'
      ? viewAnthropic(parsed.data as z.infer<typeof AnthropicRequest>)
      : viewOpenAI(parsed.data as z.infer<typeof OpenAIRequest>);
  return { ok: true, view: withFiles(view, files.files, CHARS_PER_TOKEN) };
}

/** The view of a request that is not a valid model request (scripted replies still need one to render). */
export function emptyView(protocol: Protocol, promptChars: number): RequestView {
  return {
    protocol,
    model: 'unknown',
    system: '',
    lastUserText: '',
    hasToolResult: false,
    tools: [],
    toolChoice: 'auto',
    outputSchema: undefined,
    promptChars,
  };
}
