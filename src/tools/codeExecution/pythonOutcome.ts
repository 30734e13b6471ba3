import type { ProcessResult } from './bubblewrapProcess.js';
import { decodeFrames, type Frame } from './pythonFrames.js';
import {
  emptyOutcome,
  failure,
  resultNestingProblem,
  type EffectiveLimits,
  type SandboxOutcome,
} from './types.js';

/** Turns what the bwrap process produced into the call's outcome, with a typed error kind. */
export function pythonOutcome(
  result: ProcessResult,
  limits: EffectiveLimits,
  durationMs: number,
): SandboxOutcome {
  if (!result.started) {
    return failure('sandbox_unavailable', `Could not start the sandbox: ${result.error.message}`, {
      durationMs,
    });
  }
  const { stopReason, output } = result;
  const base = {
    stdout: output.text('stdout'),
    stderr: output.text('stderr'),
    truncated: output.overflowed,
    durationMs,
  };
  if (stopReason === 'timeout') {
    return failure(
      'timeout',
      `Execution exceeded the ${limits.timeoutMs} ms time limit; the sandbox was killed.`,
      base,
    );
  }
  if (stopReason === 'output' || stopReason === 'frames') {
    const what =
      stopReason === 'output'
        ? `Output exceeded ${limits.maxOutputBytes} bytes`
        : 'Files exceeded their size limit';
    return failure('output_too_large', `${what}; the sandbox was killed.`, { ...base, truncated: true });
  }
  const { files, status } = decodeFrames(result.frames);
  return classify(status, result.exitCode, result.signal, limits, {
    ...base,
    files,
    truncated: base.truncated || !!status?.filesTruncated,
  });
}

function classify(
  status: Frame | undefined,
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  limits: EffectiveLimits,
  base: Pick<SandboxOutcome, 'stdout' | 'stderr' | 'files' | 'truncated' | 'durationMs'>,
): SandboxOutcome {
  if (status?.syntax) return failure('syntax_error', status.syntax, base);
  if (!status) {
    return failure(
      'runtime_error',
      `The sandbox exited without a result (exit ${exitCode ?? 'none'}${signal ? `, signal ${signal}` : ''}).`,
      base,
    );
  }
  const code = status.exit ?? 0;
  const runner = status.runner ?? undefined;
  // A negative exit is the signal that ended the code: SIGXCPU (24) or SIGKILL (9) after RLIMIT_CPU.
  if (code === -24 || (code === -9 && !runner)) {
    return failure(
      'timeout',
      `Execution exceeded the ${limits.timeoutMs} ms CPU time limit and was stopped.`,
      base,
    );
  }
  if (runner?.error === 'MemoryError' || (!runner && /MemoryError/.test(base.stderr))) {
    return failure(
      'out_of_memory',
      `Out of memory: the ${limits.memoryMb} MB address-space limit was reached.`,
      base,
    );
  }
  if (runner && !runner.ok) {
    const message =
      runner.error === 'SystemExit'
        ? `The code exited with ${runner.message ?? 'an error'}.`
        : `${runner.error}: ${runner.message ?? ''}`;
    return failure('runtime_error', message, base);
  }
  if (!runner) {
    return failure(
      'runtime_error',
      `The code ended abnormally (exit ${code < 0 ? `signal ${-code}` : code}).`,
      base,
    );
  }
  if (runner.result === undefined) return emptyOutcome({ ...base, hasResult: false });
  if (
    Buffer.byteLength(runner.result) + Buffer.byteLength(base.stdout) + Buffer.byteLength(base.stderr) >
    limits.maxOutputBytes
  ) {
    return failure(
      'output_too_large',
      `The result value exceeded the ${limits.maxOutputBytes}-byte output limit.`,
      {
        ...base,
        truncated: true,
      },
    );
  }
  const tooDeep = resultNestingProblem(runner.result);
  if (tooDeep) return failure('output_too_large', tooDeep, base);
  return emptyOutcome({ ...base, hasResult: true, result: JSON.parse(runner.result) as unknown });
}
