/** Calls the operator API of a test host the way the dashboard and CLI do: admin key, JSON, identity header. */
import type { TestHost } from '../support/testHost.js';

export interface OperatorCall {
  readonly method?: string;
  readonly body?: unknown;
  /** Raw body text (sent as is); wins over `body`. */
  readonly text?: string;
  /** Default: the master key; `null` sends none. */
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
}

export function operatorApi(host: TestHost) {
  const call = (path: string, options: OperatorCall = {}): Promise<Response> => {
    const key = options.key === undefined ? host.host.keys.masterKey : options.key;
    const body = options.text ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    return fetch(`${host.host.url}/api/operator/${path}`, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(key === null ? {} : { 'x-functions-key': key }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
  };
  return {
    call,
    async json<T>(path: string, options: OperatorCall = {}, expected = 200): Promise<T> {
      const response = await call(path, options);
      const text = await response.text();
      if (response.status !== expected) {
        throw new Error(
          `${options.method ?? 'GET'} ${path}: expected ${expected}, got ${response.status} ${text}`,
        );
      }
      return JSON.parse(text) as T;
    },
  };
}

export async function startWorkflow(host: TestHost, name: string, input: unknown): Promise<string> {
  const response = await fetch(`${host.host.url}/api/workflows/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(input),
  });
  if (response.status !== 202) throw new Error(`start ${name}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
