import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  SAFE_FILE_NAME,
  emptyOutcome,
  failure,
  type CodeSandbox,
  type SandboxOutcome,
  type SandboxOutputFile,
  type SandboxRequest,
} from './types.js';

/** Entra scope for the session pool management endpoint. */
export const DYNAMIC_SESSIONS_SCOPE = 'https://dynamicsessions.io/.default';
export const DYNAMIC_SESSIONS_API_VERSION = '2024-02-02-preview';
/** Where code interpreter sessions keep uploaded files. */
const DATA_DIR = '/mnt/data';
/** Prefix under which the wrapper copies `out/` files to the data dir, where the files API lists them. */
const OUT_PREFIX = 'run_code_out__';

/** An HTTP failure from the pool; `retryable` for 408/429/5xx and network errors. */
export class ContainerAppsSessionsError extends Error {
  override name = 'ContainerAppsSessionsError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const ExecuteResponse = z.object({
  properties: z.looseObject({
    status: z.string().optional(),
    stdout: z.string().nullish(),
    stderr: z.string().nullish(),
    result: z.unknown().optional(),
    executionTimeInMilliseconds: z.number().optional(),
  }),
});
export type ExecuteResponse = z.infer<typeof ExecuteResponse>;

const FileListResponse = z.object({
  value: z.array(
    z.object({ properties: z.looseObject({ filename: z.string(), size: z.number().optional() }) }),
  ),
});

export interface ContainerAppsSessionsOptions {
  /** Pool management endpoint, e.g. https://<region>.dynamicsessions.io/subscriptions/…/sessionPools/<pool>. */
  endpoint: string;
  /** Returns a bearer token for DYNAMIC_SESSIONS_SCOPE. Default: DefaultAzureCredential. */
  getToken?: () => Promise<string>;
  fetch?: typeof fetch;
  apiVersion?: string;
  /** Extra time for the HTTP round trip on top of the code's time limit. Default 30 s. */
  requestAllowanceMs?: number;
  newSessionId?: () => string;
}

function defaultTokenProvider(): () => Promise<string> {
  let cached: { token: string; expiresOnTimestamp: number } | undefined;
  let credential:
    { getToken(scope: string): Promise<{ token: string; expiresOnTimestamp: number } | null> } | undefined;
  return async () => {
    if (!cached || cached.expiresOnTimestamp < Date.now() + 5 * 60_000) {
      if (!credential) {
        const { DefaultAzureCredential } = await import('@azure/identity');
        credential = new DefaultAzureCredential();
      }
      const token = await credential.getToken(DYNAMIC_SESSIONS_SCOPE);
      if (!token)
        throw new ContainerAppsSessionsError('no Entra token for dynamic sessions', undefined, true);
      cached = token;
    }
    return cached.token;
  };
}

/** A thin client for the code interpreter session pool REST API. */
export class ContainerAppsSessionsClient {
  private readonly endpoint: string;
  private readonly getToken: () => Promise<string>;
  private readonly fetchImpl: typeof fetch;
  private readonly apiVersion: string;

  constructor(options: ContainerAppsSessionsOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.getToken = options.getToken ?? defaultTokenProvider();
    this.fetchImpl = options.fetch ?? fetch;
    this.apiVersion = options.apiVersion ?? DYNAMIC_SESSIONS_API_VERSION;
  }

  url(pathname: string, sessionId: string): string {
    const query = new URLSearchParams({ 'api-version': this.apiVersion, identifier: sessionId });
    return `${this.endpoint}/${pathname}?${query.toString()}`;
  }

  private async request(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    const token = await this.getToken();
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ContainerAppsSessionsError(
        timedOut
          ? `session pool request timed out after ${timeoutMs} ms`
          : `session pool unreachable: ${String(error)}`,
        undefined,
        true,
      );
    }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after'));
      const body = (await response.text().catch(() => '')).slice(0, 500);
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      throw new ContainerAppsSessionsError(
        `session pool returned HTTP ${response.status}: ${body}`,
        response.status,
        retryable,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    return response;
  }

