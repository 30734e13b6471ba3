/**
 * Remote MCP servers as a tool source: their tools are offered to agent steps as `<server>__<tool>`, and each
 * call is one activity (`toolActivityName`, one per server) that connects with the SDK's own client
 * (`Client` + `StreamableHTTPClientTransport`, @modelcontextprotocol/sdk) and calls the tool.
 *
 * Every HTTP request the SDK makes goes through the injected `fetch`, after the injected URL check: the
 * transport takes a `fetch` option and uses it for its POSTs, its optional GET stream and redirects it
 * follows within the origin (node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js,
 * `send` and `_startOrAuthSse`; dist/esm/shared/transport.js `fetchWithinOrigin`). The same wrapper adds the
 * auth header and caps the response body.
 */
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolDefinition } from '../../shared/modelTypes.js';
import { ToolCallInput, type ToolCallResult } from '../../shared/toolTypes.js';
import { checkUrl } from '../../net/ssrfGuard.js';
import type { UrlPolicy } from '../../net/urlPolicy.js';
import { ResultBuilder, wrapUntrusted } from '../web/toolOutput.js';
import type { McpServerConfig } from '../../config/mcp.js';

/** Throws {@link McpUrlRefused} when a request to `url` must not be made. */
export type McpUrlCheck = (url: URL) => Promise<void>;
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export class McpUrlRefused extends Error {
  constructor(
    url: URL,
    readonly reason: string,
  ) {
    // Origin and path only: a configured URL's query may hold a key.
    super(`The URL policy refuses ${url.origin}${url.pathname}: ${reason}`);
    this.name = new.target.name;
  }
}

export class McpResponseTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`The MCP server's response is larger than ${maxBytes} bytes`);
    this.name = new.target.name;
  }
}

export interface McpToolsDeps {
  readonly servers: readonly McpServerConfig[];
  /** The URL policy for operator-configured endpoints; runs before every request. */
  readonly checkUrl: McpUrlCheck;
  /** Default: the global fetch. */
  readonly fetch?: FetchLike;
  /** Entra ID tokens for `auth.type: managed-identity`. */
  readonly getToken?: (scope: string) => Promise<string>;
  readonly now?: () => number;
  /** How long a server that could not be listed is left alone before a run start lists it again (30 s). */
  readonly relistAfterMs?: number;
  /** `serverInfo.version` of our client. */
  readonly version?: string;
}

/** Separates server and tool in a tool name; server names hold no `_`, so the first `__` ends the server. */
export const MCP_TOOL_SEPARATOR = '__';

/** The server part of `crm__lookup`, or undefined for a name without the separator. */
export function mcpServerOf(toolName: string): string | undefined {
  const at = toolName.indexOf(MCP_TOOL_SEPARATOR);
  return at > 0 ? toolName.slice(0, at) : undefined;
}

/**
 * `<server>__<tool>` within `^[a-zA-Z0-9_-]{1,64}$`, the name rule both Claude
 * (https://docs.anthropic.com/en/api/messages, `tools[].name`) and OpenAI (function names) accept, and
 * `ToolDefinition` enforces. Other characters become `_`; a name too long keeps its start and gets a
 * short hash of the original, so two long names stay apart.
 */
