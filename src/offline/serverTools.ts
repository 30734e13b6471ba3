/**
 * Claude's server tools in the offline model: which tool types the Messages API knows, the 400 for any
 * other, and the wire format of a server-tool turn (`server_tool_use` + result blocks, usage
 * `server_tool_use` counts, `container`, `pause_turn`). The "Server tools" rows of README.md's tables list
 * these rules with their sources.
 */
import { shortHash } from './prng.js';
import type { JsonObject, RequestView } from './requestView.js';

/**
 * Every `type` of ToolUnion in node_modules/@anthropic-ai/sdk/src/resources/messages/messages.ts (SDK 1.12)
 * besides a custom tool's (`type` absent, `null` or `"custom"`). The API validates `tools[]` as a union
 * tagged by `type`, so any other type is a 400 invalid_request_error.
 */
export const KNOWN_TOOL_TYPES: ReadonlySet<string> = new Set([
  'bash_20250124',
  'code_execution_20250522',
  'code_execution_20250825',
  'code_execution_20260120',
  'code_execution_20260521',
  'browser_toolset_20260801',
  'memory_20250818',
  'computer_toolset_20260801',
  'text_editor_20250124',
  'text_editor_20250429',
  'text_editor_20250728',
  'web_search_20250305',
  'web_fetch_20250910',
  'web_search_20260209',
  'web_fetch_20260209',
  'web_fetch_20260309',
  'web_search_20260318',
  'web_fetch_20260318',
  'tool_search_tool_bm25_20251119',
  'tool_search_tool_bm25',
  'tool_search_tool_regex_20251119',
  'tool_search_tool_regex',
]);

/** The server tools the offline model runs itself (the ones the app offers, serverTools.ts in src/models). */
const SERVER_TOOL = /^(web_search|web_fetch|code_execution)_\d{8}$/;

export interface ServerToolOffered {
  readonly type: string;
  readonly name: string;
}

const isCustom = (type: unknown) => type === undefined || type === null || type === 'custom';

/**
 * A tool whose `type` the API does not know: "tools.N: Input tag '…' found using 'type' does not match any
 * of the expected tags" (the API's union validation; the SDK's ToolUnion is the list).
 */
export function unknownToolTypeProblem(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return undefined;
  for (const [index, tool] of tools.entries()) {
    if (typeof tool !== 'object' || tool === null) continue;
    const type = (tool as JsonObject).type;
    if (isCustom(type)) continue;
    if (typeof type !== 'string' || !KNOWN_TOOL_TYPES.has(type)) {
      return `tools.${index}: Input tag ${JSON.stringify(type)} found using 'type' does not match any of the expected tags`;
    }
  }
  return undefined;
}

/** The request's server tools, in order (custom tools are RequestView.tools). */
export function serverToolsOf(tools: readonly JsonObject[]): ServerToolOffered[] {
  return tools.flatMap((tool) =>
    typeof tool.type === 'string' && SERVER_TOOL.test(tool.type)
      ? [{ type: tool.type, name: String(tool.name) }]
      : [],
  );
}

/** The names of server tools already run in the current turn: after the last user message (a `pause_turn` continuation). */
export function serverToolsRunThisTurn(messages: readonly { role: string; content: unknown }[]): string[] {
  const lastUser = messages.findLastIndex((message) => message.role === 'user');
  return messages
    .slice(lastUser + 1)
    .flatMap((message) =>
      Array.isArray(message.content)
        ? (message.content as JsonObject[]).flatMap((block) =>
            block.type === 'server_tool_use' ? [String(block.name)] : [],
          )
        : [],
    );
}

/**
 * A hosting that does not offer a server tool the request carries (a Foundry deployment Hosted on Azure
 * and code execution, or a web search version newer than web_search_20250305): a 400, as the docs say for
 * such requests (research notes §0.4, §3.2; https://platform.claude.com/docs/en/build-with-claude/claude-in-microsoft-foundry).
 */
export function unofferedServerToolProblem(
  tools: readonly ServerToolOffered[],
  offered: readonly string[],
  model: string,
): string | undefined {
  const missing = tools.find((tool) => !offered.includes(tool.type));
  return missing
    ? `tools: ${missing.type} is not supported for model ${model} on this deployment`
    : undefined;
}

