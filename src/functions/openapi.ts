/**
 * `GET /api/openapi.json`: an OpenAPI 3.1 description of the business API (and the operator API's read
 * routes, tagged `operator`), generated from the loaded
 * workflows, so callers can generate clients. Each workflow is its own operation with its input schema as
 * the request body (OpenAPI 3.1 schemas are JSON Schema 2020-12, the dialect the workflows use).
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { RunList, SPAN_KINDS } from '../shared/operatorTypes.js';
import { FILE_KEYWORD } from '../definitions/jsonSchema.js';
import { LIST_PARAMETERS } from '../operator/listQuery.js';
import { FILE_REFERENCE_JSON_SCHEMA } from '../shared/fileTypes.js';
import type { WorkflowCatalog } from '../shared/workflows.js';
import { MAX_BODY_BYTES } from './startWorkflow.js';

export interface OpenApiDeps {
  readonly workflows: WorkflowCatalog;
  readonly maxWaitSeconds: () => number;
  readonly apiVersion?: string;
  readonly maxBodyBytes?: number;
}

export interface OpenApiOptions {
  readonly serverUrl: string;
  readonly maxWaitSeconds: number;
  readonly apiVersion?: string;
  readonly maxBodyBytes?: number;
}

type Json = Record<string, unknown>;

const problemResponse = (description: string): Json => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
});

/** `research-report` → `ResearchReport`. */
export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

const COMPONENT_SCHEMAS: Json = {
  ProblemDetails: {
    type: 'object',
    description: 'RFC 9457 problem details; `errors` lists each problem with where it is.',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['detail'],
          properties: {
            pointer: { type: 'string', description: 'JSON Pointer into the request body' },
            parameter: { type: 'string', description: 'query parameter' },
            detail: { type: 'string' },
          },
        },
      },
    },
  },
  CheckStatus: {
    type: 'object',
    description:
      "The started run: `runUrl` for GET /runs/{id} and the run's own action routes (function key). The Durable " +
      'management URLs (`statusQueryGetUri`, `sendEventPostUri`, …) carry the system key and appear only when ' +
      'the app sets RETURN_DURABLE_MANAGEMENT_URLS=true.',
    required: ['id', 'runUrl', 'approveUrl', 'rejectUrl', 'cancelUrl'],
    properties: {
      id: { type: 'string' },
      runUrl: { type: 'string', format: 'uri' },
      approveUrl: { type: 'string', format: 'uri', description: 'POST: approve the pending approval' },
      rejectUrl: { type: 'string', format: 'uri', description: 'POST: reject the pending approval' },
      cancelUrl: { type: 'string', format: 'uri', description: 'POST: cancel (terminate) the run' },
      statusQueryGetUri: { type: 'string', format: 'uri' },
      sendEventPostUri: { type: 'string' },
      terminatePostUri: { type: 'string' },
      rewindPostUri: { type: 'string' },
      purgeHistoryDeleteUri: { type: 'string' },
      suspendPostUri: { type: 'string' },
      resumePostUri: { type: 'string' },
    },
  },
  ActionAccepted: {
    type: 'object',
    required: ['id', 'action'],
    properties: { id: { type: 'string' }, action: { type: 'string' } },
  },
  RunError: {
    type: 'object',
    required: ['kind', 'message'],
    properties: { stepId: { type: 'string' }, kind: { type: 'string' }, message: { type: 'string' } },
  },
  Run: {
    type: 'object',
    description: 'A run as GET /runs/{id} shows it.',
    required: ['id', 'orchestrator', 'status', 'createdTime', 'lastUpdatedTime'],
    properties: {
      id: { type: 'string' },
      orchestrator: { type: 'string' },
      workflow: { type: ['string', 'null'] },
      version: { type: ['string', 'number', 'null'] },
      status: {
        type: 'string',
        description: 'Durable runtime status',
        enum: [
          'Pending',
          'Running',
          'Completed',
          'Failed',
          'Terminated',
          'Canceled',
          'ContinuedAsNew',
          'Suspended',
        ],
      },
      outcome: {
        type: ['string', 'null'],
        enum: ['completed', 'budget_exceeded', 'failed', null],
        description: 'completed with status Completed; budget_exceeded or failed with status Failed',
      },
      progress: { type: ['object', 'null'] },
      output: {},
      error: { oneOf: [{ $ref: '#/components/schemas/RunError' }, { type: 'null' }] },
      ledger: {
        type: ['object', 'null'],
        description: 'Cost ledger: totals, and rows per step once finished',
      },
      artifacts: { type: 'array', items: { type: 'object' } },
      callback: {
        type: ['object', 'null'],
        description: 'The completion callback of a run started with one; null otherwise',
        properties: {
          state: { type: 'string', enum: ['waiting', 'pending', 'delivered', 'failed'] },
          attempts: { type: 'integer', minimum: 0 },
          status: { type: 'integer', description: "The receiver's HTTP status of the last answered attempt" },
          lastError: { type: 'string' },
          nextAttemptAt: { type: 'string', format: 'date-time' },
          finishedAt: { type: 'string', format: 'date-time' },
        },
        required: ['state', 'attempts'],
      },
      createdTime: { type: 'string', format: 'date-time' },
      lastUpdatedTime: { type: 'string', format: 'date-time' },
    },
  },
};