  /** `POST {endpoint}/code/execute` with inline, synchronous Python. */
  async execute(sessionId: string, code: string, timeoutMs: number): Promise<ExecuteResponse['properties']> {
    const response = await this.request(
      this.url('code/execute', sessionId),
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ properties: { codeInputType: 'inline', executionType: 'synchronous', code } }),
      },
      timeoutMs,
    );
    const parsed = ExecuteResponse.safeParse(await response.json());
    if (!parsed.success) {
      throw new ContainerAppsSessionsError(
        'session pool returned an unexpected execute response',
        200,
        false,
      );
    }
    return parsed.data.properties;
  }

  /** `POST {endpoint}/files/upload` (multipart, field `file`); lands in /mnt/data/<name>. */
  async uploadFile(sessionId: string, name: string, bytes: Buffer, timeoutMs: number): Promise<void> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    await this.request(this.url('files/upload', sessionId), { method: 'POST', body: form }, timeoutMs);
  }

  /** `GET {endpoint}/files`: the files in /mnt/data. */
  async listFiles(sessionId: string, timeoutMs: number): Promise<{ filename: string; size?: number }[]> {
    const response = await this.request(this.url('files', sessionId), { method: 'GET' }, timeoutMs);
    const parsed = FileListResponse.safeParse(await response.json());
    if (!parsed.success) throw new ContainerAppsSessionsError('unexpected file list response', 200, false);
    return parsed.data.value.map((v) => v.properties);
  }

  /** `GET {endpoint}/files/content/{name}`. */
  async downloadFile(sessionId: string, name: string, timeoutMs: number): Promise<Buffer> {
    const response = await this.request(
      this.url(`files/content/${encodeURIComponent(name)}`, sessionId),
      { method: 'GET' },
      timeoutMs,
    );
    return Buffer.from(await response.arrayBuffer());
  }
}

/**
 * Python wrapper run in the session: moves uploaded inputs into in/, runs the code like a cell
 * (last expression is the result), enforces the time limit with SIGALRM, and copies out/ files to
 * the data dir so the files API can list them.
 */
export function wrapForSession(
  code: string,
  inputNames: string[],
  timeoutMs: number,
  maxArtifacts: number,
): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  return [
    'import ast as _rc_ast, os as _rc_os, shutil as _rc_shutil, signal as _rc_signal',
    `_rc_os.makedirs(${JSON.stringify(`${DATA_DIR}/in`)}, exist_ok=True)`,
    `_rc_os.makedirs(${JSON.stringify(`${DATA_DIR}/out`)}, exist_ok=True)`,
    `for _rc_n in ${JSON.stringify(inputNames)}:`,
    `    if _rc_os.path.isfile(${JSON.stringify(DATA_DIR)} + "/" + _rc_n):`,
    `        _rc_shutil.move(${JSON.stringify(DATA_DIR)} + "/" + _rc_n, ${JSON.stringify(`${DATA_DIR}/in/`)} + _rc_n)`,
    `_rc_os.chdir(${JSON.stringify(DATA_DIR)})`,
    'def _rc_alarm(*_):',
    `    raise TimeoutError("run_code time limit of ${seconds} s exceeded")`,
    '_rc_signal.signal(_rc_signal.SIGALRM, _rc_alarm)',
    `_rc_tree = _rc_ast.parse(${JSON.stringify(code)}, "main.py")`,
    '_rc_last = _rc_ast.Expression(_rc_tree.body.pop().value) if _rc_tree.body and isinstance(_rc_tree.body[-1], _rc_ast.Expr) else None',
    '_rc_value = None',
    `_rc_signal.alarm(${seconds})`,
    'try:',
    '    exec(compile(_rc_tree, "main.py", "exec"), globals())',
    '    if _rc_last is not None:',
    '        _rc_value = eval(compile(_rc_last, "main.py", "eval"), globals())',
    'finally:',
    '    _rc_signal.alarm(0)',
    `    for _rc_n in sorted(_rc_os.listdir("out"))[:${maxArtifacts}]:`,
    '        if _rc_os.path.isfile("out/" + _rc_n) and not _rc_os.path.islink("out/" + _rc_n):',
    `            _rc_shutil.copyfile("out/" + _rc_n, ${JSON.stringify(OUT_PREFIX)} + _rc_n)`,
    '_rc_value',
  ].join('\n');
}

