/**
 * Azurite for devhost: started as `node <azurite entry>` so the PID we hold is the server itself,
 * bound to 127.0.0.1 only, stopped by PID (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import path from 'node:path';
import { azuriteConnectionString, DEV_PORTS, usesDevelopmentStorage, type Env } from './connection.js';

export type StorageLogLevel = 'debug' | 'information' | 'warning' | 'error';
export type StorageLog = (level: StorageLogLevel, message: string) => void;

export interface StartAzuriteOptions {
  blobPort: number;
  queuePort: number;
  tablePort: number;
  /** Workspace folder (created if missing). Exactly one of dataDir / inMemory. */
  dataDir?: string;
  inMemory?: boolean;
  /** How long to wait for all three ports to accept connections. Default 30 s. */
  startTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL on stop. Default 5 s. */
  stopGraceMs?: number;
}

export interface AzuriteProcess {
  pid: number;
  connectionString: string;
  /** Idempotent. Resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface EnsureAzuriteOptions {
  /** Azurite workspace, conventionally `<stateDir>/azurite`. */
  dataDir: string;
  log: StorageLog;
  env?: Env;
  startTimeoutMs?: number;
}

export interface EnsuredAzurite {
  /** True when this call started Azurite (and `stop` will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

const TAIL_BYTES = 4096;

function resolveAzuriteEntry(): string {
  const bases = [
    typeof __filename === 'string' ? __filename : undefined,
    path.join(process.cwd(), 'package.json'),
  ];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      const pkgPath = createRequire(base).resolve('azurite/package.json');
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin?: Record<string, string> };
      const bin = pkg.bin?.azurite;
      if (bin !== undefined) return path.resolve(path.dirname(pkgPath), bin);
    } catch {
      // try the next base
    }
  }
  throw new Error(
    'Azurite is not installed: run `npm install --save-dev azurite@3.35.0` (the last release for Node 20).',
  );
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function isPortListening(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Start one Azurite process on 127.0.0.1 with the given ports and wait until it accepts connections. */
export async function startAzurite(options: StartAzuriteOptions): Promise<AzuriteProcess> {
  if ((options.dataDir === undefined) === (options.inMemory !== true)) {
    throw new Error('startAzurite: pass exactly one of dataDir or inMemory: true.');
  }
  const ports = { blob: options.blobPort, queue: options.queuePort, table: options.tablePort };
  const args = [resolveAzuriteEntry(), '--silent', '--disableTelemetry', '--skipApiVersionCheck', '--loose'];
  for (const service of ['blob', 'queue', 'table'] as const) {
    args.push(`--${service}Host`, '127.0.0.1', `--${service}Port`, String(ports[service]));
  }
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--location', options.dataDir);
  } else {
    args.push('--inMemoryPersistence');
  }

  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  let tail = '';
  let startupOutput = ''; // scanned for Azurite's own "successfully listening" lines
  const keepTail = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-TAIL_BYTES);
    if (startupOutput.length < 65_536) startupOutput += text;
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start Azurite: ${(await spawnError).message}`);

  // Safety net: never leave an orphan Azurite behind if the host exits without calling stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(child, options.stopGraceMs ?? 5000))) {
        process.kill(pid, 'SIGKILL');
        await waitForExit(child, 5000);
      }
    })();
    return stopping;
  };

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const describe = `Azurite (pid ${pid}, ports ${ports.blob}/${ports.queue}/${ports.table})`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `${describe} exited during start (code ${String(child.exitCode)}, signal ${String(child.signalCode)}). ` +
          `Output tail:\n${tail.trim() || '(none)'}`,
      );
    }
    // Both: Azurite says each service listens on its port, and the port accepts connections.
    const all = [ports.blob, ports.queue, ports.table];
    const announced = all.every((port) =>
      startupOutput.includes(`successfully listening at http://127.0.0.1:${port}`),
    );
    if (announced && (await Promise.all(all.map((port) => isPortListening(port)))).every(Boolean)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${describe} did not accept connections within ${timeoutMs} ms. Output tail:\n${tail.trim() || '(none)'}`,
      );
    }
    await delay(100);
  }
  return { pid, connectionString: azuriteConnectionString(ports), stop };
}

/**
 * When AzureWebJobsStorage is `UseDevelopmentStorage=true`, make sure Azurite serves the default
 * ports: reuse one that already listens on 127.0.0.1:10001, otherwise start one with its workspace
 * in `dataDir`. `stop()` stops only an Azurite this call started.
 */
export async function ensureAzurite(options: EnsureAzuriteOptions): Promise<EnsuredAzurite> {
  const noop = { started: false, stop: () => Promise.resolve() };
  if (!usesDevelopmentStorage(options.env ?? process.env)) {
    options.log('debug', 'AzureWebJobsStorage is not UseDevelopmentStorage=true: Azurite not needed.');
    return noop;
  }
  if (await isPortListening(DEV_PORTS.queue)) {
    options.log(
      'information',
      `Reusing the storage emulator already listening on 127.0.0.1:${DEV_PORTS.queue}.`,
    );
    return noop;
  }
  const azurite = await startAzurite({
    blobPort: DEV_PORTS.blob,
    queuePort: DEV_PORTS.queue,
    tablePort: DEV_PORTS.table,
    dataDir: options.dataDir,
    startTimeoutMs: options.startTimeoutMs,
  });
  options.log(
    'information',
    `Started Azurite (pid ${azurite.pid}) on 127.0.0.1:10000-10002, data in ${options.dataDir}.`,
  );
  return {
    started: true,
    stop: async () => {
      await azurite.stop();
      options.log('information', `Stopped Azurite (pid ${azurite.pid}).`);
    },
  };
}
