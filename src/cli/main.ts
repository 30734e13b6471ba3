#!/usr/bin/env node
/** `durable-agents`: start runs and operate them from a terminal, against devhost or Azure. */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { CliError, createApiClient, type Connection } from './apiClient.js';
import { COMMANDS, type Command, type Output } from './commands.js';

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  'admin-key': { type: 'string' },
  as: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GLOBAL_HELP = [
  '--url <url>          the app, e.g. http://127.0.0.1:7071 (env DURABLE_AGENTS_URL; this is the default)',
  '--key <key>          function key for start (env DURABLE_AGENTS_KEY; the admin key also works)',
  '--admin-key <key>    master key for the operator API (env DURABLE_AGENTS_ADMIN_KEY)',
  '--as <name>          who you are, recorded with actions (env DURABLE_AGENTS_OPERATOR; default: your user name)',
  '--json               print JSON instead of text',
  '-h, --help           help for a command',
];

function mainHelp(): string {
  const width = Math.max(...[...COMMANDS.values()].map((c) => c.usage.length));
  return [
    'Usage: durable-agents <command> [options]',
    '',
    'Commands:',
    ...[...COMMANDS.values()].map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command:',
    ...GLOBAL_HELP.map((line) => `  ${line}`),
    '',
    'durable-agents <command> --help shows a command’s own options.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `Usage: durable-agents ${command.usage}`,
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    ...(command.optionHelp.length > 0
      ? ['', 'Options:', ...command.optionHelp.map((line) => `  ${line}`)]
      : []),
    '',
    'Global options:',
    ...GLOBAL_HELP.map((line) => `  ${line}`),
  ].join('\n');
}

function findCommand(args: readonly string[]): { command?: Command; name?: string; rest: string[] } {
  const two = `${args[0] ?? ''} ${args[1] ?? ''}`;
  const one = COMMANDS.get(two);
  if (one) return { command: one, name: two, rest: args.slice(2) };
  const single = COMMANDS.get(args[0] ?? '');
  if (single) return { command: single, name: args[0] ?? '', rest: args.slice(1) };
  return { rest: [...args] };
}

function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Output['write'];
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly fetch?: typeof fetch;
}

/** Runs one command line; resolves to the exit code (0 done, 1 failed, 2 usage error). */
export async function runCli(args: readonly string[], environment: CliEnvironment): Promise<number> {
  const { command, name, rest } = findCommand(args);
  if (!command) {
    const wantsHelp = args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help';
    if (wantsHelp) {
      environment.stdout(`${mainHelp()}\n`);
      return 0;
    }
    environment.stderr(`Unknown command "${args.slice(0, 2).join(' ')}".\n\n${mainHelp()}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    environment.stderr(
      `${(error as Error).message}\n\nUsage: durable-agents ${command.usage} (--help for options)\n`,
    );
    return 2;
  }
  const options = parsed.values as Record<string, string | boolean | undefined>;
  if (options.help) {
    environment.stdout(`${commandHelp(command)}\n`);
    return 0;
  }
  const env = environment.env;
  const pick = (flag: string, variable: string) => {
    const value = options[flag];
    return typeof value === 'string' && value !== '' ? value : env[variable] || undefined;
  };
  const connection: Connection = {
    baseUrl: pick('url', 'DURABLE_AGENTS_URL') ?? 'http://127.0.0.1:7071',
    ...(pick('key', 'DURABLE_AGENTS_KEY') ? { functionKey: pick('key', 'DURABLE_AGENTS_KEY') } : {}),
    ...(pick('admin-key', 'DURABLE_AGENTS_ADMIN_KEY')
      ? { adminKey: pick('admin-key', 'DURABLE_AGENTS_ADMIN_KEY') }
      : {}),
    operator: pick('as', 'DURABLE_AGENTS_OPERATOR') ?? defaultOperator(),
  };
  const json = options.json === true;
  const out: Output = {
    json,
    isTTY: environment.isTTY,
    write: (text) => environment.stdout(text.endsWith('\n') || text.startsWith('\r') ? text : `${text}\n`),
  };
  try {
    return await command.run({
      api: createApiClient(connection, environment.fetch),
      out,
      positionals: parsed.positionals,
      options,
    });
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    environment.stderr(`durable-agents ${name ?? ''}: ${error.message}\n`);
    return error.exitCode;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `durable-agents: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
