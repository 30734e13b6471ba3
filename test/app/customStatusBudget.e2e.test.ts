import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunProgress } from '../../src/shared/runTypes.js';
import type { RunDetail } from '../../src/shared/operatorTypes.js';
import { eventually, operatorApi, startWorkflow } from '../operator/operatorClient.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * A long run on the local host, which fails an orchestration whose custom status passes 16 KB of UTF-16
 * as the Durable extension does (devhost/durable/episode.ts): 60 model steps, a map over 40 items and an
 * approval with a long message. The timeline alone is several times the limit; the app keeps the whole
 * status within it (src/orchestrators/customStatus.ts), so the run completes.
 */
const appDir = path.resolve(__dirname, '../..');
const STEPS = 60;
const ITEMS = 40;
const LIMIT = 8_192;

function longWorkflow(): string {
  const steps = Array.from(
    { length: STEPS },
    (_, i) => `  - id: step_${String(i).padStart(2, '0')}_summarise_the_findings_so_far
    kind: llm
    role: worker
    maxTokens: 50
    prompt: 'Note ${i} on {{ input.topic }}'
`,
  ).join('\n');
  return `name: long-run
version: 1.0.0
description: Many steps, a wide map and a long approval message (custom status budget test).
input:
  type: object
  required: [topic, items]
  properties:
    topic: { type: string }
    items: { type: array, items: { type: string } }
steps:
${steps}
  - id: fan
    kind: map
    over: input.items
    as: item
    concurrency: 8
    step:
      id: one
      kind: llm
      role: worker
      maxTokens: 50
      prompt: 'Item {{ item }}'
  - id: review
    kind: approval
    timeout: P1D
    onTimeout: continue
    message: '${'Please check every one of the notes before this run completes. '.repeat(80)}{{ input.topic }}'
output: fan
`;
}

let host: TestHost;
let workflowsDir: string;

beforeAll(async () => {
  workflowsDir = mkdtempSync(path.join(tmpdir(), 'long-run-workflows-'));
  writeFileSync(path.join(workflowsDir, 'long-run.yaml'), longWorkflow());
  process.env.OFFLINE_MODEL = 'on';
  process.env.WORKFLOWS_DIR = workflowsDir;
  // Real time: the approval's one-day timer must not fire while the test looks at the waiting run.
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  rmSync(workflowsDir, { recursive: true, force: true });
});

async function customStatus(id: string): Promise<{ runtimeStatus: string; text: string }> {
  const response = await fetch(`${host.host.url}/durabletask/instances/${id}?showInput=false`);
  const status = (await response.json()) as { runtimeStatus: string; customStatus: unknown };
  return { runtimeStatus: status.runtimeStatus, text: JSON.stringify(status.customStatus) };
}

describe('custom status budget on a long run', () => {
  it('stays within 16 KB of UTF-16 through 60 steps, a 40-item map and an approval, and completes', async () => {
    const api = operatorApi(host);
    const items = Array.from({ length: ITEMS }, (_, i) => `item ${i}`);
    const id = await startWorkflow(host, 'long-run', { topic: 'status budgets', items });

    const sizes: number[] = [];
    const waiting = await eventually(
      async () => {
        const { runtimeStatus, text } = await customStatus(id);
        if (runtimeStatus !== 'Running' && runtimeStatus !== 'Pending') {
          throw new Error(`the run stopped while walking its steps: ${runtimeStatus}`);
        }
        sizes.push(text.length);
        const progress = JSON.parse(text) as RunProgress | null;
        return progress?.waitingFor ? progress : undefined;
      },
      'the run to wait for approval',
      120_000,
    );
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LIMIT);
    expect(JSON.stringify(waiting).length).toBeLessThanOrEqual(LIMIT);
    // The newest records are kept, the waiting approval last; the oldest are counted, not shown.
    const shown = waiting.timeline ?? [];
    expect(shown.at(-1)).toMatchObject({ stepId: 'review', status: 'waiting' });
    expect(shown.at(-2)).toMatchObject({ stepId: 'fan', status: 'completed' });
    expect(waiting.timelineOmitted).toBe(STEPS + 2 - shown.length);
    expect(waiting.timelineOmitted).toBeGreaterThan(0);
    expect(waiting.waitingFor?.message?.length).toBeLessThanOrEqual(500);

    const approve = await api.call(`runs/${id}/approve`, { body: { comment: 'ok' } });
    expect(approve.status, await approve.clone().text()).toBe(202);
    const run = await eventually(async () => {
      const detail = await api.json<RunDetail>(`runs/${id}`);
      return detail.status === 'Running' ? undefined : detail;
    }, 'the run to finish');
    expect(run.status).toBe('Completed');
    // The finished run's output keeps every step record.
    expect(run.timeline).toHaveLength(STEPS + 2);
    const final = await customStatus(id);
    expect(final.text.length).toBeLessThanOrEqual(LIMIT);
  });
});