export function mcpToolName(server: string, tool: string): string {
  const name = `${server}${MCP_TOOL_SEPARATOR}${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  if (name.length <= 64 && name === `${server}${MCP_TOOL_SEPARATOR}${tool}`) return name;
  const hash = createHash('sha256').update(tool).digest('hex').slice(0, 8);
  return `${name.slice(0, 64 - hash.length - 1)}-${hash}`;
}

/** A fetch that refuses a body over `maxBytes`: by its Content-Length, or while it streams. */
function cappedResponse(response: Response, maxBytes: number): Response {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    void response.body?.cancel();
    throw new McpResponseTooLarge(maxBytes);
  }
  if (!response.body) return response;
  let seen = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(new McpResponseTooLarge(maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The fetch the SDK transport uses for one server: URL policy, auth, static headers, size cap. */
export function serverFetch(server: McpServerConfig, deps: McpToolsDeps): FetchLike {
  const base = deps.fetch ?? ((url, init) => fetch(url, init));
  return async (url, init) => {
    const target = new URL(url);
    await deps.checkUrl(target);
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(server.headers)) headers.set(name, value);
    if (server.auth?.type === 'key') {
      const key = server.auth.key.reveal();
      headers.set(server.auth.header, server.auth.header === 'authorization' ? `Bearer ${key}` : key);
    } else if (server.auth?.type === 'managed-identity') {
      if (!deps.getToken)
        throw new Error(`MCP server ${server.name}: no credential for managed-identity auth`);
      headers.set('authorization', `Bearer ${await deps.getToken(server.auth.scope)}`);
    }
    return cappedResponse(await base(target, { ...init, headers }), server.maxResponseBytes);
  };
}

async function withClient<T>(
  server: McpServerConfig,
  deps: McpToolsDeps,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ name: 'durable-agents', version: deps.version ?? '0' });
  const transport = new StreamableHTTPClientTransport(server.url, { fetch: serverFetch(server, deps) });
  try {
    await client.connect(transport, { timeout: server.timeoutMs });
    return await use(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Every tool the server lists, all pages. */
async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined && tools.length < 10_000);
  return tools;
}

/** What one discovered tool maps to. */
interface McpToolEntry {
  readonly server: string;
  /** The name the server gave it. */
  readonly tool: string;
  readonly spec: ToolDefinition;
}

export type McpServerState =
  | { readonly state: 'pending' }
  | { readonly state: 'ready'; readonly tools: readonly string[]; readonly skipped: readonly string[] }
  | { readonly state: 'unreachable'; readonly reason: string };

/** Why a call or a connection failed, for the app's log and the tool result; never holds headers. */
export function describeMcpError(error: unknown): string {
  if (error instanceof McpUrlRefused || error instanceof McpResponseTooLarge) return error.message;
  if (error instanceof StreamableHTTPError) return `HTTP ${error.code ?? '?'}: ${error.message}`;
  if (error instanceof McpError) return error.message;
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${cause.message})` : '';
    return `${error.message}${detail}`;
  }
  return String(error);
}

export interface McpTools {
  /** Lists every server's tools, at most once at a time; failures become `unreachable` states, never throws. */
  discover(): Promise<ReadonlyMap<string, McpServerState>>;
  states(): ReadonlyMap<string, McpServerState>;
  /** The discovered tools as the model sees them, by name. */
  specs(): Record<string, ToolDefinition>;
  /** Whether `name` belongs to a configured server (`<server>__…`). */
  owns(name: string): boolean;
  /**
   * Why runs using these tools cannot start, naming the server: unreachable, or the tool is not one it
   * lists. Undefined when every MCP tool among `names` is available (other names are not looked at).
   */
  problemFor(names: readonly string[]): string | undefined;
  /**
   * `problemFor` once the servers of these tools have been listed: waits for a listing under way, and lists
   * again a server that is not ready when its last try is older than `relistAfterMs`, so a server that
   * comes back is used again.
   */
  check(names: readonly string[]): Promise<string | undefined>;
  /** The activity handler for every MCP tool (a `ToolCallInput` in, a `ToolCallResult` out). */
  call(input: unknown): Promise<ToolCallResult>;
}

