/**
 * `POST /api/mcp`: the shipped workflows as an MCP server (Model Context Protocol, streamable HTTP transport),
 * so other agents can call them as tools. Each workflow is one tool named after it, with the workflow's input
 * schema as the tool's `inputSchema` and its description. A call starts a run through the same starter as
 * `POST /api/workflows/{name}` and answers with the run's output if it finishes within the wait, else with
 * its id and `runUrl` (`GET /api/runs/{id}`, function key).
 *
 * Stateless and JSON-only: a fresh `Server` and `WebStandardStreamableHTTPServerTransport` per request
 * (`sessionIdGenerator: undefined`; a stateless transport refuses a second request,
 * node_modules/@modelcontextprotocol/sdk/dist/esm/server/webStandardStreamableHttp.js `handleRequest`), and
 * `enableJsonResponse`, since a Functions HTTP response is one buffered body, not a stream. GET (the
 * optional server-to-client SSE stream) and DELETE (session end) answer 405, as the SDK's stateless example
 * does (dist/esm/examples/server/simpleStatelessStreamableHttp.js); its client treats a 405 on GET as "no
 * stream" (dist/esm/client/streamableHttp.js `_startOrAuthSse`).
 * Spec: https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { DurableClient } from 'durable-functions';
import type { WorkflowDefinition } from '../definitions/schema.js';
import { parseJsonText } from '../shared/jsonText.js';
import { FILE_REFERENCE_JSON_SCHEMA } from '../shared/fileTypes.js';
import type { WorkflowCatalog } from '../shared/workflows.js';
import { withFileReferences } from './openapi.js';
import type { RunStarter } from './runStarter.js';
import { toRunView, type RunView } from './runView.js';
import { MAX_BODY_BYTES, readBodyCapped, waitForRun } from './startWorkflow.js';

export interface McpEndpointDeps {
  readonly workflows: WorkflowCatalog;
  /** The shared run-starting path (validation, file intake, budget check, start). */
  readonly starter: RunStarter;
  readonly getClient: (context: InvocationContext) => DurableClient;
  /** `WORKFLOW_MAX_WAIT_SECONDS`: the default and the upper bound of a call's wait. */
  readonly maxWaitSeconds: () => number;
  /** Largest accepted body; default 1 MiB, as the starter. */
  readonly maxBodyBytes?: number;
  /** How often a call polls its run; default the starter's 250 ms. */
  readonly pollIntervalMs?: number;
  /** Reported as `serverInfo.version`. */
  readonly version?: string;
}

/**
 * The request `_meta` key a caller sets to wait a different number of seconds for a call's run (0 to
 * `WORKFLOW_MAX_WAIT_SECONDS`; default the maximum). `_meta` is the protocol's place for such
 * out-of-band parameters (https://modelcontextprotocol.io/specification/2025-11-25/basic#meta); the tool's
 * arguments stay exactly the workflow's input.
 */
export const WAIT_META_KEY = 'durable-agents/waitSeconds';

/** JSON-RPC error codes the transport itself uses for refused HTTP requests (-32700 parse, -32000 other). */
const PARSE_ERROR = -32700;
const SERVER_ERROR = -32000;

/**
 * What every call's `structuredContent` holds: the run, how it stands, and its output once completed (or
 * its error). Declared as each tool's `outputSchema`, so the SDK client checks it
 * (dist/esm/client/index.js `callTool`).
 */
export const RUN_RESULT_SCHEMA = {
  type: 'object',
  required: ['runId', 'runUrl', 'status', 'outcome'],
  properties: {
    runId: { type: 'string' },
    runUrl: { type: 'string', description: 'GET with the function key for the run view' },
    status: { type: 'string', description: 'The Durable runtime status: Running, Completed, Failed, …' },
    outcome: {
      description: 'How a finished run ended; null while it runs',
      enum: ['completed', 'budget_exceeded', 'failed', null],
    },
    output: { description: "The workflow's output, once completed" },
    error: {
      type: 'object',
      required: ['kind', 'message'],
      properties: { kind: { type: 'string' }, message: { type: 'string' }, stepId: { type: 'string' } },
    },
  },
} as const;