function startOperation(name: string, description: string, schemaRef: string, maxWaitSeconds: number): Json {
  return {
    operationId: `start${pascalCase(name)}`,
    summary: `Start ${name}`,
    description,
    tags: ['workflows'],
    parameters: [
      {
        name: 'wait',
        in: 'query',
        description:
          'Seconds to hold the request for the result: 200 with the run if it finishes in time, else 202.',
        schema: { type: 'integer', minimum: 0, maximum: maxWaitSeconds },
      },
      {
        name: 'Idempotency-Key',
        in: 'header',
        description: 'The same caller and key always reach the same run; repeats start nothing new.',
        schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' },
      },
      {
        name: 'Callback-Url',
        in: 'header',
        description:
          'POSTed the finished run, signed (x-durable-agents-signature: sha256=HMAC of "<timestamp>.<body>"), at least once. A top-level `callbackUrl` in the body works too.',
        schema: { type: 'string', format: 'uri' },
      },
    ],
    requestBody: { required: true, content: { 'application/json': { schema: { $ref: schemaRef } } } },
    responses: {
      '200': {
        description: 'With ?wait, or an Idempotency-Key repeat: the finished run.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Run' } } },
      },
      '202': {
        description: 'Started (or already running under this Idempotency-Key).',
        headers: { Location: { schema: { type: 'string', format: 'uri' } } },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/CheckStatus' } } },
      },
      '400': problemResponse(
        'Malformed JSON, text that is not UTF-8, nesting deeper than 32 levels, input not matching the schema (each problem with its JSON Pointer), bad wait, Idempotency-Key or callback URL.',
      ),
      '401': { description: 'Missing or wrong function key.' },
      '404': problemResponse('Unknown workflow.'),
      '409': problemResponse('The Idempotency-Key already started a run of another workflow.'),
      '413': problemResponse('Body over the limit; pass large documents by blob reference.'),
      '415': problemResponse('Body is not application/json.'),
      '422': problemResponse(
        'The Idempotency-Key already started a run with a different body; `runId` and `runUrl` name it.',
      ),
    },
  };
}

/** Input schemas as components: `$id` and `$schema` dropped, since the document sets the dialect. */
function inputSchema(schema: Json): Json {
  const { $id: _id, $schema: _schema, ...rest } = schema;
  return withFileReferences(rest) as Json;
}

/**
 * `"x-file"` properties as a `$ref` to the FileReference schema (`ref`: the OpenAPI component by default; the
 * MCP endpoint's tools use a `$defs` entry), so generated clients know the shape.
 */
export function withFileReferences(node: unknown, ref = '#/components/schemas/FileReference'): unknown {
  if (Array.isArray(node)) return node.map((item) => withFileReferences(item, ref));
  if (typeof node !== 'object' || node === null) return node;
  const record = node as Json;
  if (record[FILE_KEYWORD] !== undefined) {
    const { [FILE_KEYWORD]: _marker, ...rest } = record;
    return { ...rest, $ref: ref };
  }
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, withFileReferences(value, ref)]),
  );
}

