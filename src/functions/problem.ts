import type { HttpResponseInit } from '@azure/functions';
import type { JsonTextProblem } from '../shared/jsonText.js';

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

/** The problem as its response; `extensions` are extra members (RFC 9457 section 3.2), e.g. the run it names. */
export function problemResponse(
  details: ProblemDetails,
  extensions?: Readonly<Record<string, unknown>>,
): HttpResponseInit {
  return {
    status: details.status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ ...details, ...extensions }),
  };
}

/** 400 for a body that does not match the workflow's input schema: one item per violation, with its JSON Pointer. */
export function invalidInput(workflow: string, errors: readonly ProblemItem[]): ProblemDetails {
  return problem(
    'invalid-input',
    400,
    'Invalid workflow input',
    `The body does not match the input schema of "${workflow}" (${errors.length} problem${errors.length === 1 ? '' : 's'}).`,
    errors,
  );
}

const JSON_TEXT_TITLES: Record<JsonTextProblem['kind'], string> = {
  'invalid-utf8': 'Body is not UTF-8',
  'too-deep': 'JSON nested too deeply',
  'invalid-json': 'Malformed JSON',
};

/** 400 for a body that is not UTF-8, nests too deeply or is not JSON; the slug is the problem's kind. */
export function jsonTextProblem(textProblem: JsonTextProblem): HttpResponseInit {
  return problemResponse(
    problem(textProblem.kind, 400, JSON_TEXT_TITLES[textProblem.kind], textProblem.reason),
  );
}