export function createMcpTools(deps: McpToolsDeps): McpTools {
  const now = deps.now ?? Date.now;
  const servers = new Map(deps.servers.map((server) => [server.name, server]));
  const states = new Map<string, McpServerState>(
    deps.servers.map((server) => [server.name, { state: 'pending' }]),
  );
  const entries = new Map<string, McpToolEntry>();
  let discovering: Promise<ReadonlyMap<string, McpServerState>> | undefined;
  const tried = new Map<string, number>();
  const listing = new Map<string, Promise<void>>();

  /** Lists one server's tools; a listing of it already under way is joined, not repeated. */
  function discoverServer(server: McpServerConfig): Promise<void> {
    const running = listing.get(server.name);
    if (running) return running;
    const next = listServer(server).finally(() => listing.delete(server.name));
    listing.set(server.name, next);
    return next;
  }

  async function listServer(server: McpServerConfig): Promise<void> {
    tried.set(server.name, now());
    try {
      const tools = await withClient(server, deps, (client) => listAllTools(client, server.timeoutMs));
      const names: string[] = [];
      const skipped: string[] = [];
      for (const [name, entry] of entries) if (entry.server === server.name) entries.delete(name);
      for (const tool of tools) {
        const name = mcpToolName(server.name, tool.name);
        const spec = ToolDefinition.safeParse({
          name,
          description: tool.description ?? tool.title ?? `${tool.name} (MCP server ${server.name})`,
          inputSchema: tool.inputSchema,
        });
        if (!spec.success || entries.has(name)) {
          skipped.push(tool.name);
          continue;
        }
        entries.set(name, { server: server.name, tool: tool.name, spec: spec.data });
        names.push(name);
      }
      states.set(server.name, { state: 'ready', tools: names.sort(), skipped });
    } catch (error) {
      states.set(server.name, { state: 'unreachable', reason: describeMcpError(error) });
    }
  }

  function discover(): Promise<ReadonlyMap<string, McpServerState>> {
    discovering ??= Promise.all([...servers.values()].map(discoverServer)).then(() => {
      discovering = undefined;
      return new Map(states);
    });
    return discovering;
  }

  function problemFor(names: readonly string[]): string | undefined {
    const problems = new Set<string>();
    for (const name of names) {
      const server = mcpServerOf(name);
      if (server === undefined || !servers.has(server)) continue;
      const state = states.get(server);
      if (state?.state === 'unreachable') {
        problems.add(
          `MCP server "${server}" is unreachable (${state.reason}), so its tool ${name} is not available`,
        );
      } else if (state?.state === 'pending') {
        problems.add(`MCP server "${server}" has not listed its tools yet, so ${name} is not available`);
      } else if (!entries.has(name)) {
        const listed = state?.state === 'ready' ? state.tools.join(', ') || 'none' : 'none';
        problems.add(`MCP server "${server}" offers no tool ${name} (it offers: ${listed})`);
      }
    }
    return problems.size === 0 ? undefined : [...problems].join('; ');
  }

  async function check(names: readonly string[]): Promise<string | undefined> {
    const relistAfterMs = deps.relistAfterMs ?? 30_000;
    const stale = [...new Set(names.map(mcpServerOf))].flatMap((name) => {
      const server = name === undefined ? undefined : servers.get(name);
      if (!server || states.get(server.name)?.state === 'ready') return [];
      const last = tried.get(server.name);
      return listing.has(server.name) || last === undefined || now() - last >= relistAfterMs ? [server] : [];
    });
    await Promise.all(stale.map(discoverServer));
    return problemFor(names);
  }

  async function call(rawInput: unknown): Promise<ToolCallResult> {
    const parsed = ToolCallInput.safeParse(rawInput);
    if (!parsed.success)
      throw new TypeError(`An MCP tool call got an invalid ToolCallInput: ${parsed.error.message}`);
    const input = parsed.data;
    const results = new ResultBuilder(input, input.name, now);
    const serverName = mcpServerOf(input.name);
    const server = serverName === undefined ? undefined : servers.get(serverName);
    if (!server) {
      return results.failure('not_configured', `No MCP server is configured for the tool ${input.name}.`);
    }
    // Activities may run in a process that has not listed this server's tools yet (or failed to): list now.
    if (!entries.has(input.name)) await discoverServer(server);
    const entry = entries.get(input.name);
    if (!entry) {
      const state = states.get(server.name);
      const why = state?.state === 'unreachable' ? `is unreachable (${state.reason})` : 'no longer lists it';
      return results.failure(
        'not_configured',
        `MCP server "${server.name}" ${why}: ${input.name} cannot be called.`,
        {
          retryable: state?.state === 'unreachable',
        },
      );
    }
    let answer: CallToolResult;
    try {
      answer = (await withClient(server, deps, (client) =>
        client.callTool({ name: entry.tool, arguments: input.arguments }, undefined, {
          timeout: server.timeoutMs,
        }),
      )) as CallToolResult;
    } catch (error) {
      return failureFor(results, server, entry.tool, error);
    }
    const text = contentText(answer);
    const maxBytes = Math.min(input.limits?.maxOutputBytes ?? server.maxOutputBytes, server.maxOutputBytes);
    const wrapped = wrapUntrusted({
      preamble: `Result of ${entry.tool} from the MCP server "${server.name}".`,
      source: `mcp:${server.name}`,
      body: text,
      maxBytes,
    });
    const data = answer.structuredContent === undefined ? {} : { data: answer.structuredContent };
    return answer.isError === true
      ? results.failure('upstream_error', wrapped.content, { truncated: wrapped.truncated, ...data })
      : results.success(wrapped.content, { truncated: wrapped.truncated, ...data });
  }

  return {
    discover,
    states: () => new Map(states),
    specs: () => Object.fromEntries([...entries].map(([name, entry]) => [name, entry.spec])),
    owns: (name) => {
      const server = mcpServerOf(name);
      return server !== undefined && servers.has(server);
    },
    problemFor,
    check,
    call,
  };
}

