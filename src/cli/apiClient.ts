/** HTTP to a durable-agents app (devhost or Azure): the business route with the function key, the operator API with the admin key. */

/** A failure to show the user as is, with the exit code to leave with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface Connection {
  /** The app's origin, e.g. http://127.0.0.1:7071 (a trailing /api is accepted). */
  readonly baseUrl: string;
  readonly functionKey?: string;
  readonly adminKey?: string;
  /** Sent as x-operator-id on operator actions. */
  readonly operator: string;
}

type KeyKind = 'function' | 'admin';

const KEY_HINT: Record<KeyKind, string> = {
  function: 'check DURABLE_AGENTS_KEY (or --key): starting runs needs a function key or the master key',
  admin: 'check DURABLE_AGENTS_ADMIN_KEY (or --admin-key): the operator API needs the master (admin) key',
};

interface Problem {
  title?: string;
  detail?: string;
  errors?: { pointer?: string; parameter?: string; detail?: string }[];
}

function describeProblem(status: number, text: string): string {
  try {
    const problem = JSON.parse(text) as Problem;
    const items = (problem.errors ?? []).map(
      (item) =>
        `\n  - ${item.parameter ?? item.pointer ?? ''}${item.parameter || item.pointer ? ': ' : ''}${item.detail ?? ''}`,
    );
    if (problem.title || problem.detail) {
      return `${status} ${problem.title ?? ''}${problem.detail ? `: ${problem.detail}` : ''}${items.join('')}`;
    }
  } catch {
    // not a problem document
  }
  return `${status}${text.trim() ? `: ${text.trim().slice(0, 500)}` : ''}`;
}

export function apiRoot(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/api') ? trimmed : `${trimmed}/api`;
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
}

export function createApiClient(connection: Connection, fetchImpl: typeof fetch = fetch) {
  const root = apiRoot(connection.baseUrl);

  async function request<T>(
    kind: KeyKind,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<ApiResponse<T>> {
    const key = kind === 'admin' ? connection.adminKey : (connection.functionKey ?? connection.adminKey);
    if (!key) throw new CliError(`No ${kind === 'admin' ? 'admin' : 'function'} key: ${KEY_HINT[kind]}.`, 2);
    const url = `${root}/${path}`;
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method,
        headers: {
          'x-functions-key': key,
          ...(kind === 'admin' ? { 'x-operator-id': connection.operator } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(
        `Cannot reach ${root} (${reason}): is the app running? Check DURABLE_AGENTS_URL (or --url).`,
      );
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new CliError(
        `${response.status} from ${method} /api/${path.split('?')[0] ?? ''}: ${KEY_HINT[kind]}.`,
      );
    }
    if (response.status >= 400) throw new CliError(describeProblem(response.status, text));
    let parsed: unknown = null;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        throw new CliError(
          `${method} ${url.split('?')[0] ?? ''} answered ${response.status} with a body that is not JSON.`,
        );
      }
    }
    return { status: response.status, body: parsed as T };
  }

  return {
    root,
    business: <T>(method: 'GET' | 'POST', path: string, body?: unknown) =>
      request<T>('function', method, path, body),
    operator: <T>(method: 'GET' | 'POST', path: string, body?: unknown) =>
      request<T>('admin', method, `operator/${path}`, body),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