/** A workflow's input schema as an MCP tool's: root `type: object` (the protocol requires it), files inline. */
export function toolInputSchema(definition: WorkflowDefinition): Tool['inputSchema'] {
  const { $id: _id, ...schema } = definition.input;
  const withFiles = withFileReferences(schema, '#/$defs/FileReference') as Record<string, unknown>;
  const defs = (withFiles.$defs ?? {}) as Record<string, unknown>;
  const usesFiles = JSON.stringify(withFiles).includes('"#/$defs/FileReference"');
  return {
    ...withFiles,
    type: 'object',
    ...(usesFiles ? { $defs: { ...defs, FileReference: FILE_REFERENCE_JSON_SCHEMA } } : {}),
  };
}

/** One tool per workflow, named after it (kebab-case names are valid MCP tool names). */
export function workflowTools(workflows: WorkflowCatalog): Tool[] {
  return workflows.names().flatMap((name) => {
    const definition = workflows.get(name);
    if (!definition) return [];
    return [
      {
        name,
        title: `${name} (version ${definition.version})`,
        description: definition.description,
        inputSchema: toolInputSchema(definition),
        outputSchema: RUN_RESULT_SCHEMA as unknown as Tool['outputSchema'],
      },
    ];
  });
}

/** `/api/runs/{id}` on the same origin and route prefix as the MCP request, without its query (and key). */
export function mcpRunUrl(requestUrl: string, instanceId: string): string {
  const url = new URL(requestUrl);
  const prefix = url.pathname.replace(/\/mcp\/?$/, '');
  return `${url.origin}${prefix}/runs/${encodeURIComponent(instanceId)}`;
}

const text = (value: string): CallToolResult['content'] => [{ type: 'text', text: value }];

/** A call refused before any run started: a tool error the calling model can read and fix. */
function refused(message: string, details?: Record<string, unknown>): CallToolResult {
  return {
    isError: true,
    content: text(message),
    ...(details ? { _meta: { 'durable-agents/problem': details } } : {}),
  };
}

/** A started run as a tool result: its output when it completed, an error result when it ended otherwise. */
export function runResult(
  view: RunView | undefined,
  workflow: string,
  runId: string,
  runUrl: string,
): CallToolResult {
  if (!view) {
    return {
      content: text(
        `Run ${runId} is still running. GET ${runUrl} with the function key for its result ` +
          '(calling this tool again starts another run).',
      ),
      structuredContent: { runId, runUrl, status: 'Running', outcome: null },
    };
  }
  const base = { runId, runUrl, status: view.status, outcome: view.outcome };
  if (view.status === 'Completed' && view.outcome === 'completed') {
    return {
      content: text(JSON.stringify(view.output)),
      structuredContent: { ...base, output: view.output },
    };
  }
  const error = view.error ?? { kind: view.status.toLowerCase(), message: `The run ended ${view.status}` };
  return {
    isError: true,
    content: text(
      `Run ${runId} of ${workflow} ended ${view.outcome ?? view.status}: ` +
        `${error.kind}: ${error.message}${error.stepId ? ` (step ${error.stepId})` : ''}`,
    ),
    structuredContent: { ...base, error },
  };
}

/** The wait a call asked for in `_meta`, or the reason it is invalid. */
export function waitFromMeta(meta: Record<string, unknown> | undefined, maxSeconds: number): number | string {
  const raw = meta?.[WAIT_META_KEY];
  if (raw === undefined) return maxSeconds;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > maxSeconds) {
    return `_meta["${WAIT_META_KEY}"] must be a whole number of seconds from 0 to ${maxSeconds} (got ${JSON.stringify(raw)})`;
  }
  return raw;
}

function jsonRpcError(status: number, code: number, message: string, headers = {}): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }),
  };
}

