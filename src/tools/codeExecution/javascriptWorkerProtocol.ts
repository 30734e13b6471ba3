import type { SandboxErrorKind } from './types.js';

/** Limits as the worker sees them (bytes, not megabytes). */
export interface WorkerLimits {
  timeoutMs: number;
  memoryBytes: number;
  maxStackBytes: number;
  maxOutputBytes: number;
  maxArtifactBytes: number;
  maxArtifacts: number;
}

/** One call, host → worker. */
export interface WorkerRunMessage {
  id: number;
  code: string;
  files: Record<string, string>;
  limits: WorkerLimits;
}

/** What one call produced, worker → host. */
export interface WorkerOutcome {
  ok: boolean;
  errorKind?: SandboxErrorKind;
  errorMessage?: string;
  stdout: string;
  stderr: string;
  resultJson?: string;
  files: { name: string; bytes: Uint8Array }[];
  truncated: boolean;
}

/** The reply to a `WorkerRunMessage`; `fatal` asks the host to retire the worker. */
export interface WorkerReply {
  id: number;
  outcome: WorkerOutcome;
  fatal?: boolean;
}

/** Passed as `workerData`: absolute paths the worker `require`s, and settings fixed per pool. */
export interface WorkerData {
  quickjsPath: string;
  wasmPath: string;
  variant: 'release' | 'debug';
  safeFileName: string;
}
