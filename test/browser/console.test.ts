import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { eventually as until, operatorApi, startWorkflow } from '../operator/operatorClient.js';
import type { RunDetail } from '../../src/shared/operatorTypes.js';
import { chromiumMissing, launchChromium } from './chromium.js';

/**
 * Console v2 in headless Chromium (issue 17.2): the list newest first with its outcome column, workflow
 * filter and live refresh; a research-report run's waterfall, the drill-down into its calls, and the tree
 * of its agent runs. Screenshots go to test-artifacts/ (gitignored; CI keeps them).
 */
const appDir = path.resolve(__dirname, '../..');
const artifacts = path.join(appDir, 'test-artifacts');
const TOPIC = { topic: 'Console waterfall', questions: 2, requireApproval: true };

let host: TestHost;
let api: ReturnType<typeof operatorApi>;

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
  api = operatorApi(host);
});

afterAll(async () => {
  await host?.stop();
});

const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000 });
const detail = (id: string) => api.json<RunDetail>(`runs/${encodeURIComponent(id)}`);
const waitFor = (id: string, done: (run: RunDetail) => boolean) =>
  until(async () => {
    const run = await detail(id);
    return done(run) ? run : undefined;
  }, `run ${id}`);

describe.skipIf(chromiumMissing !== undefined)('console v2 in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let approved: string;
  let rejected: string;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    approved = await startWorkflow(host, 'research-report', TOPIC);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // a later creation second
    rejected = await startWorkflow(host, 'research-report', TOPIC);
    await Promise.all([waitFor(approved, (r) => !!r.waitingFor), waitFor(rejected, (r) => !!r.waitingFor)]);
    for (const [id, action] of [
      [approved, 'approve'],
      [rejected, 'reject'],
    ] as const) {
      const response = await api.call(`runs/${encodeURIComponent(id)}/${action}`, { body: {} });
      expect(response.status).toBe(202);
    }
    await Promise.all([approved, rejected].map((id) => waitFor(id, (r) => r.status !== 'Running')));

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('lists runs newest first with outcomes, filters by known workflow, and refreshes on its own', async () => {
    await page.goto(`${host.host.url}/api/dashboard/?code=${host.host.keys.masterKey}`);
    const rows = page.getByRole('table').locator('tbody tr');
    await page.getByRole('link', { name: rejected }).waitFor();
    const ids = await rows.locator('td:first-child').allTextContents();
    expect(ids.indexOf(rejected)).toBeLessThan(ids.indexOf(approved));
    // The outcome column: the rejected run reads "rejected" in a red pill, never a green one.
    const rejectedRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: rejected }) });
    const outcome = rejectedRow.locator('td:nth-child(5) .badge');
    expect(await outcome.textContent()).toBe('rejected');
    expect(await outcome.getAttribute('class')).toBe('badge bad');
    const approvedRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: approved }) });
    expect(await approvedRow.locator('td:nth-child(5)').textContent()).toBe('completed');
    expect(await approvedRow.locator('td:nth-child(6)').textContent()).toBe('4 of 4 steps');

    // The workflow filter offers the workflows the app knows.
    const workflow = page.getByLabel('Workflow');
    await eventually(() => workflow.locator('option').allTextContents()).toEqual([
      'All workflows',
      'data-analysis',
      'document-intake',
      'research-report',
      'ticket-triage',
    ]);

    // A run started now shows up without a reload, at the top.
    const fresh = await startWorkflow(host, 'ticket-triage', {
      subject: 'Live',
      body: 'New while watching.',
    });
    await eventually(() => rows.first().locator('td:first-child').textContent()).toBe(fresh);
    await eventually(() => rows.first().locator('td:nth-child(5)').textContent()).toBe('completed');
    await page.screenshot({ path: path.join(artifacts, 'console-list.png'), fullPage: true });

    await workflow.selectOption('ticket-triage');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(() => page.url()).toContain('workflow=ticket-triage');
    await eventually(() => rows.locator('td:nth-child(2)').allTextContents()).toEqual(['ticket-triage']);
  });

  it('shows the waterfall of a research-report run and drills into a model call and a tool call', async () => {
    await page.goto(`${host.host.url}/api/dashboard/#/runs/${encodeURIComponent(approved)}`);
    const waterfall = page.getByRole('list', { name: 'Waterfall' });
    await waterfall.locator('li').first().waitFor();
    const labels = await waterfall.locator('.wf-label').allTextContents();
    for (const step of ['plan', 'research', 'report', 'review']) expect(labels).toContain(`step ${step}`);
    expect(labels.filter((label) => label.startsWith('model call')).length).toBeGreaterThan(2);
    expect(labels.some((label) => label.startsWith('tool call'))).toBe(true);
    expect(labels).toContain('child run agentLoop research:0');
    expect(labels).toContain('approval review');
    // Model call rows carry model, tokens, cache hit and cost.
    const modelRow = waterfall.locator('li').filter({ hasText: 'model call' }).first();
    expect(await modelRow.locator('.wf-figures').textContent()).toMatch(
      /\d+ in \/ \d+ out · cache .* · (\$0\.\d{4}|<\$0\.0001|\$0\.00)/,
    );
    await page.screenshot({ path: path.join(artifacts, 'console-waterfall.png'), fullPage: true });

    // An agent's model call: its prompt and answer.
    const agentModel = waterfall.locator('li.wf-depth-1').filter({ hasText: 'model call' }).first();
    await agentModel.locator('.wf-label').click();
    const panel = page.locator('.span-detail');
    await panel.getByRole('heading', { name: 'Prompt' }).waitFor();
    await panel.getByRole('heading', { name: 'Response' }).waitFor();
    expect(await panel.locator('.message').first().textContent()).toContain('user');
    expect(await panel.textContent()).toContain('Cache hit');
    await page.screenshot({ path: path.join(artifacts, 'console-drilldown.png'), fullPage: true });

    // A tool call: its arguments and result.
    await waterfall.locator('li').filter({ hasText: 'tool call' }).first().locator('.wf-label').click();
    await panel.getByRole('heading', { name: 'Arguments' }).waitFor();
    await panel.getByRole('heading', { name: 'Result' }).waitFor();
    expect(await panel.locator('pre[data-part="result"]').textContent()).toContain('"toolUseId"');
    expect(pageErrors).toEqual([]);
  });

  it('shows the tree of agent runs with links to them', async () => {
    await page.goto(`${host.host.url}/api/dashboard/#/runs/${encodeURIComponent(approved)}`);
    const tree = page.getByRole('region', { name: 'Agent and child runs' });
    const child = `${approved}:research:0`;
    await tree.getByRole('link', { name: child }).waitFor();
    expect(await tree.getByRole('link').allTextContents()).toEqual(
      expect.arrayContaining([child, `${approved}:research:1`]),
    );
    expect(await tree.textContent()).toContain('agentLoop, step research');
    await tree.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifacts, 'console-child-tree.png'), fullPage: true });
    await tree.getByRole('link', { name: child }).click();
    await eventually(() => page.getByRole('heading', { level: 1 }).textContent()).toContain(child);
    // The agent run's own waterfall: its model and tool calls.
    const waterfall = page.getByRole('list', { name: 'Waterfall' });
    await eventually(() => waterfall.locator('.wf-label').allTextContents()).toContainEqual(
      expect.stringMatching(/^model call/),
    );
    expect(pageErrors).toEqual([]);
  });
});
