import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromApiHistory } from '../../src/replay/apiHistory.js';
import { parseRunExport, type ApiHistoryEvent } from '../../src/replay/exportFile.js';
import { runCli } from '../support/cli.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * `durable-agents runs export` and `durable-agents replay`: the compiled CLI (dist/, built by `npm test`)
 * as a child process, exporting from the app on an in-process devhost through the operator API.
 */
const appDir = path.resolve(__dirname, '../..');
const fixtures = path.join(appDir, 'test/fixtures/replay');

let host: TestHost | undefined;
let dir: string;

function cli(args: string[]) {
  return runCli(args, { host });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'replay-cli-'));
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
});

async function runToEnd(workflow: string, input: object): Promise<string> {
  const started = await cli(['start', workflow, '--input', writeInput(input), '--json']);
  expect(started.code, started.stderr).toBe(0);
  const id = (JSON.parse(started.stdout) as { id: string }).id;
  const api = (method: string, route: string) =>
    fetch(`${host?.host.url ?? ''}/api/${route}`, {
      method,
      headers: { 'x-functions-key': host?.host.keys.masterKey ?? '', 'x-operator-id': 'replay-test' },
    });
  let approved = false;
  for (;;) {
    const run = (await (await api('GET', `runs/${id}`)).json()) as {
      status: string;
      progress?: { waitingFor?: unknown } | null;
    };
    if (run.status === 'Completed') return id;
    if (!approved && run.progress?.waitingFor) {
      expect((await api('POST', `operator/runs/${id}/approve`)).status).toBeLessThan(300);
      approved = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let inputs = 0;
function writeInput(input: object): string {
  const file = path.join(dir, `input-${inputs++}.json`);
  writeFileSync(file, JSON.stringify(input));
  return file;
}

describe('durable-agents replay', () => {
  it('replays the fixture folder and exits 0', async () => {
    const result = await cli(['replay', fixtures]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const fixtureCount = readdirSync(fixtures).filter((name) => name.endsWith('.json')).length;
    expect(result.stdout.match(/^OK {8}/gm)).toHaveLength(fixtureCount);
  });

  it('exits 1 and names step and event when a history no longer matches', async () => {
    const exported = parseRunExport(readFileSync(path.join(fixtures, 'data-analysis.json'), 'utf8'), 'x');
    const root = exported.instances[0];
    if (!root) throw new Error('fixture without instances');
    const input = JSON.parse(root.input ?? 'null') as { definition: { steps: { id: string }[] } };
    const plan = input.definition.steps[0];
    input.definition.steps.splice(1, 0, { ...plan, id: 'inserted' });
    const file = path.join(dir, 'changed.json');
    writeFileSync(
      file,
      JSON.stringify({ ...exported, instances: [{ ...root, input: JSON.stringify(input) }] }),
    );
    const result = await cli(['replay', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('DIVERGED');
    expect(result.stdout).toContain('step "inserted"');
    expect(result.stdout).toContain('expected TaskScheduled #1 "saveArtifact", got activity #1 "callModel"');
  });

  it('exits 2 on a file that is not a run export', async () => {
    const file = path.join(dir, 'not-an-export.json');
    writeFileSync(file, '{"hello":1}');
    const result = await cli(['replay', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('is not a run export');
  });
});

describe('durable-agents runs export', () => {
  it('exports a run with its definition through the operator API; the API history cannot be replayed', async () => {
    const id = await runToEnd(
      'ticket-triage',
      JSON.parse(readFileSync(path.join(appDir, 'scripts/samples/ticket-triage.json'), 'utf8')) as object,
    );
    const out = path.join(dir, 'triage.json');
    const exported = await cli(['runs', 'export', id, '--out', out]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const file = parseRunExport(readFileSync(out, 'utf8'), out);
    expect(file).toMatchObject({ source: 'durable-http-api', run: { instanceId: id, name: 'runWorkflow' } });
    expect(file.workflow?.file).toBe('ticket-triage.yaml');
    expect(file.workflow?.source).toBe(
      readFileSync(path.join(appDir, 'workflows/ticket-triage.yaml'), 'utf8'),
    );
    // devhost trims the history as the extension does (no EventId, TaskScheduledId), so, as on Azure,
    // replay refuses it and names what is missing instead of guessing which completion was which task.
    expect(exported.stdout).toContain('1 instance(s) cannot be replayed');
    const replayed = await cli(['replay', out]);
    expect(replayed.stdout).toMatch(/^SKIPPED /m);
    expect(replayed.stdout).toContain('no TaskScheduledId');
    expect(replayed.code).toBe(2);
  });

  it(
    'exports a run with its agent runs, found by id although the API history drops finished children',
    { timeout: 120_000 },
    async () => {
      const id = await runToEnd('research-report', { topic: 'Replay', questions: 2, requireApproval: true });
      const out = path.join(dir, 'report.json');
      const exported = await cli(['runs', 'export', id, '--out', out]);
      expect(exported.code).toBe(0);
      const file = parseRunExport(readFileSync(out, 'utf8'), out);
      // No SubOrchestrationInstanceCreated is left in the finished run's API history...
      const root = file.instances[0];
      expect(
        root?.history.events.some((event) => event.EventType === 'SubOrchestrationInstanceCreated'),
      ).toBe(false);
      // ...yet its agent runs are exported, each under the run.
      expect(file.instances.map((instance) => [instance.instanceId, instance.name])).toContainEqual([
        `${id}:research:0`,
        'agentLoop',
      ]);
      expect(file.instances.map((instance) => instance.parentInstanceId)).toEqual([
        null,
        ...file.instances.slice(1).map(() => id),
      ]);
      expect(exported.stdout).toContain(`${file.instances.length} instance(s) cannot be replayed`);
      const replayed = await cli(['replay', out]);
      expect(replayed.code).toBe(2);
      expect(replayed.stdout).toContain(`not replayable: ${id}:`);
      expect(replayed.stdout).toContain('EventRaised (event');
      expect(replayed.stdout).toContain("no Input (the event's payload)");
    },
  );
});

describe('histories from the Durable HTTP API', () => {
  it('refuses a history trimmed as the extension trims it, naming each missing field', () => {
    // The shape DurableClient.cs GetDurableOrchestrationStatusAsync produces: no EventId, no
    // TaskScheduledId, no TimerId, raised events without Input, TaskScheduled merged into completions.
    const trimmed: ApiHistoryEvent[] = [
      { EventType: 'ExecutionStarted', Timestamp: '2026-12-01T00:00:00Z', FunctionName: 'runWorkflow' },
      {
        EventType: 'TaskCompleted',
        Timestamp: '2026-12-01T00:00:01Z',
        FunctionName: 'callModel',
        ScheduledTime: '2026-12-01T00:00:00Z',
        Result: { ok: true },
      },
      { EventType: 'TimerCreated', Timestamp: '2026-12-01T00:00:01Z', FireAt: '2026-12-02T00:00:01Z' },
      { EventType: 'EventRaised', Timestamp: '2026-12-01T00:00:02Z', Name: 'approval' },
      {
        EventType: 'ExecutionCompleted',
        Timestamp: '2026-12-01T00:00:02Z',
        OrchestrationStatus: 'Completed',
        Result: null,
      },
    ];
    expect(fromApiHistory(trimmed)).toEqual({
      ok: false,
      missing: [
        'TaskCompleted (event 1): no TaskScheduledId',
        'TimerCreated (event 2): no EventId',
        "EventRaised (event 3): no Input (the event's payload)",
      ],
    });
  });

  it('rebuilds the episodes of a history that kept its numbers', () => {
    const kept: ApiHistoryEvent[] = [
      {
        EventType: 'ExecutionStarted',
        Timestamp: '2026-12-01T00:00:00.000Z',
        EventId: -1,
        FunctionName: 'f',
      },
      { EventType: 'TaskScheduled', Timestamp: '2026-12-01T00:00:00.010Z', EventId: 0, Name: 'a' },
      {
        EventType: 'TaskCompleted',
        Timestamp: '2026-12-01T00:00:01.000Z',
        EventId: -1,
        TaskScheduledId: 0,
        Result: 'x',
      },
      {
        EventType: 'ExecutionCompleted',
        Timestamp: '2026-12-01T00:00:01.020Z',
        EventId: -1,
        OrchestrationStatus: 'Completed',
        Result: 'x',
      },
    ];
    const converted = fromApiHistory(kept);
    if (!converted.ok) throw new Error(converted.missing.join('; '));
    expect(converted.events.map((event) => [event.EventType, event.Timestamp])).toEqual([
      [12, '2026-12-01T00:00:00.010Z'],
      [0, '2026-12-01T00:00:00.000Z'],
      [4, '2026-12-01T00:00:00.010Z'],
      [13, '2026-12-01T00:00:00.010Z'],
      [12, '2026-12-01T00:00:01.020Z'],
      [5, '2026-12-01T00:00:01.000Z'],
      [1, '2026-12-01T00:00:01.020Z'],
      [13, '2026-12-01T00:00:01.020Z'],
    ]);
    expect(converted.events[5]).toMatchObject({ TaskScheduledId: 0, Result: '"x"' });
  });
});