/** The MCP server for one request: tools/list and tools/call over the catalog. */
function workflowServer(
  deps: McpEndpointDeps,
  request: HttpRequest,
  context: InvocationContext,
  pollIntervalMs: number,
): Server {
  // The low-level Server, not McpServer: McpServer's registerTool takes zod schemas, and the workflows'
  // input schemas are JSON Schema (McpServer "for the high-level API. Only use Server for advanced use
  // cases", dist/esm/server/index.d.ts).
  const server = new Server(
    { name: 'durable-agents', version: deps.version ?? '0' },
    {
      capabilities: { tools: { listChanged: false } },
      instructions:
        'Each tool runs one durable-agents workflow. A call waits for the run (up to the app limit, or ' +
        `_meta["${WAIT_META_KEY}"] seconds) and returns its output; a longer run returns its runUrl.`,
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: workflowTools(deps.workflows) }));
  server.setRequestHandler(CallToolRequestSchema, async ({ params }) => {
    const workflow = params.name;
    if (!deps.workflows.get(workflow)) {
      // An unknown tool is a protocol error (spec, server/tools#error-handling).
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${workflow}". Tools: ${deps.workflows.names().join(', ')}.`,
      );
    }
    const wait = waitFromMeta(params._meta, deps.maxWaitSeconds());
    if (typeof wait === 'string') throw new McpError(ErrorCode.InvalidParams, wait);
    const prepared = await deps.starter.prepare({ workflow, input: params.arguments ?? {} });
    // Input problems are tool errors, so the calling model can correct its arguments (spec 2025-11-25,
    // server/tools#error-handling: "Input validation errors" are tool execution errors).
    if (prepared.kind === 'invalid_input') {
      const lines = prepared.problems.map((p) => `${p.path || '/'}: ${p.message}`);
      return refused(`Invalid input for workflow "${workflow}":\n${lines.join('\n')}`, {
        kind: 'invalid_input',
        errors: prepared.problems.map((p) => ({ pointer: p.path, detail: p.message })),
      });
    }
    if (prepared.kind !== 'ready') return refused(prepared.message, { kind: prepared.kind });
    const client = deps.getClient(context);
    let runId: string;
    try {
      runId = (await deps.starter.start(client, prepared.input)).instanceId;
    } catch (error) {
      context.error(`MCP call of ${workflow}: the run could not be started`, error);
      throw new McpError(
        ErrorCode.InternalError,
        `The run of "${workflow}" could not be started; the app's log has the cause (invocation ${context.invocationId}).`,
      );
    }
    context.log(`MCP call: started workflow ${workflow} as run ${runId}`);
    const finished = wait > 0 ? await waitForRun(client, runId, wait, pollIntervalMs) : undefined;
    return runResult(finished && toRunView(finished), workflow, runId, mcpRunUrl(request.url, runId));
  });
  return server;
}

export function createMcpEndpoint(deps: McpEndpointDeps): HttpHandler {
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const pollIntervalMs = deps.pollIntervalMs ?? 250;
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    if (request.method !== 'POST') {
      return jsonRpcError(405, SERVER_ERROR, 'Method not allowed: this stateless MCP endpoint takes POST.', {
        allow: 'POST',
      });
    }
    // The body is read and parsed the way every entry point does (strict UTF-8, size cap, nesting limit),
    // then handed to the transport as `parsedBody`.
    const body = await readBodyCapped(request, maxBodyBytes);
    if (!body.ok) {
      return body.tooLarge
        ? jsonRpcError(413, SERVER_ERROR, `The request body may be at most ${maxBodyBytes} bytes.`)
        : jsonRpcError(400, PARSE_ERROR, `Parse error: ${body.problem.reason}`);
    }
    const json = parseJsonText(body.text);
    if (!json.ok) return jsonRpcError(400, PARSE_ERROR, `Parse error: ${json.problem.reason}`);

    const server = workflowServer(deps, request, context, pollIntervalMs);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    try {
      await server.connect(transport);
      const response = await transport.handleRequest(
        new Request(request.url, { method: 'POST', headers: Object.fromEntries(request.headers.entries()) }),
        { parsedBody: json.value },
      );
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: await response.text(),
      };
    } finally {
      await server.close();
    }
  };
}