export function buildOpenApiDocument(workflows: WorkflowCatalog, options: OpenApiOptions): Json {
  const schemas: Json = { ...COMPONENT_SCHEMAS, FileReference: FILE_REFERENCE_JSON_SCHEMA };
  const paths: Json = {};
  for (const name of workflows.names()) {
    const definition = workflows.get(name);
    if (!definition) continue;
    const schemaName = `${pascalCase(name)}Input`;
    schemas[schemaName] = inputSchema(definition.input);
    paths[`/workflows/${name}`] = {
      post: startOperation(
        name,
        `${definition.description} (version ${definition.version})`,
        `#/components/schemas/${schemaName}`,
        options.maxWaitSeconds,
      ),
    };
  }
  paths['/runs/{id}'] = {
    get: {
      operationId: 'getRun',
      summary: 'A run: status, workflow and version, progress, output or error, cost ledger, times',
      tags: ['runs'],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': {
          description: 'The run.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Run' } } },
        },
        '401': { description: 'Missing or wrong function key.' },
        '404': problemResponse('No run with this id.'),
      },
    },
  };
  const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const accepted = {
    description: 'Done; recorded in the audit log with the caller.',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionAccepted' } } },
  };
  const commonErrors = {
    '400': problemResponse('A body that is not `{ comment? }` / `{ reason? }`.'),
    '401': { description: 'Missing or wrong function key.' },
    '404': problemResponse('No workflow run with this id.'),
    '409': problemResponse("Not possible in the run's current state."),
  };
  for (const [action, summary, body] of [
    ['approve', "Approve the run's pending approval", { comment: { type: 'string', maxLength: 2000 } }],
    [
      'reject',
      "Reject the run's pending approval (the run fails)",
      { comment: { type: 'string', maxLength: 2000 } },
    ],
    ['cancel', 'Cancel (terminate) the run', { reason: { type: 'string', maxLength: 1000 } }],
  ] as const) {
    paths[`/runs/{id}/${action}`] = {
      post: {
        operationId: `${action}Run`,
        summary,
        tags: ['runs'],
        parameters: [idParameter],
        requestBody: {
          required: false,
          content: {
            'application/json': { schema: { type: 'object', additionalProperties: false, properties: body } },
          },
        },
        responses: { '202': accepted, ...commonErrors },
      },
    };
  }
  addOperatorReads(paths, schemas);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'durable-agents business API',
      version: options.apiVersion ?? '1',
      description: `Start workflow runs, read their results, approve, reject or cancel them. Bodies are JSON, at most ${options.maxBodyBytes ?? MAX_BODY_BYTES} bytes.`,
    },
    servers: [{ url: options.serverUrl }],
    security: [{ functionKeyHeader: [] }, { functionKeyQuery: [] }],
    tags: [
      { name: 'workflows' },
      { name: 'runs' },
      { name: 'operator', description: 'The operator API (admin key); see src/operator/README.md.' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        functionKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'Azure Functions function key',
        },
        functionKeyQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'code',
          description: 'Azure Functions function key',
        },
        adminKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'The function app’s master (`_master`) host key; function keys get 401',
        },
      },
    },
  };
}

/**
 * The operator API's read routes (admin key): the runs list, one run with its waterfall and child tree,
 * one call's drill-down and the known workflows. The list's row schema comes from its zod contract.
 */