/** The result's content as text: text parts as they are, other parts described; else the structured content. */
function contentText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((part) => {
    switch (part.type) {
      case 'text':
        return part.text;
      case 'resource_link':
        return `[resource ${part.uri}]`;
      case 'resource':
        return 'text' in part.resource ? part.resource.text : `[resource ${part.resource.uri}]`;
      default:
        return `[${part.type} content, ${'mimeType' in part ? part.mimeType : 'unknown type'}]`;
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined)
    return JSON.stringify(result.structuredContent);
  return parts.join('\n');
}

/** A failed call as a typed tool result: what the model can act on, and whether trying again may help. */
function failureFor(
  results: ResultBuilder,
  server: McpServerConfig,
  tool: string,
  error: unknown,
): ToolCallResult {
  const where = `${tool} on the MCP server "${server.name}"`;
  const reason = describeMcpError(error);
  if (error instanceof McpUrlRefused)
    return results.failure('blocked_url', `${where} is not reachable: ${reason}`);
  if (error instanceof McpResponseTooLarge) return results.failure('output_too_large', `${where}: ${reason}`);
  if (error instanceof McpError) {
    if (error.code === Number(ErrorCode.RequestTimeout)) {
      return results.failure('timeout', `${where} did not answer within ${server.timeoutMs} ms`, {
        retryable: true,
      });
    }
    if (error.code === Number(ErrorCode.InvalidParams)) {
      return results.failure('invalid_arguments', `${where} refused the arguments: ${reason}`);
    }
    return results.failure('upstream_error', `${where} failed: ${reason}`);
  }
  if (error instanceof StreamableHTTPError) {
    const status = error.code ?? 0;
    if (status === 429) return results.failure('rate_limited', `${where}: ${reason}`, { retryable: true });
    if (status === 401 || status === 403)
      return results.failure('not_configured', `${where} refused our credentials: ${reason}`);
    return results.failure('upstream_error', `${where} failed: ${reason}`, {
      retryable: status === 408 || status >= 500,
    });
  }
  return results.failure('upstream_error', `${where} failed: ${reason}`, { retryable: true });
}

/**
 * The URL check for MCP servers: the app's URL policy (src/net) for an operator-configured endpoint, so a
 * server on a host listed in `URL_POLICY_ALLOW_HOSTS` is reachable and any other private, loopback,
 * link-local or metadata address is refused. The SDK transport then connects by name: the checked
 * addresses are not pinned for it (src/net/README.md).
 */
export function policyUrlCheck(policy: UrlPolicy): McpUrlCheck {
  return async (url) => {
    const check = await checkUrl(url, policy, { origin: 'operator' });
    if (!check.ok) throw new McpUrlRefused(url, check.reason);
  };
}
