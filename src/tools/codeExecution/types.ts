import { MAX_JSON_DEPTH, nestingProblem } from '../../shared/jsonText.js';
import type { ToolFailureKind } from '../../shared/toolTypes.js';

/** Limits one sandbox call runs under, after clamping to the global maxima. */
export interface EffectiveLimits {
  /** CPU and wall-clock budget for the code (startup allowance is added by each sandbox). */
  timeoutMs: number;
  /** JS: QuickJS heap limit. Python: RLIMIT_AS (virtual address space). */
  memoryMb: number;
  /** stdout + stderr + JSON result, in bytes. */
  maxOutputBytes: number;
  /** Total bytes of files the code may write as artifacts. */
  maxArtifactBytes: number;
  /** How many artifact files the code may write. */
  maxArtifacts: number;
}

/** A read-only input file handed to the code. */
export interface SandboxInputFile {
  name: string;
  bytes: Buffer;
}

/** A file the code wrote; becomes an artifact. */
export interface SandboxOutputFile {
  name: string;
  bytes: Buffer;
}

export interface SandboxRequest {
  code: string;
  files: SandboxInputFile[];
  limits: EffectiveLimits;
}

/** The failure kinds a sandbox itself reports (a subset of the tool failure kinds). */
export type SandboxErrorKind = Extract<
  ToolFailureKind,
  'timeout' | 'out_of_memory' | 'syntax_error' | 'runtime_error' | 'output_too_large' | 'sandbox_unavailable'
>;

export interface SandboxOutcome {
  ok: boolean;
  /** Set when `ok` is false. */
  errorKind?: SandboxErrorKind;
  /** A one-paragraph explanation for the model when `ok` is false. */
  errorMessage?: string;
  stdout: string;
  stderr: string;
  /** The JSON value of the code's result, when it produced one (see README: "Result value"). */
  result?: unknown;
  hasResult: boolean;
  files: SandboxOutputFile[];
  /** Output or files were cut at a limit. */
  truncated: boolean;
  durationMs: number;
}

/** One language runtime behind run_code. */
export interface CodeSandbox {
  readonly language: 'javascript' | 'python';
  /** Short name for logs and results, e.g. `quickjs-worker`, `bubblewrap`, `container-apps`. */
  readonly kind: string;
  run(request: SandboxRequest): Promise<SandboxOutcome>;
  close?(): Promise<void>;
}

/** File names the code may create or receive: a flat name, no path, no leading dot. */
export const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function emptyOutcome(partial: Partial<SandboxOutcome> & { durationMs: number }): SandboxOutcome {
  return { ok: true, stdout: '', stderr: '', hasResult: false, files: [], truncated: false, ...partial };
}

/**
 * Why a result's JSON text cannot be handed on, or undefined when it can: nesting deeper than the app's
 * `MAX_JSON_DEPTH` would overflow the stack of whatever serializes it next (the tool summary, history).
 */
export function resultNestingProblem(resultJson: string): string | undefined {
  const deep = nestingProblem(resultJson);
  if (!deep) return undefined;
  return `The result value nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels; return a flatter value (or write it to a file).`;
}

export function failure(
  errorKind: SandboxErrorKind,
  errorMessage: string,
  partial: Partial<SandboxOutcome> & { durationMs: number },
): SandboxOutcome {
  return emptyOutcome({ ...partial, ok: false, errorKind, errorMessage });
}

const CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  txt: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
  html: 'text/html',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
};

export function contentTypeFor(name: string): string {
  const ext = name.includes('.') ? (name.split('.').pop() ?? '').toLowerCase() : '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/** Accumulates stdout/stderr up to a shared byte budget; reports overflow once. */
export class OutputBudget {
  private used = 0;
  private readonly chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  /** Returns false once the budget is exceeded (the excess is dropped). */
  push(stream: 'stdout' | 'stderr', chunk: Buffer): boolean {
    if (this.overflowed) return false;
    const room = this.maxBytes - this.used;
    if (chunk.length > room) {
      if (room > 0) this.chunks[stream].push(chunk.subarray(0, room));
      this.used = this.maxBytes;
      this.overflowed = true;
      return false;
    }
    this.chunks[stream].push(chunk);
    this.used += chunk.length;
    return true;
  }

  get usedBytes(): number {
    return this.used;
  }

  text(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.chunks[stream]).toString('utf8');
  }
}
