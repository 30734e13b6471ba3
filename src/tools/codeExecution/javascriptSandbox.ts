import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { WorkerData, WorkerRunMessage } from './javascriptWorkerProtocol.js';
import { SandboxWorkerPool } from './javascriptWorkerPool.js';
import {
  SAFE_FILE_NAME,
  emptyOutcome,
  failure,
  resultNestingProblem,
  type CodeSandbox,
  type SandboxOutcome,
  type SandboxRequest,
} from './types.js';

export interface JavaScriptSandboxOptions {
  /** Most workers alive at once (each runs one call at a time). Default: min(4, CPUs). */
  poolSize?: number;
  /** QuickJS max stack size. Default 256 KiB, well inside the worker's 4 MB native stack. */
  maxStackBytes?: number;
  /** `debug` uses QuickJS's debug build, whose dispose asserts that no handle leaked (tests). */
  variant?: 'release' | 'debug';
  /** Extra wall time after the QuickJS deadline before the worker is terminated. Default 1000 ms. */
  hardKillGraceMs?: number;
}

/**
 * JavaScript in QuickJS (WebAssembly), one fresh runtime per call, in a pool of worker threads.
 * The code run inside each worker is `javascriptWorkerMain.ts`; the pool and its watchdog are
 * `javascriptWorkerPool.ts`; this class turns requests into worker messages and replies into outcomes.
 */
export class JavaScriptSandbox implements CodeSandbox {
  readonly language = 'javascript' as const;
  readonly kind = 'quickjs-worker';
  private readonly maxStackBytes: number;
  private readonly graceMs: number;
  private readonly pool: SandboxWorkerPool;
  private nextId = 1;

  constructor(options: JavaScriptSandboxOptions = {}) {
    const poolSize = Math.max(1, options.poolSize ?? Math.min(4, availableParallelism()));
    this.maxStackBytes = options.maxStackBytes ?? 256 * 1024;
    this.graceMs = options.hardKillGraceMs ?? 1000;
    const variant = options.variant ?? 'release';
    const quickjsPath = require.resolve('quickjs-emscripten');
    const fromQuickjs = createRequire(quickjsPath);
    const wasmPackage =
      variant === 'debug' ? '@jitl/quickjs-wasmfile-debug-sync' : '@jitl/quickjs-wasmfile-release-sync';
    const workerData: WorkerData = {
      quickjsPath,
      wasmPath: fromQuickjs.resolve(`${wasmPackage}/wasm`),
      variant,
      safeFileName: SAFE_FILE_NAME.source,
    };
    this.pool = new SandboxWorkerPool(poolSize, workerData);
  }

  async run(request: SandboxRequest): Promise<SandboxOutcome> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    if (this.pool.closed)
      return failure('sandbox_unavailable', 'The JavaScript sandbox is closed.', { durationMs: 0 });
    const files: Record<string, string> = {};
    for (const f of request.files) files[f.name] = f.bytes.toString('utf8');
    const message: WorkerRunMessage = {
      id: this.nextId++,
      code: request.code,
      files,
      limits: {
        timeoutMs: request.limits.timeoutMs,
        memoryBytes: request.limits.memoryMb * 2 ** 20,
        maxStackBytes: this.maxStackBytes,
        maxOutputBytes: request.limits.maxOutputBytes,
        maxArtifactBytes: request.limits.maxArtifactBytes,
        maxArtifacts: request.limits.maxArtifacts,
      },
    };
    const outcome = await this.pool.run(message, request.limits.timeoutMs + this.graceMs);
    if (!outcome) {
      return failure(
        'timeout',
        `Execution exceeded the ${request.limits.timeoutMs} ms time limit; the sandbox was terminated.`,
        { durationMs: elapsed() },
      );
    }
    const tooDeep = outcome.resultJson === undefined ? undefined : resultNestingProblem(outcome.resultJson);
    if (tooDeep) {
      return failure('output_too_large', tooDeep, {
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        durationMs: elapsed(),
      });
    }
    let result: unknown;
    if (outcome.resultJson !== undefined) result = JSON.parse(outcome.resultJson);
    return emptyOutcome({
      ok: outcome.ok,
      ...(outcome.errorKind ? { errorKind: outcome.errorKind } : {}),
      ...(outcome.errorMessage ? { errorMessage: outcome.errorMessage } : {}),
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      hasResult: outcome.resultJson !== undefined,
      ...(outcome.resultJson !== undefined ? { result } : {}),
      files: outcome.files.map((f) => ({ name: f.name, bytes: Buffer.from(f.bytes) })),
      truncated: outcome.truncated,
      durationMs: elapsed(),
    });
  }

  /** Workers created so far (for the bench and tests). */
  get workersStarted(): number {
    return this.pool.workersStarted;
  }

  /** Workers currently alive (idle or busy). */
  get liveWorkers(): number {
    return this.pool.liveWorkers;
  }

  /** Starts one worker ahead of the first call (optional; the first call otherwise pays for it). */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function createJavaScriptSandbox(options?: JavaScriptSandboxOptions): JavaScriptSandbox {
  return new JavaScriptSandbox(options);
}
