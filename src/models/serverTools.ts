/**
 * Claude's server tools (web search, web fetch, code execution) by deployment: which ones a deployment
 * offers (`CLAUDE_SERVER_TOOLS_JSON`), how a workflow tool maps to one, and what a call used of them.
 *
 * Tool types are those of `ToolUnion` in node_modules/@anthropic-ai/sdk/src/resources/messages/messages.ts
 * (SDK 1.12, all generally available: no `anthropic-beta` header). Which of them a Foundry deployment
 * accepts depends on its hosting (src/models/README.md, "Claude server tools").
 */
import type { ToolUnion } from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import type { ProviderKind, ServerToolUse } from '../shared/modelTypes.js';
import {
  CLAUDE_CODE_EXECUTION_MIN_HOURS,
  CLAUDE_CODE_EXECUTION_USD_PER_HOUR,
  CLAUDE_WEB_SEARCH_USD_PER_SEARCH,
} from './prices.js';

export type ServerToolKind = 'web_search' | 'web_fetch' | 'code_execution';
export const SERVER_TOOL_KINDS: readonly ServerToolKind[] = ['web_search', 'web_fetch', 'code_execution'];

/** Every version SDK 1.12's ToolUnion lists, oldest first; the last one is what a bare kind means. */
export const SERVER_TOOL_VERSIONS: Readonly<Record<ServerToolKind, readonly string[]>> = {
  web_search: ['web_search_20250305', 'web_search_20260209', 'web_search_20260318'],
  web_fetch: ['web_fetch_20250910', 'web_fetch_20260209', 'web_fetch_20260309', 'web_fetch_20260318'],
  code_execution: [
    'code_execution_20250522',
    'code_execution_20250825',
    'code_execution_20260120',
    'code_execution_20260521',
  ],
};

/** The newest version of each kind in SDK 1.12: what `"web_search"` in the setting means. */
export const CURRENT_SERVER_TOOL: Readonly<Record<ServerToolKind, string>> = {
  web_search: 'web_search_20260318',
  web_fetch: 'web_fetch_20260318',
  code_execution: 'code_execution_20260521',
};

/** The workflow tools a server tool stands in for (src/tools/registry.ts names them). */
export const SERVER_TOOL_FOR_WORKFLOW_TOOL: Readonly<Record<string, ServerToolKind>> = {
  web_search: 'web_search',
  fetch_url: 'web_fetch',
  run_code: 'code_execution',
};

/** What a deployment offers: kind → the exact tool type sent. */
export type ServerToolOffer = Readonly<Partial<Record<ServerToolKind, string>>>;

/** Deployment key (`name`, or `foundry:name` / `anthropic:name` for one provider only) → its offer. */
export type ServerToolSettings = Readonly<Record<string, ServerToolOffer>>;

const SETTING = 'CLAUDE_SERVER_TOOLS_JSON';

function kindOf(type: string): ServerToolKind | undefined {
  return SERVER_TOOL_KINDS.find((kind) => SERVER_TOOL_VERSIONS[kind].includes(type));
}

const Setting = z.record(z.string().min(1), z.array(z.string().min(1)));

/**
 * Parses `CLAUDE_SERVER_TOOLS_JSON`, e.g. `{"claude-opus-4-8":["web_search","code_execution"],
 * "foundry:claude-haiku-4-5":["web_search_20250305"]}`: per deployment, the server tools it offers, each
 * a kind (its newest version) or an exact versioned type. Unset = no deployment offers any.
 */
export function parseServerToolSettings(text: string | undefined): {
  settings: ServerToolSettings;
  problems: string[];
} {
  if (text === undefined) return { settings: {}, problems: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { settings: {}, problems: [`${SETTING} is not JSON: ${(error as Error).message}`] };
  }
  const parsed = Setting.safeParse(json);
  if (!parsed.success) {
    return {
      settings: {},
      problems: [
        `${SETTING} must be an object of deployment name → list of server tools, e.g. ` +
          `{"claude-opus-4-8":["web_search","code_execution"]} (${parsed.error.issues[0]?.path.join('.') || 'value'}: ${parsed.error.issues[0]?.message ?? ''})`,
      ],
    };
  }
  const problems: string[] = [];
  const settings: Record<string, ServerToolOffer> = {};
  for (const [key, tools] of Object.entries(parsed.data)) {
    const colon = key.indexOf(':');
    if (colon >= 0 && !['foundry', 'anthropic'].includes(key.slice(0, colon))) {
      problems.push(
        `${SETTING} key "${key}": a provider prefix must be "foundry:" or "anthropic:" (server tools are Claude's)`,
      );
      continue;
    }
    const offer: Partial<Record<ServerToolKind, string>> = {};
    for (const tool of tools) {
      const kind = SERVER_TOOL_KINDS.includes(tool as ServerToolKind)
        ? (tool as ServerToolKind)
        : kindOf(tool);
      if (!kind) {
        problems.push(
          `${SETTING} "${key}": unknown server tool "${tool}"; use ${SERVER_TOOL_KINDS.join(', ')} or one of ` +
            Object.values(SERVER_TOOL_VERSIONS).flat().join(', '),
        );
        continue;
      }
      if (offer[kind]) {
        problems.push(`${SETTING} "${key}": ${kind} is listed twice`);
        continue;
      }
      offer[kind] = kind === tool ? CURRENT_SERVER_TOOL[kind] : tool;
    }
    settings[key] = offer;
  }
  return { settings, problems };
}