function addOperatorReads(paths: Json, schemas: Json): void {
  const { $schema: _dialect, ...runList } = z.toJSONSchema(RunList) as Json;
  schemas.OperatorRunList = runList;
  schemas.WaterfallSpan = {
    type: 'object',
    required: ['id', 'kind', 'name', 'instanceId', 'status', 'start', 'depth', 'detail'],
    properties: {
      id: { type: 'string' },
      kind: { enum: [...SPAN_KINDS] },
      name: { type: 'string' },
      instanceId: { type: 'string' },
      eventId: { type: 'integer' },
      stepId: { type: 'string' },
      status: { type: 'string' },
      start: { type: 'string', format: 'date-time' },
      end: { type: 'string', format: 'date-time' },
      depth: { type: 'integer', minimum: 0 },
      model: {
        type: 'object',
        description: 'provider, deployment, model, tokens, cacheHitRate, costUsd, latencyMs',
      },
      tool: { type: 'string' },
      childId: { type: 'string' },
      error: { type: 'string' },
      detail: { type: 'boolean', description: 'GET …/calls/{eventId}?instance={instanceId} answers for it' },
    },
  };
  const admin = [{ adminKeyHeader: [] }];
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const json = (schema: Json) => ({ 'application/json': { schema } });
  const unauthorized = { description: 'Missing or wrong admin key.' };
  paths['/operator/runs'] = {
    get: {
      operationId: 'operatorListRuns',
      summary: 'Runs, newest first, with outcome, cost and batch counts; filtered and paged',
      tags: ['operator'],
      security: admin,
      parameters: LIST_PARAMETERS.map((name) => ({
        name,
        in: 'query',
        required: false,
        schema: { type: 'string' },
      })),
      responses: {
        '200': {
          description: 'One page of runs.',
          content: json({ $ref: '#/components/schemas/OperatorRunList' }),
        },
        '400': problemResponse('A filter that is not valid.'),
        '401': unauthorized,
      },
    },
  };
  paths['/operator/runs/{id}'] = {
    get: {
      operationId: 'operatorGetRun',
      summary:
        'One run: timeline, waterfall, agent and child runs, ledger, approvals, actions, failed batch items',
      tags: ['operator'],
      security: admin,
      parameters: [id, { name: 'history', in: 'query', required: false, schema: { type: 'boolean' } }],
      responses: {
        '200': {
          description: 'The run (secrets masked).',
          content: json({
            type: 'object',
            required: ['id', 'status', 'timeline', 'waterfall', 'children', 'approvals', 'actions'],
            properties: {
              waterfall: { type: 'array', items: { $ref: '#/components/schemas/WaterfallSpan' } },
              children: { type: 'array', items: { type: 'object' } },
              failedItems: { type: 'array', items: { type: 'object' } },
            },
          }),
        },
        '401': unauthorized,
        '404': problemResponse('No run with this id.'),
      },
    },
  };
  paths['/operator/runs/{id}/calls/{eventId}'] = {
    get: {
      operationId: 'operatorGetCall',
      summary: 'One model or tool call: prompt, response, thinking summary, tool arguments and result',
      tags: ['operator'],
      security: admin,
      parameters: [
        id,
        { name: 'eventId', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } },
        {
          name: 'instance',
          in: 'query',
          required: false,
          schema: { type: 'string' },
          description: 'the run or one of its sub-runs',
        },
      ],
      responses: {
        '200': {
          description: 'The call (secrets masked).',
          content: json({
            type: 'object',
            required: ['runId', 'instanceId', 'eventId', 'span'],
            properties: {
              span: { $ref: '#/components/schemas/WaterfallSpan' },
              request: { type: 'object' },
              response: { type: 'object' },
              arguments: {},
              result: {},
              failure: {},
            },
          }),
        },
        '400': problemResponse('An event id that is not a number, or an instance outside the run.'),
        '401': unauthorized,
        '404': problemResponse('No such run, or no model or tool call at this event.'),
      },
    },
  };
  paths['/operator/workflows'] = {
    get: {
      operationId: 'operatorListWorkflows',
      summary: 'The workflows the app knows',
      tags: ['operator'],
      security: admin,
      responses: {
        '200': {
          description: 'Name and version of each workflow.',
          content: json({
            type: 'object',
            required: ['workflows'],
            properties: {
              workflows: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name', 'version'],
                  properties: { name: { type: 'string' }, version: { type: ['string', 'number'] } },
                },
              },
            },
          }),
        },
        '401': unauthorized,
      },
    },
  };
}

/** The API base (`https://host/api`) from this request's URL. */
export function serverUrlFor(requestUrl: string): string {
  const url = new URL(requestUrl);
  return `${url.origin}${url.pathname.replace(/\/openapi\.json\/?$/, '')}`;
}

export function createOpenApi(deps: OpenApiDeps): HttpHandler {
  return (request: HttpRequest): Promise<HttpResponseInit> =>
    Promise.resolve({
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
      jsonBody: buildOpenApiDocument(deps.workflows, {
        serverUrl: serverUrlFor(request.url),
        maxWaitSeconds: deps.maxWaitSeconds(),
        ...(deps.apiVersion === undefined ? {} : { apiVersion: deps.apiVersion }),
        ...(deps.maxBodyBytes === undefined ? {} : { maxBodyBytes: deps.maxBodyBytes }),
      }),
    });
}
