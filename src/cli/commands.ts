/** The CLI's commands: each parses its own options, calls the app, and prints text or JSON. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinished, type ActionAccepted, type RunDetail, type RunList } from '../shared/operatorTypes.js';
import { CliError, type ApiClient } from './apiClient.js';
import { REPLAY_COMMANDS } from './replayCommands.js';
import { progressBar, progressFraction, runsTable, watchLine } from './format.js';
import { logLines, runShowText } from './waterfallText.js';
import { workflowsNewCommand } from './scaffold.js';

export interface Output {
  readonly json: boolean;
  readonly isTTY: boolean;
  write(text: string): void;
}

export interface CommandContext {
  readonly api: ApiClient;
  readonly out: Output;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

export interface Command {
  /** How it is typed, e.g. `runs show <id>`. */
  readonly usage: string;
  readonly summary: string;
  /** Option lines for `--help`. */
  readonly optionHelp: readonly string[];
  readonly options: Readonly<Record<string, { type: 'string' | 'boolean' }>>;
  readonly run: (context: CommandContext) => Promise<number>;
}

function requireId(context: CommandContext, usage: string): string {
  const id = context.positionals[0];
  if (!id) throw new CliError(`Missing the run id. Usage: durable-agents ${usage}`, 2);
  if (context.positionals.length > 1)
    throw new CliError(`Unexpected "${context.positionals[1]}". Usage: durable-agents ${usage}`, 2);
  return id;
}

const text = (context: CommandContext, name: string): string | undefined => {
  const value = context.options[name];
  return typeof value === 'string' ? value : undefined;
};

function print(out: Output, value: unknown, human: () => string): void {
  out.write(out.json ? JSON.stringify(value, null, 2) : human());
}

const runPath = (id: string) => `runs/${encodeURIComponent(id)}`;

/** A finished run succeeded only when it completed with outcome "completed". */
const succeeded = (run: { status: string; outcome?: string | null }) =>
  run.status === 'Completed' &&
  (run.outcome === undefined || run.outcome === null || run.outcome === 'completed');

function isoOption(context: CommandContext, name: string): string | undefined {
  const value = text(context, name);
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new CliError(
      `--${name} must be an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z (got "${value}")`,
      2,
    );
  }
  return new Date(value).toISOString();
}