/** The offer for one deployment: its provider-specific entry wins over the bare name; none = {}. */
export function serverToolOffer(
  settings: ServerToolSettings,
  provider: ProviderKind,
  deployment: string,
): ServerToolOffer {
  if (provider !== 'foundry' && provider !== 'anthropic') return {};
  return settings[`${provider}:${deployment}`] ?? settings[deployment] ?? {};
}

/** The server tool definition for a type (names are fixed by the API: `web_search`, `web_fetch`, `code_execution`). */
export function serverToolParam(type: string): ToolUnion {
  const kind = kindOf(type);
  if (!kind) throw new Error(`Unknown Claude server tool type "${type}"`);
  return { type, name: kind } as ToolUnion;
}

/** Versions from 2026-02-09 on run code execution for dynamic filtering, which makes it free. */
const FREE_CODE_EXECUTION = /^(web_search|web_fetch)_(\d{8})$/;

/**
 * Whether code execution in this request is free: "Code execution is free when used with
 * web_search_20260209 or web_fetch_20260209" or later (platform.claude.com/docs/en/about-claude/pricing,
 * "Code execution tool"; research notes §3.2).
 */
export function codeExecutionIsFree(toolTypes: readonly string[]): boolean {
  return toolTypes.some((type) => {
    const match = FREE_CODE_EXECUTION.exec(type);
    return match !== null && Number(match[2]) >= 20260209;
  });
}

const WireUsage = z.object({
  server_tool_use: z
    .object({
      web_search_requests: z.int().nonnegative().nullish(),
      web_fetch_requests: z.int().nonnegative().nullish(),
    })
    .nullish(),
});
const CODE_EXECUTION_CALLS = new Set(['code_execution', 'bash_code_execution', 'text_editor_code_execution']);

/**
 * What one Messages answer used of the server tools, and its fees beyond tokens:
 * - web search: $10 per 1,000 (`usage.server_tool_use.web_search_requests`; errored searches are not counted);
 * - web fetch: no fee, only the fetched content's tokens (`web_fetch_requests`);
 * - code execution: $0.05 per container-hour, 5-minute minimum, after 1,550 free hours a month per
 *   organization (pricing page). The API reports no container time (`Message.container` has only `id`
 *   and `expires_at`), so a call that used a container books the 5-minute minimum: an estimate, and the
 *   monthly free hours (org-wide, invisible here) are not subtracted. Free with web_search/web_fetch
 *   20260209+ in the request.
 * Undefined when the answer used none.
 */
export function serverToolUse(
  wire: { usage?: unknown; container?: unknown; content: readonly { type: string; name?: unknown }[] },
  requestToolTypes: readonly string[],
): ServerToolUse | undefined {
  const usage = WireUsage.safeParse(wire.usage ?? {});
  const counted = usage.success ? usage.data.server_tool_use : undefined;
  const webSearches = counted?.web_search_requests ?? 0;
  const webFetches = counted?.web_fetch_requests ?? 0;
  const codeExecutions = wire.content.filter(
    (block) => block.type === 'server_tool_use' && CODE_EXECUTION_CALLS.has(String(block.name)),
  ).length;
  const usedContainer = codeExecutions > 0 || (wire.container !== null && wire.container !== undefined);
  if (webSearches === 0 && webFetches === 0 && !usedContainer) return undefined;
  const containerHours =
    usedContainer && !codeExecutionIsFree(requestToolTypes) ? CLAUDE_CODE_EXECUTION_MIN_HOURS : 0;
  const feeUsd =
    Math.round(
      (webSearches * CLAUDE_WEB_SEARCH_USD_PER_SEARCH + containerHours * CLAUDE_CODE_EXECUTION_USD_PER_HOUR) *
        1e8,
    ) / 1e8;
  return { webSearches, webFetches, codeExecutions, containerHours, feeUsd };
}
