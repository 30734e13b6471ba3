import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  copyDashboardAssets,
  dashboardBasePath,
} from '../../src/functions/dashboard/serveDashboard.js';
import type { RunView } from '../../src/functions/runView.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { chromiumMissing, launchChromium } from './chromium.js';

/** The real app (dist/src, built by `npm test`) on devhost with the offline model, driven through the dashboard. */
const appDir = path.resolve(__dirname, '../..');
const artifacts = path.join(appDir, 'test-artifacts');

let host: TestHost;

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
});

async function startRun(body: unknown): Promise<{ id: string; runUrl: string }> {
  const response = await fetch(`${host.host.url}/api/workflows/research-report`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as { id: string; runUrl: string };
}

async function waitForRun(runUrl: string, until: (run: RunView) => boolean): Promise<RunView> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(runUrl, { headers: { 'x-functions-key': host.host.keys.functionKey } });
    const run = (await response.json()) as RunView;
    if (until(run)) return run;
    if (Date.now() > deadline) throw new Error(`run never got there: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The page polls and re-renders on its own schedule; a loaded CI machine gets time. */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

/** Form controls without an accessible name; a string, so the test compiles without the DOM library. */
const UNLABELLED_CONTROLS = `[...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.textContent.trim())
  .map((el) => el.outerHTML)`;

const dashboardUrl = (rest = '') => `${host.host.url}/api/dashboard${rest}`;

describe('GET /api/dashboard', () => {
  it('serves the page shell without a key, with its folder as <base> and a strict policy', async () => {
    for (const url of [dashboardUrl(), dashboardUrl('/'), dashboardUrl('/index.html')]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(await response.text()).toContain('<base href="/api/dashboard/" />');
    }
  });

  it('serves the assets with their types, and 304 for a copy the browser already has', async () => {
    const expected: Record<string, string> = {
      'app.mjs': 'text/javascript; charset=utf-8',
      'dashboard.css': 'text/css; charset=utf-8',
      'favicon.svg': 'image/svg+xml',
    };
    for (const [name, type] of Object.entries(expected)) {
      const response = await fetch(dashboardUrl(`/${name}`));
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type'), name).toBe(type);
    }
    const first = await fetch(dashboardUrl('/app.mjs'));
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await fetch(dashboardUrl('/app.mjs'), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('answers 404 for anything that is not one of its files', async () => {
    for (const name of ['nope.mjs', 'README.md', '..%2Fpackage.json', 'x/../../host.json', '.hidden.css']) {
      const response = await fetch(dashboardUrl(`/${name}`));
      expect(response.status, name).toBe(404);
    }
    const missing = await fetch(dashboardUrl('/nope.mjs'));
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(((await missing.json()) as { detail: string }).detail).toBe(
      'The dashboard has no file "nope.mjs".',
    );
    expect((await fetch(dashboardUrl(), { method: 'POST' })).status).toBe(405);
  });

  it('references nothing outside the app: no CDN, no remote fonts or scripts', () => {
    const remote =
      /(?:src|href)\s*=\s*["']?(?:https?:)?\/\/|url\(\s*["']?(?:https?:)?\/\/|from\s+["'](?:https?:)?\/\/|fetch\(\s*["'`]https?:/;
    const directory = path.join(appDir, 'src/dashboard');
    for (const name of readdirSync(directory)) {
      expect(remote.test(readFileSync(path.join(directory, name), 'utf8')), name).toBe(false);
    }
  });

  it('computes the page folder under any route prefix', () => {
    expect(dashboardBasePath('http://h/api/dashboard')).toBe('/api/dashboard/');
    expect(dashboardBasePath('http://h/api/Dashboard/index.html')).toBe('/api/Dashboard/');
    expect(dashboardBasePath('http://h/dashboard/?code=x')).toBe('/dashboard/');
    expect(dashboardBasePath('http://h/v1/dashboard/')).toBe('/v1/dashboard/');
  });

  it('copies only the served files at build time', () => {
    const from = mkdtempSync(path.join(tmpdir(), 'dashboard-src-'));
    const to = path.join(mkdtempSync(path.join(tmpdir(), 'dashboard-out-')), 'dashboard');
    try {
      for (const name of ['index.html', 'a.mjs', 'b.css', 'c.svg', 'README.md', 'notes.ts'])
        writeFileSync(path.join(from, name), name);
      mkdirSync(to, { recursive: true });
      writeFileSync(path.join(to, 'stale.mjs'), 'old');
      expect(copyDashboardAssets(from, to).sort()).toEqual(['a.mjs', 'b.css', 'c.svg', 'index.html']);
      expect(readdirSync(to).sort()).toEqual(['a.mjs', 'b.css', 'c.svg', 'index.html']);
    } finally {
      rmSync(from, { recursive: true, force: true });
      rmSync(path.dirname(to), { recursive: true, force: true });
    }
  });
});

