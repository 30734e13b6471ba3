import { spawn, type SpawnOptions } from 'node:child_process';
import { OutputBudget } from './types.js';

/** Why the host killed the process group: wall clock, stdout/stderr budget, or fd 3 size. */
export type StopReason = 'timeout' | 'output' | 'frames';

export interface ProcessCaps {
  /** Wall clock after which the whole process group is killed. */
  wallClockMs: number;
  /** Budget shared by stdout and stderr. */
  maxOutputBytes: number;
  /** Most bytes accepted on fd 3 (the frame stream). */
  maxFrameBytes: number;
}

export type ProcessResult =
  | { started: false; error: Error }
  | {
      started: true;
      stopReason: StopReason | undefined;
      output: OutputBudget;
      /** Everything received on fd 3. */
      frames: Buffer;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
    };

/**
 * Spawns bwrap (in its own process group, see `bubblewrapSpawnOptions`) with stdout, stderr and
 * fd 3 piped. Caps stdout/stderr and fd 3 while streaming and kills the process group
 * (`kill(-pid, SIGKILL)`) on overflow or when the wall clock runs out.
 */
export function runCappedProcess(
  command: string,
  args: string[],
  options: SpawnOptions,
  caps: ProcessCaps,
): Promise<ProcessResult> {
  const child = spawn(command, args, options);
  const output = new OutputBudget(caps.maxOutputBytes);
  const frameChunks: Buffer[] = [];
  let frameBytes = 0;
  let stopReason: StopReason | undefined;
  const kill = (reason: StopReason) => {
    stopReason ??= reason;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const timer = setTimeout(() => kill('timeout'), caps.wallClockMs);
  child.stdout?.on('data', (d: Buffer) => {
    if (!output.push('stdout', d)) kill('output');
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (!output.push('stderr', d)) kill('output');
  });
  const frames = child.stdio[3] as NodeJS.ReadableStream | null;
  frames?.on('data', (d: Buffer) => {
    frameBytes += d.length;
    if (frameBytes > caps.maxFrameBytes) kill('frames');
    else frameChunks.push(d);
  });

  return new Promise<ProcessResult>((resolve) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ started: false, error });
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        started: true,
        stopReason,
        output,
        frames: Buffer.concat(frameChunks),
        exitCode,
        signal,
      });
    });
  });
}
