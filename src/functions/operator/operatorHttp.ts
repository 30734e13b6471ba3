/** What every operator route shares: its dependencies, the operator's identity, JSON bodies, errors. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { z } from 'zod';
import type { AuditStore } from '../../operator/auditStore.js';
import {
  createDurableManagement,
  DurableManagementError,
  type DurableManagement,
} from '../../operator/durableManagement.js';
import { parseJsonText } from '../../shared/jsonText.js';
import { jsonTextProblem, problem, problemResponse, type ProblemItem } from '../problem.js';
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
 * The App Service authentication principal's decoded `X-MS-CLIENT-PRINCIPAL` header: base64 JSON
 * `{auth_typ, claims: [{typ, val}], name_typ, role_typ}`. App Service sets it (and
 * `X-MS-CLIENT-PRINCIPAL-NAME`, `-ID`, `-IDP`) on authenticated requests and external requests cannot set
 * them: https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities
 */
const ClientPrincipal = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).default([]),
});

/** Claims that name a person or app when the principal's `name_typ` claim is absent, best first. */
const NAME_CLAIMS = [
  'preferred_username',
  'name',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
];

/** The authenticated principal's name, if App Service authentication supplied one. */
export function appServicePrincipalName(
  request: HttpRequest,
): { ok: true; name: string | undefined } | { ok: false; header: string; detail: string } {
  const encoded = request.headers.get('x-ms-client-principal')?.trim();
  const headerName = request.headers.get('x-ms-client-principal-name')?.trim() || undefined;
  if (!encoded) return { ok: true, name: headerName };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return {
      ok: false,
      header: 'x-ms-client-principal',
      detail: 'x-ms-client-principal is not base64-encoded JSON',
    };
  }
  const principal = ClientPrincipal.safeParse(decoded);
  if (!principal.success) {
    return {
      ok: false,
      header: 'x-ms-client-principal',
      detail: 'x-ms-client-principal is not a client principal {auth_typ, claims, name_typ}',
    };
  }
  const claim = (typ: string | undefined) =>
    typ === undefined
      ? undefined
      : principal.data.claims.find((c) => c.typ === typ && c.val.trim())?.val.trim();
  const name =
    claim(principal.data.name_typ) ??
    headerName ??
    NAME_CLAIMS.map(claim).find((value) => value !== undefined) ??
    (request.headers.get('x-ms-client-principal-id')?.trim() || undefined);
  return { ok: true, name };
}

/**
 * Who acts: the App Service authentication principal when App Service supplied one (the platform vouches
 * for it), else the self-declared `x-operator-id` (set by the dashboard and CLI), else "anonymous".
 * Without App Service authentication whoever holds the admin key may claim any name: the key is the control.
 */
export function operatorIdentity(
  request: HttpRequest,
): { ok: true; by: string } | { ok: false; header: string; detail: string } {
  const principal = appServicePrincipalName(request);
  if (!principal.ok) return principal;
  const claimed = principal.name ?? (request.headers.get('x-operator-id')?.trim() || 'anonymous');
  if (claimed.length > MAX_IDENTITY_CHARS || [...claimed].some((c) => c.charCodeAt(0) < 0x20)) {
    const header = principal.name === undefined ? 'x-operator-id' : 'x-ms-client-principal-name';
    return {
      ok: false,
      header,
      detail: `${principal.name === undefined ? 'x-operator-id' : 'the client principal name'} must be at most ${MAX_IDENTITY_CHARS} printable characters`,
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
  if (!body.ok && !body.tooLarge) return { ok: false, response: jsonTextProblem(body.problem) };
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
    const parsed = parseJsonText(body.text);
    if (!parsed.ok) return { ok: false, response: jsonTextProblem(parsed.problem) };
    value = parsed.value;
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
