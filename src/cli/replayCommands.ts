/**
 * `runs export` and `replay`: a run's histories into a file, and histories replayed against the
 * orchestrators of this build (src/replay/README.md). Kept apart from commands.ts so each can change alone.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromApiHistory } from '../replay/apiHistory.js';
import { parseRunExport, RunExport, sha256Hex } from '../replay/exportFile.js';
import { describeDivergence } from '../replay/replayer.js';
import { replayRunExport, type RunReplayResult } from '../replay/replayRun.js';
import { CliError } from './apiClient.js';
import type { Command, CommandContext } from './commands.js';

const option = (context: CommandContext, name: string): string | undefined => {
  const value = context.options[name];
  return typeof value === 'string' ? value : undefined;
};

/** How many of an export's instances `replay` could take as they are. */
function unreplayableCount(exported: RunExport): number {
  return exported.instances.filter(
    (instance) => instance.history.shape === 'httpApi' && !fromApiHistory(instance.history.events).ok,
  ).length;
}

const exportCommand: Command = {
  usage: 'runs export <id> [--out <file>]',
  summary: "write a run's histories and workflow definition to a file for `replay` (admin key)",
  optionHelp: ['--out <file>      where to write (default: <id>.run-export.json; - for stdout)'],
  options: { out: { type: 'string' } },
  async run(context) {
    const id = context.positionals[0];
    if (!id || context.positionals.length > 1)
      throw new CliError('Usage: durable-agents runs export <id> [--out <file>]', 2);
    const answer = await context.api.operator<unknown>('GET', `runs/${encodeURIComponent(id)}/export`);
    const parsed = RunExport.safeParse(answer.body);
    if (!parsed.success) {
      throw new CliError(
        `The app answered with something that is not a run export: ${parsed.error.issues[0]?.message ?? ''}. Is it an older version?`,
      );
    }
    const exported = parsed.data;
    const out = option(context, 'out') ?? `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.run-export.json`;
    const text = `${JSON.stringify(exported, null, 1)}\n`;
    if (out === '-') context.out.write(text);
    else writeFileSync(out, text);
    const events = exported.instances.reduce((sum, instance) => sum + instance.history.events.length, 0);
    const unreplayable = unreplayableCount(exported);
    if (out !== '-') {
      context.out.write(
        context.out.json
          ? JSON.stringify({ file: out, instances: exported.instances.length, events, unreplayable })
          : `Wrote ${out}: ${exported.instances.length} instance(s), ${events} history events.` +
              (unreplayable > 0
                ? `\n${unreplayable} instance(s) cannot be replayed: the host's history API leaves out ` +
                  'sequence numbers or event payloads (see src/replay/README.md). `replay` will say which.'
                : ''),
      );
    }
    return 0;
  },
};

function exportFiles(target: string): string[] {
  if (!existsSync(target)) throw new CliError(`No such file or folder: ${target}`, 2);
  if (!statSync(target).isDirectory()) return [target];
  const files = readdirSync(target)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => path.join(target, file));
  if (files.length === 0) throw new CliError(`No *.json run exports in ${target}`, 2);
  return files;
}

/** A note when the definition file changed since the export (runs in flight keep the one they started with). */
function definitionNote(exported: RunExport, workflowsDir: string | undefined): string | undefined {
  const workflow = exported.workflow;
  if (!workflow || workflowsDir === undefined) return undefined;
  const current = path.join(workflowsDir, workflow.file);
  if (!existsSync(current)) return `${workflow.file} is no longer in ${workflowsDir}.`;
  if (sha256Hex(readFileSync(current, 'utf8')) === workflow.sha256) return undefined;
  return (
    `${workflow.file} changed since the export; runs in flight keep the definition they started with ` +
    '(it travels in their input), new runs get the new one.'
  );
}

interface FileOutcome {
  file: string;
  run?: string;
  result?: RunReplayResult;
  note?: string;
  error?: string;
}

function summary(outcome: FileOutcome): string {
  const head = `${outcome.file}${outcome.run ? ` (run ${outcome.run})` : ''}`;
  if (outcome.error) return `ERROR     ${head}: ${outcome.error}`;
  const result = outcome.result as RunReplayResult;
  const lines: string[] = [];
  const episodes = result.instances.reduce((sum, instance) => sum + instance.episodes, 0);
  if (result.divergence) lines.push(`DIVERGED  ${head}\n  ${describeDivergence(result.divergence)}`);
  else if (result.notReplayable.length > 0 && result.instances.length === 0) lines.push(`SKIPPED   ${head}`);
  else
    lines.push(`OK        ${head}: ${result.instances.length} instance(s), ${episodes} episode(s) replayed`);
  for (const item of result.notReplayable) lines.push(`  not replayable: ${item.instanceId}: ${item.reason}`);
  if (outcome.note) lines.push(`  note: ${outcome.note}`);
  return lines.join('\n');
}

const replayCommand: Command = {
  usage: 'replay <file|folder> [--workflows <folder>]',
  summary: 'replay exported run histories against this build; exit 1 on non-determinism',
  optionHelp: [
    '--workflows <folder>  compare each export’s definition with this folder (default: ./workflows if it exists)',
    'Exit codes: 0 every history replayed as recorded; 1 a history diverged; 2 a file could not be read',
    'or a history could not be replayed.',
  ],
  options: { workflows: { type: 'string' } },
  async run(context) {
    const target = context.positionals[0];
    if (!target || context.positionals.length > 1)
      throw new CliError('Usage: durable-agents replay <file|folder> [--workflows <folder>]', 2);
    const workflowsDir =
      option(context, 'workflows') ?? (existsSync('workflows') ? path.resolve('workflows') : undefined);
    const outcomes: FileOutcome[] = [];
    // One at a time: the replayer reads the SDK's numbering of one invocation at a time.
    for (const file of exportFiles(target)) {
      let exported: RunExport;
      try {
        exported = parseRunExport(readFileSync(file, 'utf8'), file);
      } catch (error) {
        outcomes.push({ file, error: (error as Error).message });
        continue;
      }
      const result = await replayRunExport(exported);
      const note = definitionNote(exported, workflowsDir);
      outcomes.push({ file, run: exported.run.instanceId, result, ...(note ? { note } : {}) });
    }
    if (context.out.json) context.out.write(JSON.stringify(outcomes, null, 2));
    else for (const outcome of outcomes) context.out.write(summary(outcome));
    if (outcomes.some((outcome) => outcome.result?.divergence)) return 1;
    if (outcomes.some((outcome) => outcome.error || (outcome.result?.notReplayable.length ?? 0) > 0))
      return 2;
    return 0;
  },
};

/** Added to the command table in commands.ts. */
export const REPLAY_COMMANDS: readonly (readonly [string, Command])[] = [
  ['runs export', exportCommand],
  ['replay', replayCommand],
];
