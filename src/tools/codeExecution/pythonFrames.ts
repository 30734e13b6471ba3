import { SAFE_FILE_NAME, type SandboxOutputFile } from './types.js';

/** The runner's own report, as `boot.py` read it from the status file. */
export interface RunnerStatus {
  ok: boolean;
  result?: string;
  error?: string;
  message?: string;
}

/** One JSON line `boot.py` sends the host over fd 3: an artifact file, or the final status. */
export interface Frame {
  t: 'file' | 'status';
  name?: string;
  b64?: string;
  syntax?: string;
  exit?: number;
  runner?: RunnerStatus | null;
  filesTruncated?: boolean;
}

/**
 * Decodes the fd 3 stream into the artifact files (safe names only) and the last status frame.
 * Lines that are not JSON are skipped.
 */
export function decodeFrames(stream: Buffer): { files: SandboxOutputFile[]; status: Frame | undefined } {
  const files: SandboxOutputFile[] = [];
  let status: Frame | undefined;
  for (const line of stream.toString('utf8').split('\n')) {
    if (!line) continue;
    let frame: Frame;
    try {
      frame = JSON.parse(line) as Frame;
    } catch {
      continue;
    }
    if (frame.t === 'file' && frame.name && frame.b64 !== undefined && SAFE_FILE_NAME.test(frame.name)) {
      files.push({ name: frame.name, bytes: Buffer.from(frame.b64, 'base64') });
    } else if (frame.t === 'status') status = frame;
  }
  return { files, status };
}
