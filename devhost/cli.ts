#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startDevHost } from './host.js';
import { consoleLog, parseLogLevel } from './log.js';

const USAGE = `Usage: devhost start [options]

Runs an Azure Functions app (host.json + package.json "main") with a local Durable runtime.

Options:
  --app <dir>          app folder (default: current directory)
  --port <n>           HTTP port on 127.0.0.1 (default: 7071; 0 picks a free port)
  --state <dir>        durable state, keys and Azurite data (default: <app>/.state)
  --time-scale <n>     durable time runs n times faster than real time (default: 1)
  --skip-idle-time     when nothing can run, jump durable time to the next timer
  --replay <mode>      batched (all new events per episode, default) or eventByEvent
  --schema-version <n> replay schema offered to orchestrators: 2, 3 (default) or 4
  --no-azurite         never start Azurite, even for UseDevelopmentStorage=true
  -h, --help           this text

Environment: DEVHOST_LOG_LEVEL (trace|debug|information|warning|error), DEVHOST_MASTER_KEY,
DEVHOST_FUNCTION_KEY, DEVHOST_SYSTEM_KEY; app settings come from the environment and the app's
local.settings.json "Values".`;

function fail(message: string): never {
  process.stderr.write(`devhost: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        app: { type: 'string' },
        port: { type: 'string' },
        state: { type: 'string' },
        'time-scale': { type: 'string' },
        'skip-idle-time': { type: 'boolean' },
        replay: { type: 'string' },
        'schema-version': { type: 'string' },
        'no-azurite': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals[0] !== 'start' || positionals.length > 1) fail('expected the command "start"');
  const replay = values.replay ?? 'batched';
  if (replay !== 'batched' && replay !== 'eventByEvent') fail(`--replay must be batched or eventByEvent`);

  const schemaVersion = Number(values['schema-version'] ?? 3);
  if (schemaVersion !== 2 && schemaVersion !== 3 && schemaVersion !== 4)
    fail('--schema-version must be 2, 3 or 4');
  const appDir = path.resolve(values.app ?? '.');
  const log = consoleLog(parseLogLevel(process.env.DEVHOST_LOG_LEVEL));
  const host = await startDevHost({
    appDir,
    port: numberOption('port', values.port, 7071),
    stateDir: path.resolve(values.state ?? path.join(appDir, '.state')),
    timeScale: numberOption('time-scale', values['time-scale'], 1),
    skipIdleTime: values['skip-idle-time'] ?? false,
    replayMode: replay,
    schemaVersion,
    azurite: values['no-azurite'] ? 'off' : 'auto',
    log,
  });
  process.stdout.write(`${host.describe()}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('information', `Received ${signal}; stopping.`);
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log('error', `Stopping failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`devhost: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