const startCommand: Command = {
  usage: 'start <workflow> --input <file.json|-> [--wait]',
  summary: 'start a run of a workflow (function key)',
  optionHelp: [
    '--input <file>    the input JSON, or - for stdin (default: {})',
    '--wait            wait until the run finishes and print it; exit 1 unless it completed',
    '--timeout <s>     give up waiting after this many seconds (default 600)',
  ],
  options: { input: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
  async run(context) {
    const workflow = context.positionals[0];
    if (!workflow)
      throw new CliError(
        'Missing the workflow name. Usage: durable-agents start <workflow> --input file.json',
        2,
      );
    const file = text(context, 'input');
    let input: unknown = {};
    if (file !== undefined) {
      let raw: string;
      try {
        raw = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (error) {
        throw new CliError(`Cannot read --input ${file}: ${(error as Error).message}`, 2);
      }
      try {
        input = JSON.parse(raw) as unknown;
      } catch (error) {
        throw new CliError(`--input ${file} is not JSON: ${(error as Error).message}`, 2);
      }
    }
    const started = await context.api.business<{ id: string; runUrl?: string }>(
      'POST',
      `workflows/${encodeURIComponent(workflow)}`,
      input,
    );
    const id = started.body.id;
    if (!context.options.wait) {
      print(context.out, started.body, () =>
        `Started ${workflow} as run ${id}\n  ${started.body.runUrl ?? ''}`.trimEnd(),
      );
      return 0;
    }
    const timeoutSeconds = Number(text(context, 'timeout') ?? 600);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
      throw new CliError('--timeout must be a positive number of seconds', 2);
    const deadline = Date.now() + timeoutSeconds * 1_000;
    for (;;) {
      const run = await context.api.business<{
        status: string;
        outcome: string | null;
        output: unknown;
        error: unknown;
      }>('GET', runPath(id));
      if (isFinished(run.body.status)) {
        print(context.out, run.body, () =>
          [
            `Run ${id}: ${run.body.status}${run.body.outcome ? ` (${run.body.outcome})` : ''}`,
            JSON.stringify(run.body.output ?? run.body.error, null, 2),
          ].join('\n'),
        );
        return succeeded(run.body) ? 0 : 1;
      }
      if (Date.now() > deadline)
        throw new CliError(`Run ${id} is still ${run.body.status} after ${timeoutSeconds}s.`);
      await sleep(500);
    }
  },
};

const listCommand: Command = {
  usage: 'runs list [--status <s,…>] [--workflow <name>]',
  summary: 'list runs, filtered and a page at a time (admin key)',
  optionHelp: [
    '--status <s,…>        Running, Completed, Failed, Terminated, Suspended, Pending, …',
    '--workflow <name>     only runs of this workflow',
    '--since <ISO>         created at or after',
    '--until <ISO>         created at or before',
    '--prefix <id>         run ids starting with this',
    '--limit <n>           runs per page (1-200, default 50)',
    '--continue <token>    the next page, from a previous listing',
    '--all                 include sub-orchestrations (agent loops, child workflows)',
  ],
  options: {
    status: { type: 'string' },
    workflow: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    prefix: { type: 'string' },
    limit: { type: 'string' },
    continue: { type: 'string' },
    all: { type: 'boolean' },
  },
  async run(context) {
    const query = new URLSearchParams();
    const set = (name: string, value: string | undefined) => value !== undefined && query.set(name, value);
    set('status', text(context, 'status'));
    set('workflow', text(context, 'workflow'));
    set('createdFrom', isoOption(context, 'since'));
    set('createdTo', isoOption(context, 'until'));
    set('idPrefix', text(context, 'prefix'));
    set('pageSize', text(context, 'limit'));
    set('continuationToken', text(context, 'continue'));
    if (context.options.all) query.set('all', 'true');
    const list = await context.api.operator<RunList>(
      'GET',
      `runs${query.size ? `?${query.toString()}` : ''}`,
    );
    print(context.out, list.body, () =>
      list.body.continuationToken
        ? `${runsTable(list.body.runs)}\n\nMore runs: durable-agents runs list --continue ${list.body.continuationToken}`
        : runsTable(list.body.runs),
    );
    return 0;
  },
};

const showCommand: Command = {
  usage: 'runs show <id>',
  summary: 'one run with its step timeline, cost and operator actions (admin key)',
  optionHelp: ['--history    include the raw Durable history (with --json)'],
  options: { history: { type: 'boolean' } },
  async run(context) {
    const id = requireId(context, this.usage);
    const run = await context.api.operator<RunDetail>(
      'GET',
      `${runPath(id)}${context.options.history ? '?history=true' : ''}`,
    );
    print(context.out, run.body, () => runShowText(run.body));
    return 0;
  },
};

const logsCommand: Command = {
  usage: 'runs logs <id>',
  summary: 'what the run did, a line per start and end of each step, call, wait and child run (admin key)',
  optionHelp: [
    '--follow          keep printing new lines until the run finishes',
    '--interval <ms>   how often --follow polls (default 1000)',
  ],
  options: { follow: { type: 'boolean' }, interval: { type: 'string' } },
  async run(context) {
    const id = requireId(context, this.usage);
    const interval = Number(text(context, 'interval') ?? 1_000);
    if (!Number.isFinite(interval) || interval < 50)
      throw new CliError('--interval must be at least 50 milliseconds', 2);
    const printed = new Set<string>();
    for (;;) {
      const run = (await context.api.operator<RunDetail>('GET', runPath(id))).body;
      const fresh = logLines(run).filter((line) => !printed.has(line.key));
      for (const line of fresh) printed.add(line.key);
      if (context.out.json) {
        for (const line of fresh) context.out.write(JSON.stringify({ at: line.at, line: line.text }));
      } else if (fresh.length > 0) {
        context.out.write(fresh.map((line) => line.text).join('\n'));
      }
      if (!context.options.follow || isFinished(run.status)) return 0;
      await sleep(interval);
    }
  },
};

const watchCommand: Command = {
  usage: 'runs watch <id>',
  summary: 'follow a run until it finishes: a progress bar on a terminal, a line per change otherwise',
  optionHelp: [
    '--interval <ms>    how often to look (default 1000)',
    '--timeout <s>      give up after this many seconds',
  ],
  options: { interval: { type: 'string' }, timeout: { type: 'string' } },
  async run(context) {
    const id = requireId(context, this.usage);
    const interval = Number(text(context, 'interval') ?? 1_000);
    if (!Number.isFinite(interval) || interval < 50)
      throw new CliError('--interval must be at least 50 (milliseconds)', 2);
    const timeout = text(context, 'timeout');
    const deadline = timeout === undefined ? Infinity : Date.now() + Number(timeout) * 1_000;
    const { out } = context;
    const live = out.isTTY && !out.json;
    let last = '';
    for (;;) {
      const run = (await context.api.operator<RunDetail>('GET', runPath(id))).body;
      const line = watchLine(run);
      const done = isFinished(run.status);
      if (live) {
        out.write(`\r\x1b[2K${progressBar(progressFraction(run))}  ${line}${done ? '\n' : ''}`);
      } else if (line !== last) {
        out.write(
          out.json
            ? `${JSON.stringify({ id, status: run.status, outcome: run.outcome, progress: run.progress, waitingFor: run.waitingFor, costUsd: run.costUsd })}\n`
            : `${progressBar(progressFraction(run))}  ${line}\n`,
        );
      }
      last = line;
      if (done) {
        if (!out.json && run.error) out.write(`${run.error.kind}: ${run.error.message}\n`);
        return succeeded(run) ? 0 : 1;
      }
      if (Date.now() > deadline) throw new CliError(`Run ${id} is still ${run.status} after ${timeout}s.`);
      await sleep(interval);
    }
  },
};

function actionCommand(action: string, summary: string, field: 'reason' | 'comment'): Command {
  return {
    usage: `${action} <id> [--${field} <text>]`,
    summary: `${summary} (admin key)`,
    optionHelp: [
      `--${field} <text>    recorded with the action${field === 'comment' ? ' and sent with the decision' : ''}`,
    ],
    options: { [field]: { type: 'string' } },
    async run(context) {
      const id = requireId(context, this.usage);
      const value = text(context, field);
      const accepted = await context.api.operator<ActionAccepted>(
        'POST',
        `${runPath(id)}/${action}`,
        value === undefined ? {} : { [field]: value },
      );
      print(context.out, accepted.body, () =>
        accepted.body.newRunId
          ? `Restarted run ${id} as ${accepted.body.newRunId}`
          : `${action}: accepted for run ${id}`,
      );
      return 0;
    },
  };
}

const purgeCommand: Command = {
  usage: 'purge [--before <ISO>] [--status <s,…>]',
  summary: 'delete the history of finished runs matching a filter (admin key)',
  optionHelp: [
    '--before <ISO>      created before this time',
    '--after <ISO>       created at or after this time',
    '--status <s,…>      Completed, Failed, Terminated, Canceled (default: all four)',
    '--everything        allow purging with no --before or --status',
  ],
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    status: { type: 'string' },
    everything: { type: 'boolean' },
  },
  async run(context) {
    const before = isoOption(context, 'before');
    const after = isoOption(context, 'after');
    const statusText = text(context, 'status');
    if (before === undefined && statusText === undefined && !context.options.everything) {
      throw new CliError(
        'Refusing to purge every finished run: pass --before, --status, or --everything.',
        2,
      );
    }
    const body = {
      ...(after === undefined ? {} : { createdFrom: after }),
      ...(before === undefined ? {} : { createdTo: before }),
      ...(statusText === undefined
        ? {}
        : {
            status: statusText
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }),
    };
    const result = await context.api.operator<{ instancesDeleted: number }>('POST', 'purge', body);
    print(context.out, result.body, () => `Purged ${result.body.instancesDeleted} instance(s).`);
    return 0;
  },
};

/** Command name (one or two words) → command. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['start', startCommand],
  ['runs list', listCommand],
  ['runs show', showCommand],
  ['runs watch', watchCommand],
  ['runs logs', logsCommand],
  ['approve', actionCommand('approve', 'approve the approval a run waits for', 'comment')],
  ['reject', actionCommand('reject', 'reject the approval a run waits for (the run fails)', 'comment')],
  ['terminate', actionCommand('terminate', 'stop a run for good', 'reason')],
  ['suspend', actionCommand('suspend', 'pause a run', 'reason')],
  ['resume', actionCommand('resume', 'continue a suspended run', 'reason')],
  [
    'rewind',
    actionCommand('rewind', 'retry a run whose orchestration failed, from where it failed', 'reason'),
  ],
  ['restart', actionCommand('restart', 'start a new run from the same input', 'reason')],
  ['purge', purgeCommand],
  ...REPLAY_COMMANDS,
  ['workflows new', workflowsNewCommand],
]);
