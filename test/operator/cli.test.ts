import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, RunList } from '../../src/shared/operatorTypes.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { eventually, operatorApi } from './operatorClient.js';

/** The compiled CLI (dist/src/cli/main.js, built by `npm test`) as a child process against an in-process host. */
const appDir = path.resolve(__dirname, '../..');

let host: TestHost;
let inputFile: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { host, env });
}

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-test-'));
  inputFile = path.join(dir, 'input.json');
  writeFileSync(
    inputFile,
    JSON.stringify({ topic: 'Durable execution for agents', questions: 2, requireApproval: true }),
  );
});

afterAll(async () => {
  await host?.stop();
});

async function startForReview(): Promise<string> {
  const started = await cli(['start', 'research-report', '--input', inputFile, '--json']);
  expect(started.code, started.stderr).toBe(0);
  const id = (JSON.parse(started.stdout) as { id: string }).id;
  const api = operatorApi(host);
  await eventually(
    async () => ((await api.json<RunDetail>(`runs/${id}`)).waitingFor ? true : undefined),
    'approval',
  );
  return id;
}

describe('durable-agents CLI against the local host', () => {
  it('starts a run, lists it, shows its timeline, watches it while someone approves, and exits 0 when it completes', async () => {
    const id = await startForReview();

    const list = await cli(['runs', 'list', '--workflow', 'research-report']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+WORKFLOW\s+STATUS\s+OUTCOME\s+STEP\s+COST\s+CREATED/);
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+research-report 1\\.0\\.0\\s+Running\\s+review \\(waiting for review\\)`),
    );

    const listJson = await cli(['runs', 'list', '--status', 'Running', '--json']);
    expect((JSON.parse(listJson.stdout) as RunList).runs.map((r) => r.id)).toContain(id);

    const show = await cli(['runs', 'show', id]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`Run ${id}`);
    expect(show.stdout).toMatch(/waiting\s+for "review" until/);
    expect(show.stdout).toMatch(
      /STEP\s+KIND\s+STATUS\s+ROLE\s+DEPLOYMENT\s+DURATION\s+TOKENS IN\/OUT\s+CACHE HIT\s+COST\s+TOOLS\s+RETRIES\s+ERROR/,
    );
    expect(show.stdout).toMatch(/cache hit\s+(\d+\.\d %|–) of prompt tokens read from cache/);
    for (const row of [
      /plan\s+llm\s+completed\s+planner/,
      /research\s+map\s+completed\s+worker/,
      /review\s+approval\s+waiting/,
    ]) {
      expect(show.stdout).toMatch(row);
    }

    const watching = cli(['runs', 'watch', id, '--interval', '100', '--timeout', '60']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const approve = await cli(['approve', id, '--comment', 'ship it', '--as', 'ana']);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout.trim()).toBe(`approve: accepted for run ${id}`);

    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\[#+\.*\]\s+\d+%\s+Running\s+review \(waiting for review\)/);
    expect(lines.at(-1)).toMatch(/^\[#{24}\] 100%\s+Completed/);
    expect(watched.stdout).not.toContain('\r');

    const after = await cli(['runs', 'show', id, '--json']);
    const run = JSON.parse(after.stdout) as RunDetail;
    expect(run.actions).toMatchObject([{ action: 'approve', by: 'ana', comment: 'ship it' }]);
    expect(run.approvals).toMatchObject([{ approved: true, by: 'ana' }]);

    // The finished run: its waterfall in text, its agent runs, one money format.
    const shown = await cli(['runs', 'show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/Waterfall: \d+ spans over/);
    expect(shown.stdout).toMatch(/SPAN\s+TIME\s+DURATION\s+STATUS\s+EVENT\s+DETAILS/);
    expect(shown.stdout).toMatch(/step plan\s+\|█+ *\|/);
    expect(shown.stdout).toMatch(
      /\n {2}model callModel\s+\|[ █]+\|\s+\S+\s+completed\s+\d+@research:0\s+claude-haiku-4-5/,
    );
    expect(shown.stdout).toMatch(/approval review\s+\|/);
    expect(shown.stdout).toContain('Agent and child runs:');
    expect(shown.stdout).toContain(`${id}:research:0  agentLoop (step research)  Completed`);
    for (const cost of shown.stdout.match(/\$[\d.]+/g) ?? [])
      expect(cost).toMatch(/^\$(\d+\.\d{2}|0\.\d{4})$/);

    const logs = await cli(['runs', 'logs', id]);
    expect(logs.code, logs.stderr).toBe(0);
    const logLines = logs.stdout.trim().split('\n');
    expect(logLines[0]).toMatch(/^\d{4}-\d{2}-\d{2} \S+Z {2}\[plan\] step plan started$/);
    expect(logs.stdout).toMatch(/\[plan\] model callModel completed after \S+ {2}claude-opus-4-8/);
    expect(logs.stdout).toMatch(/\[research\] tool web_search (completed|failed) after/);
    expect(logs.stdout).toContain('operator approve "review" by ana: ship it');
    const times = logLines.map((line) => line.slice(0, 24));
    expect(times).toEqual([...times].sort());
  });

  it('rejects, terminates, restarts and purges', async () => {
    const rejected = await startForReview();
    const reject = await cli(['reject', rejected, '--comment', 'too thin']);
    expect(reject.code, reject.stderr).toBe(0);
    const watch = await cli(['runs', 'watch', rejected, '--interval', '50']);
    expect(watch.code).toBe(1);
    expect(watch.stdout).toContain('approval_rejected');

    const stopped = await startForReview();
    expect((await cli(['terminate', stopped, '--reason', 'not needed'])).code).toBe(0);
    const again = await cli(['terminate', stopped]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409 .*already finished \(Terminated\)/);

    const restart = await cli(['restart', rejected, '--json']);
    expect(restart.code, restart.stderr).toBe(0);
    expect(JSON.parse(restart.stdout)).toMatchObject({
      id: rejected,
      action: 'restart',
      newRunId: expect.any(String) as unknown,
    });

    const purge = await cli(['purge', '--status', 'Terminated']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.stdout).toMatch(/^Purged [1-9]\d* instance\(s\)\./);
    const gone = await cli(['runs', 'show', stopped]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`404 Unknown run: No run with id "${stopped}".`);
  });

  it('starts and waits for a short run: exit 0 and the output', async () => {
    const file = path.join(path.dirname(inputFile), 'ticket.json');
    writeFileSync(file, JSON.stringify({ subject: 'Refund', body: 'Charged twice.' }));
    const result = await cli(['start', 'ticket-triage', '--input', file, '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Run \S+: Completed \(completed\)/);
    expect(result.stdout).toContain('"triage"');
  });

  it('explains what is wrong: keys, unknown workflows, bad input, usage', async () => {
    const wrongKey = await cli(['runs', 'list'], { DURABLE_AGENTS_ADMIN_KEY: host.host.keys.functionKey });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('401 from GET /api/operator/runs: check DURABLE_AGENTS_ADMIN_KEY');
    expect(wrongKey.stderr).not.toContain(host.host.keys.functionKey);

    const noKey = await cli(['runs', 'list'], { DURABLE_AGENTS_ADMIN_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('No admin key: check DURABLE_AGENTS_ADMIN_KEY');

    const unknown = await cli(['start', 'no-such-flow', '--input', inputFile]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404 Unknown workflow: No workflow named "no-such-flow"/);

    const badFilter = await cli(['runs', 'list', '--status', 'Sleeping']);
    expect(badFilter.code).toBe(1);
    expect(badFilter.stderr).toMatch(/400 Invalid request: .*\n {2}- status: unknown status "Sleeping"/);

    const usage = await cli(['runs', 'show']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Missing the run id. Usage: durable-agents runs show <id>');

    const badOption = await cli(['approve', 'x', '--colour', 'red']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/Unknown option '--colour'/);

    const help = await cli(['purge', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: durable-agents purge [--before <ISO>] [--status <s,…>]');

    const unreachable = await cli(['runs', 'list'], { DURABLE_AGENTS_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:9\/api .*is the app running\?/);
  });
});