if (chromiumMissing) console.warn(`Skipping the dashboard browser tests: ${chromiumMissing}`);

describe.skipIf(chromiumMissing !== undefined)('the dashboard in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const offLoopback: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('request', (request) => {
      if (new URL(request.url()).hostname !== '127.0.0.1') offLoopback.push(request.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('asks for the admin key and says so when the key is wrong', async () => {
    await page.goto(`${host.host.url}/api/dashboard`);
    await page.getByLabel('Admin key').fill('not-the-key');
    await page.getByLabel('Your name').fill('Ana Operator');
    await page.getByRole('button', { name: 'Open the console' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain(
      'The key was rejected (HTTP 401)',
    );
    // The page moved to its folder URL, so its relative links work under any route prefix.
    expect(new URL(page.url()).pathname).toBe('/api/dashboard/');
    pageErrors.length = 0; // the browser logs the refused request itself
  });

  it('opens a run waiting for approval, approves it with a comment and watches it complete', async () => {
    const { id, runUrl } = await startRun({
      topic: 'Dashboard approvals',
      questions: 1,
      requireApproval: true,
    });
    await waitForRun(runUrl, (run) => run.progress?.waitingFor !== undefined);

    // The key in ?code= is taken into session storage and dropped from the address bar.
    await page.goto(`${host.host.url}/api/dashboard/?code=${host.host.keys.masterKey}`);
    expect(page.url()).not.toContain('code=');
    await page.getByRole('link', { name: id }).waitFor();

    // Filters go into the page URL and the operator API query.
    await page.getByRole('checkbox', { name: 'Running' }).check();
    await page.getByLabel('Run id starts with').fill(id.slice(0, 12));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(() => page.url()).toContain(`#/runs?status=Running&idPrefix=${id.slice(0, 12)}`);
    await eventually(() => page.getByRole('table').locator('tbody tr').count()).toBe(1);
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: id }) });
    await eventually(() => row.textContent()).toContain('awaiting approval');
    await eventually(() => row.textContent()).toContain('research-report');

    await page.getByRole('link', { name: id }).click();
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    await eventually(() => page.getByRole('heading', { level: 1 }).textContent()).toContain(id);
    await page.evaluate(() => ((globalThis as { sameDocument?: boolean }).sameDocument = true));
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve this run?' });
    await dialog.getByLabel('Comment').fill('Reads well; ship it.');
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();

    // The detail page keeps polling: no reload between the approval and the finished run.
    await page.locator('.summary').getByText('Completed', { exact: true }).waitFor({ timeout: 30_000 });
    await eventually(() => page.locator('#announcer').textContent()).toContain('Run Completed');
    expect(await page.getByRole('heading', { name: 'Waiting for approval' }).count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);

    const timeline = page
      .getByRole('table')
      .filter({ has: page.getByText('Step timeline: one row per step') });
    const stepRows = timeline.locator('tbody tr');
    expect(await stepRows.count()).toBe(4);
    expect(await stepRows.locator('td:first-child').allTextContents()).toEqual([
      'plan',
      'research',
      'report',
      'review',
    ]);
    expect(await stepRows.locator('td:nth-child(3)').allTextContents()).toEqual(Array(4).fill('completed'));

    const ledger = page.getByRole('table').filter({ has: page.getByText('Cost ledger: per step') });
    expect(await ledger.locator('tbody tr td:first-child').allTextContents()).toEqual([
      'plan',
      'research',
      'report',
    ]);
    const total = await ledger.locator('tfoot tr').textContent();
    expect(total).toMatch(/^Total.*\d+\.\d %.*\$\d/);
    expect(await ledger.locator('thead').textContent()).toContain('Cache hit');
    expect(await stepRows.locator('td:nth-child(10)').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\d+\.\d %$/)]),
    );

    const approvals = page.getByRole('region', { name: 'Approvals' });
    await eventually(() => approvals.textContent()).toContain('approved');
    expect(await approvals.textContent()).toMatch(/"review" by Ana Operator on .*Reads well; ship it\./);
    const audit = page.getByRole('region', { name: 'Operator actions' });
    expect(await audit.textContent()).toMatch(/approve by Ana Operator on /);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });

    const finished = await waitForRun(runUrl, (run) => run.status === 'Completed');
    expect(finished.outcome).toBe('completed');
    expect(pageErrors).toEqual([]);
    expect(offLoopback).toEqual([]);
  });

  it('terminates only after confirmation, records the reason, restarts, and shows raw history', async () => {
    const { id, runUrl } = await startRun({
      topic: 'Dashboard actions',
      questions: 1,
      requireApproval: true,
    });
    await waitForRun(runUrl, (run) => run.progress?.waitingFor !== undefined);
    await page.goto(`${host.host.url}/api/dashboard/#/runs/${id}`);
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();

    // Escape and Cancel both leave the run alone.
    await page.getByRole('button', { name: 'Terminate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Terminate this run?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Terminate…' }).click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await waitForRun(runUrl, () => true)).status).toBe('Running');

    await page.getByRole('button', { name: 'Terminate…' }).click();
    await dialog.getByLabel('Reason').fill('Wrong topic');
    await dialog.getByRole('button', { name: 'Terminate', exact: true }).click();
    await page.locator('.summary').getByText('Terminated', { exact: true }).waitFor({ timeout: 30_000 });
    const audit = page.getByRole('region', { name: 'Operator actions' });
    await eventually(() => audit.textContent()).toMatch(/terminate by Ana Operator on .*Wrong topic/);

    await page.getByRole('button', { name: 'Restart…' }).click();
    await page
      .getByRole('dialog', { name: 'Restart with the same input?' })
      .getByRole('button', { name: 'Start new run' })
      .click();
    const newRun = page.getByRole('link', { name: /^Open run / });
    await newRun.waitFor();
    const newId = ((await newRun.textContent()) ?? '').replace('Open run ', '');
    expect(newId).not.toBe(id);
    await newRun.click();
    await eventually(() => page.getByRole('heading', { level: 1 }).textContent()).toContain(newId);
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor({ timeout: 30_000 });
    await eventually(() => audit.textContent()).toContain(`restarted from ${id}`);

    await page.getByRole('button', { name: 'Load raw history' }).click();
    const history = page.getByRole('region', { name: 'Raw history' });
    await eventually(() => history.textContent()).toMatch(/\d+ events, as the Durable runtime recorded them/);
    expect(await history.locator('pre').textContent()).toContain('ExecutionStarted');

    expect(await page.evaluate<string[]>(UNLABELLED_CONTROLS)).toEqual([]);

    // Paging with continuation tokens, forwards and back (three runs by now).
    await page.goto(`${host.host.url}/api/dashboard/#/runs?workflow=research-report&pageSize=1`);
    const rows = page.getByRole('table').locator('tbody tr');
    const firstId = await rows.getByRole('link').textContent();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await eventually(() => rows.getByRole('link').textContent()).not.toBe(firstId);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1', { exact: true }).waitFor();
    await eventually(() => rows.getByRole('link').textContent()).toBe(firstId);
    expect(await page.evaluate<string[]>(UNLABELLED_CONTROLS)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
