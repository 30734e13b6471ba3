import type { LogLevel } from './functions/types.js';

export type HostLog = (level: LogLevel, message: string) => void;

const LEVEL_ORDER: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
};

/** Timestamped lines on stdout/stderr, like `func start`; `minLevel` from DEVHOST_LOG_LEVEL. */
export function consoleLog(minLevel: LogLevel = 'information'): HostLog {
  return (level, message) => {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[minLevel]) return;
    const line = `[${new Date().toISOString()}] ${message}`;
    if (LEVEL_ORDER[level] >= LEVEL_ORDER.warning) process.stderr.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  };
}

export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'information';
  const level = value.toLowerCase();
  if (level in LEVEL_ORDER) return level as LogLevel;
  throw new Error(`DEVHOST_LOG_LEVEL "${value}" is not one of ${Object.keys(LEVEL_ORDER).join(', ')}`);
}
