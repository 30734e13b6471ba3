import type { HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';

/** One thing wrong with a request: where (`pointer` into the JSON body, or a query `parameter`) and what. */
export interface ProblemItem {
  readonly pointer?: string;
  readonly parameter?: string;
  readonly detail: string;
}

/** RFC 9457 problem details, with the individual problems under `errors`. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: readonly ProblemItem[];
}

const PROBLEM_TYPE = 'urn:durable-agents:problem:';

export function problem(
  slug: string,
  status: number,
  title: string,
  detail?: string,
  errors?: readonly ProblemItem[],
): ProblemDetails {
  return {
    type: `${PROBLEM_TYPE}${slug}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(errors ? { errors } : {}),
  };
}

export function problemResponse(details: ProblemDetails): HttpResponseInit {
  return {
    status: details.status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify(details),
  };
}

/** RFC 6901 JSON Pointer for a zod issue path: `['paragraphs', 3]` → `/paragraphs/3`. */
export function toJsonPointer(path: readonly PropertyKey[]): string {
  return path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Every zod issue as a problem item; an unknown key is reported at its own path, not its parent's. */
export function issuesToProblems(error: z.ZodError): ProblemItem[] {
  return error.issues.flatMap((issue): ProblemItem[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          pointer: toJsonPointer([...issue.path, key]),
          detail: 'Unknown property',
        }))
      : [{ pointer: toJsonPointer(issue.path), detail: issue.message }],
  );
}

export function invalidBody(error: z.ZodError, workflow: string): ProblemDetails {
  const items = issuesToProblems(error);
  return problem(
    'invalid-input',
    400,
    'Invalid workflow input',
    `The body does not match the input schema of "${workflow}" (${items.length} problem${items.length === 1 ? '' : 's'}).`,
    items,
  );
}