const FIXED_TIME = '2026-01-01T00:00:00Z';
const DIRECT = { type: 'direct' };

function firstUrl(text: string): string {
  return /https?:\/\/[^\s"'<>)]+/.exec(text)?.[0] ?? 'https://example.com/';
}

/**
 * The `server_tool_use` and result blocks of one run of a server tool, with deterministic content drawn
 * from the last user message. Shapes: ServerToolUseBlock, WebSearchToolResultBlock, WebFetchToolResultBlock,
 * BashCodeExecutionToolResultBlock and CodeExecutionToolResultBlock (code_execution_20250522) in the SDK types.
 */
export function serverToolBlocks(tool: ServerToolOffered, view: RequestView, seed: string): JsonObject[] {
  const id = `srvtoolu_offline_${shortHash(`${seed}:${tool.type}`, 20)}`;
  const subject = view.lastUserText.replace(/\s+/g, ' ').trim().slice(0, 80);
  if (tool.type.startsWith('web_search_')) {
    const results = [1, 2].map((n) => ({
      type: 'web_search_result',
      url: `https://example.com/offline/${shortHash(`${seed}:result${n}`, 12)}`,
      title: `[offline] Result ${n} for ${subject}`,
      encrypted_content: `offline-${shortHash(`${seed}:content${n}`, 32)}`,
      page_age: null,
    }));
    return [
      { type: 'server_tool_use', id, caller: DIRECT, name: 'web_search', input: { query: subject } },
      { type: 'web_search_tool_result', tool_use_id: id, caller: DIRECT, content: results },
    ];
  }
  if (tool.type.startsWith('web_fetch_')) {
    const url = firstUrl(view.lastUserText);
    return [
      { type: 'server_tool_use', id, caller: DIRECT, name: 'web_fetch', input: { url } },
      {
        type: 'web_fetch_tool_result',
        tool_use_id: id,
        caller: DIRECT,
        content: {
          type: 'web_fetch_result',
          url,
          retrieved_at: FIXED_TIME,
          content: {
            type: 'document',
            source: { type: 'text', media_type: 'text/plain', data: `[offline] Content of ${url}` },
            title: null,
            citations: null,
          },
        },
      },
    ];
  }
  const output = { stdout: `[offline] ran code for: ${subject}\n`, stderr: '', return_code: 0, content: [] };
  if (tool.type === 'code_execution_20250522') {
    return [
      { type: 'server_tool_use', id, caller: DIRECT, name: 'code_execution', input: { code: 'print(1)' } },
      {
        type: 'code_execution_tool_result',
        tool_use_id: id,
        content: { type: 'code_execution_result', ...output },
      },
    ];
  }
  // From code_execution_20250825 on, Claude runs bash commands and file edits in the container.
  return [
    {
      type: 'server_tool_use',
      id,
      caller: DIRECT,
      name: 'bash_code_execution',
      input: { command: 'python3 -c "print(1)"' },
    },
    {
      type: 'bash_code_execution_tool_result',
      tool_use_id: id,
      content: { type: 'bash_code_execution_result', ...output },
    },
  ];
}

/** `usage.server_tool_use` (ServerToolUsage) and `container` (Container) for an answer's content. */
export function serverToolAccounting(
  content: readonly JsonObject[],
  seed: string,
): { serverToolUse: JsonObject | null; container: JsonObject | null } {
  const names = content.flatMap((block) => (block.type === 'server_tool_use' ? [String(block.name)] : []));
  const count = (name: string) => names.filter((n) => n === name).length;
  const searches = content.filter(
    (block) => block.type === 'web_search_tool_result' && Array.isArray(block.content),
  ).length;
  const fetches = count('web_fetch');
  const code = names.some((name) => name.includes('code_execution'));
  return {
    serverToolUse:
      searches + fetches > 0 ? { web_search_requests: searches, web_fetch_requests: fetches } : null,
    container: code
      ? {
          id: `container_offline_${shortHash(`${seed}:container`, 20)}`,
          expires_at: FIXED_TIME,
          skills: null,
        }
      : null,
  };
}