/** Python in Azure Container Apps dynamic sessions (Hyper-V isolated); one fresh session per call. */
export class ContainerAppsPythonSandbox implements CodeSandbox {
  readonly language = 'python' as const;
  readonly kind = 'container-apps';
  private readonly client: ContainerAppsSessionsClient;
  private readonly allowanceMs: number;
  private readonly newSessionId: () => string;

  constructor(options: ContainerAppsSessionsOptions) {
    this.client = new ContainerAppsSessionsClient(options);
    this.allowanceMs = options.requestAllowanceMs ?? 30_000;
    this.newSessionId = options.newSessionId ?? (() => `run-code-${randomUUID()}`);
  }

  async run(request: SandboxRequest): Promise<SandboxOutcome> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const { limits } = request;
    const sessionId = this.newSessionId();
    const httpTimeout = limits.timeoutMs + this.allowanceMs;
    for (const f of request.files) await this.client.uploadFile(sessionId, f.name, f.bytes, httpTimeout);
    const code = wrapForSession(
      request.code,
      request.files.map((f) => f.name),
      limits.timeoutMs,
      limits.maxArtifacts,
    );
    const props = await this.client.execute(sessionId, code, httpTimeout);
    let stdout = props.stdout ?? '';
    let stderr = props.stderr ?? '';
    let truncated = false;
    const cap = (text: string, room: number) => {
      const bytes = Buffer.from(text);
      if (bytes.length <= room) return text;
      truncated = true;
      return bytes.subarray(0, Math.max(0, room)).toString('utf8');
    };
    stdout = cap(stdout, limits.maxOutputBytes);
    stderr = cap(stderr, limits.maxOutputBytes - Buffer.byteLength(stdout));

    const files: SandboxOutputFile[] = [];
    let total = 0;
    for (const entry of await this.client.listFiles(sessionId, httpTimeout)) {
      if (!entry.filename.startsWith(OUT_PREFIX)) continue;
      const name = entry.filename.slice(OUT_PREFIX.length);
      if (!SAFE_FILE_NAME.test(name)) continue;
      if (files.length >= limits.maxArtifacts || total + (entry.size ?? 0) > limits.maxArtifactBytes) {
        truncated = true;
        continue;
      }
      const bytes = await this.client.downloadFile(sessionId, entry.filename, httpTimeout);
      if (total + bytes.length > limits.maxArtifactBytes) {
        truncated = true;
        continue;
      }
      total += bytes.length;
      files.push({ name, bytes });
    }

    const base = { stdout, stderr, files, truncated, durationMs: elapsed() };
    const failed =
      (props.status ?? 'Success').toLowerCase() !== 'success' ||
      /Traceback \(most recent call last\)|^\w+Error:/m.test(stderr);
    if (failed) {
      if (/TimeoutError: run_code time limit/.test(stderr) || /timeout/i.test(props.status ?? '')) {
        return failure(
          'timeout',
          `Execution exceeded the ${limits.timeoutMs} ms time limit and was stopped.`,
          base,
        );
      }
      if (/^(SyntaxError|IndentationError|TabError)\b/.test(lastLine(stderr))) {
        return failure('syntax_error', lastLine(stderr), base);
      }
      if (/MemoryError/.test(stderr)) return failure('out_of_memory', 'Out of memory in the session.', base);
      return failure(
        'runtime_error',
        lastLine(stderr) || `Execution ended with status ${props.status}.`,
        base,
      );
    }
    if (truncated && Buffer.byteLength(stdout) + Buffer.byteLength(stderr) >= limits.maxOutputBytes) {
      return failure('output_too_large', `Output exceeded ${limits.maxOutputBytes} bytes.`, base);
    }
    const result = props.result;
    if (result === undefined || result === null || result === '')
      return emptyOutcome({ ...base, hasResult: false });
    const resultBytes = Buffer.byteLength(JSON.stringify(result));
    if (resultBytes + Buffer.byteLength(stdout) + Buffer.byteLength(stderr) > limits.maxOutputBytes) {
      return failure(
        'output_too_large',
        `The result value exceeded the ${limits.maxOutputBytes}-byte output limit.`,
        {
          ...base,
          truncated: true,
        },
      );
    }
    return emptyOutcome({ ...base, hasResult: true, result });
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

export function createContainerAppsPythonSandbox(
  options: ContainerAppsSessionsOptions,
): ContainerAppsPythonSandbox {
  return new ContainerAppsPythonSandbox(options);
}
