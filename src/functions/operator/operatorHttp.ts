/** What every operator route shares: its dependencies, the operator's identity, JSON bodies, errors. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import type { z } from 'zod';
import type { AuditStore } from '../../operator/auditStore.js';
import {
  createDurableManagement,
  DurableManagementError,
  type DurableManagement,
} from '../../operator/durableManagement.js';
import { problem, problemResponse, type ProblemItem } from '../problem.js';
import { isJsonContentType, readBodyCapped } from '../startWorkflow.js';

export interface OperatorDeps {
  readonly getClient: (context: InvocationContext) => DurableClient;
  readonly audit: AuditStore;
  /** Default: the Durable HTTP management API at the client's local RPC endpoint. */
  readonly management?: (client: DurableClient) => DurableManagement;
  /** Default: the wall clock; the time stamped on audit records. */
  readonly now?: () => Date;
}

export function managementFor(
  deps: Pick<OperatorDeps, 'management'>,
  client: DurableClient,
): DurableManagement {
  return (deps.management ?? createDurableManagement)(client);
}

const MAX_OPERATOR_BODY_BYTES = 64 * 1024;
const MAX_IDENTITY_CHARS = 200;

/**
 * Who acts: `x-operator-id` (set by the dashboard and CLI), else the App Service authentication
 * principal, else "anonymous". Whoever holds the admin key may claim any name: the key is the control.
 */
export function operatorIdentity(
  request: HttpRequest,
): { ok: true; by: string } | { ok: false; detail: string } {
  const claimed =
    request.headers.get('x-operator-id')?.trim() ||
    request.headers.get('x-ms-client-principal-name')?.trim() ||
    'anonymous';
  if (claimed.length > MAX_IDENTITY_CHARS || [...claimed].some((c) => c.charCodeAt(0) < 0x20)) {
    return {
      ok: false,
      detail: `x-operator-id must be at most ${MAX_IDENTITY_CHARS} printable characters`,
    };
  }
  return { ok: true, by: claimed };
}

export function badRequest(detail: string, errors?: readonly ProblemItem[]): HttpResponseInit {
  return problemResponse(problem('invalid-request', 400, 'Invalid request', detail, errors));
}

export function unknownRun(id: string): HttpResponseInit {
  return problemResponse(problem('unknown-run', 404, 'Unknown run', `No run with id "${id}".`));
}

export function conflict(detail: string): HttpResponseInit {
  return problemResponse(problem('conflict', 409, 'Not possible in the run’s current state', detail));
}

/** A JSON body checked against `schema`; an empty body counts as `{}`. */
export async function readJsonBody<T>(
  request: HttpRequest,
  schema: z.ZodType<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: HttpResponseInit }> {
  const body = await readBodyCapped(request, MAX_OPERATOR_BODY_BYTES);
  if (!body.ok) {
    return {
      ok: false,
      response: problemResponse(
        problem(
          'body-too-large',
          413,
          'Body too large',
          `The body may be at most ${MAX_OPERATOR_BODY_BYTES} bytes.`,
        ),
      ),
    };
  }
  let value: unknown = {};
  if (body.text.trim() !== '') {
    const contentType = request.headers.get('content-type');
    if (!isJsonContentType(contentType)) {
      return {
        ok: false,
        response: problemResponse(
          problem(
            'unsupported-media-type',
            415,
            'Unsupported media type',
            `Send the body as application/json (got ${contentType ?? 'no content type'}).`,
          ),
        ),
      };
    }
    try {
      value = JSON.parse(body.text) as unknown;
    } catch (error) {
      return {
        ok: false,
        response: problemResponse(problem('invalid-json', 400, 'Malformed JSON', (error as Error).message)),
      };
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = parsed.error.issues.map((issue) => ({
    pointer: `/${issue.path.map(String).join('/')}`.replace(/\/$/, '') || '',
    detail: issue.message,
  }));
  return { ok: false, response: badRequest(`The body has ${errors.length} problem(s).`, errors) };
}

/** A failing Durable management call becomes a 502 problem naming it (never its URL, which holds a key). */
export async function answerProblems(
  context: InvocationContext,
  handle: () => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  try {
    return await handle();
  } catch (error) {
    if (!(error instanceof DurableManagementError)) throw error;
    context.error(error.message);
    return problemResponse(problem('durable-api-failed', 502, 'The Durable runtime refused', error.message));
  }
}
