/* global document, fetch, sessionStorage, URL, URLSearchParams */
// The operator API (`/api/operator/...`, admin key) as the dashboard uses it.

const KEY_ITEM = 'durable-agents.operatorKey';
const OPERATOR_ITEM = 'durable-agents.operatorName';

/** The admin key and the operator's name live in this tab's session storage only: closing the tab forgets them. */
export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM) ?? '',
  operator: () => sessionStorage.getItem(OPERATOR_ITEM) ?? '',
  save(key, operator) {
    sessionStorage.setItem(KEY_ITEM, key);
    if (operator) sessionStorage.setItem(OPERATOR_ITEM, operator);
    else sessionStorage.removeItem(OPERATOR_ITEM);
  },
  forgetKey: () => sessionStorage.removeItem(KEY_ITEM),
};

/** The key was missing or rejected: the page asks for it again. */
export class UnauthorizedError extends Error {
  constructor(status) {
    super(
      status === 403
        ? 'The key was refused (HTTP 403). The operator API needs the admin (master) key.'
        : 'The key was rejected (HTTP 401). Paste the admin (master) key.',
    );
    this.name = 'UnauthorizedError';
    this.status = status;
  }
}

/** Any other failed call: the problem details' title and detail, or the HTTP status. */
export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** `/api/` (or whatever the route prefix is): the dashboard lives at `<prefix>/dashboard/`. */
export const apiBase = () => new URL('../', document.baseURI);

async function problemMessage(response) {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    const items = Array.isArray(body.errors)
      ? body.errors.map((e) => `${e.pointer ?? e.parameter ?? ''} ${e.detail ?? ''}`.trim())
      : [];
    const main = body.detail ?? body.title ?? body.message ?? '';
    return { message: [main, ...items].filter(Boolean).join('; '), problem: body };
  } catch {
    return { message: text.slice(0, 300), problem: undefined };
  }
}

async function call(method, path, { query, body } = {}) {
  const url = new URL(path, apiBase());
  if (query) url.search = new URLSearchParams(query).toString();
  const headers = { accept: 'application/json', 'x-functions-key': session.key() };
  const operator = session.operator();
  if (operator) headers['x-operator-id'] = operator;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, `The app did not answer (${error.message}). Is it running?`);
  }
  if (response.status === 401 || response.status === 403) throw new UnauthorizedError(response.status);
  if (!response.ok) {
    const { message, problem } = await problemMessage(response);
    const status = `HTTP ${response.status}`;
    throw new ApiError(response.status, message ? `${message} (${status})` : status, problem);
  }
  return response.status === 204 ? {} : response.json();
}

const runPath = (id) => `operator/runs/${encodeURIComponent(id)}`;

export const operatorApi = {
  /** `filters`: status (comma-separated), workflow, createdFrom, createdTo, idPrefix, pageSize, all. */
  listRuns(filters, continuationToken) {
    const query = Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== ''));
    if (continuationToken) query.continuationToken = continuationToken;
    return call('GET', 'operator/runs', { query });
  },
  getRun: (id, { history = false } = {}) =>
    call('GET', runPath(id), history ? { query: { history: 'true' } } : {}),
  /** One model or tool call of a run (a waterfall span with `detail`), in the run or one of its sub-runs. */
  getCall: (id, eventId, instanceId) =>
    call('GET', `${runPath(id)}/calls/${encodeURIComponent(String(eventId))}`, {
      query: instanceId && instanceId !== id ? { instance: instanceId } : {},
    }),
  /** The workflows the app knows, `{ workflows: [{ name, version }] }`. */
  listWorkflows: () => call('GET', 'operator/workflows'),
  /** terminate, suspend, resume, rewind, restart (`{ reason }`); approve, reject (`{ comment }`). */
  act: (id, action, body) => call('POST', `${runPath(id)}/${action}`, { body }),
};
