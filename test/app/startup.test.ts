import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/models.js';
import {
  appRoot,
  describeStartup,
  knownRoles,
  loadWorkflowCatalog,
  WorkflowLoadError,
  workflowsDirectory,
} from '../../src/startup.js';

const TOOLS = ['run_code', 'web_search', 'fetch_url'];
const ROLES = ['planner', 'worker', 'writer'];
const dirs: string[] = [];

function workflowsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'workflows-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const good = `name: good
version: 1
description: Fine.
input: { type: object }
steps:
  - id: only
    kind: llm
    role: worker
    prompt: Hello
output: only
`;

describe('loading workflows at startup', () => {
  it('loads the shipped definitions with the app’s tools and roles', () => {
    const catalog = loadWorkflowCatalog({
      directory: workflowsDirectory(undefined),
      knownTools: TOOLS,
      knownRoles: ROLES,
    });
    expect(catalog.names()).toEqual(['data-analysis', 'document-intake', 'research-report', 'ticket-triage']);
  });

  it('refuses to start with one error listing every problem in every file as file:line path: reason', () => {
    const dir = workflowsDir({
      'good.yaml': good,
      'bad-tool.yaml': good
        .replace('name: good', 'name: bad-tool')
        .replace('kind: llm', 'kind: agent\n    tools: [teleport]'),
      'bad-role.yaml': good.replace('name: good', 'name: bad-role').replace('role: worker', 'role: oracle'),
      'not-yaml.yaml': 'name: [unclosed\n',
    });
    let error: unknown;
    try {
      loadWorkflowCatalog({ directory: dir, knownTools: TOOLS, knownRoles: ROLES });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WorkflowLoadError);
    const { message, errors } = error as WorkflowLoadError;
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(message).toContain(`Workflow definitions in ${dir} have ${errors.length} errors`);
    const lines = message.split('\n').slice(1);
    expect(lines).toHaveLength(errors.length);
    expect(lines.find((l) => l.includes('bad-tool.yaml'))).toMatch(
      /bad-tool\.yaml:\d+:\d+ steps\[0\]\.tools.*teleport/,
    );
    expect(lines.find((l) => l.includes('bad-role.yaml'))).toMatch(
      /bad-role\.yaml:\d+:\d+ steps\[0\]\.role.*oracle/,
    );
    expect(lines.some((l) => /not-yaml\.yaml:\d+:\d+ YAML syntax/.test(l))).toBe(true);
    expect(message).not.toContain('good.yaml');
  });

  it('says so when the folder is missing or empty', () => {
    expect(() =>
      loadWorkflowCatalog({
        directory: path.join(tmpdir(), 'no-such-dir-xyz'),
        knownTools: [],
        knownRoles: [],
      }),
    ).toThrow(/No workflows folder at .*WORKFLOWS_DIR/);
    const empty = workflowsDir({ 'notes.txt': 'hi' });
    expect(() => loadWorkflowCatalog({ directory: empty, knownTools: [], knownRoles: [] })).toThrow(
      /No workflow definitions/,
    );
  });

  it('resolves WORKFLOWS_DIR against the app folder', () => {
    const root = appRoot();
    expect(path.join(root, 'host.json')).toSatisfy((p: string) =>
      p.startsWith(path.resolve(__dirname, '../..')),
    );
    expect(workflowsDirectory('custom', '/app')).toBe(path.resolve('/app/custom'));
    expect(workflowsDirectory('/abs/flows', '/app')).toBe('/abs/flows');
    expect(workflowsDirectory(undefined, '/app')).toBe(path.join('/app', 'workflows'));
  });

  it('accepts roles whose provider is missing (they fail when called) and custom roles', () => {
    const models = parseModelConfig({
      FOUNDRY_RESOURCE: 'myres',
      FOUNDRY_API_KEY: 'k',
      MODEL_ROLE_TRIAGE: 'foundry:claude-haiku-4-5',
    });
    expect(knownRoles(models)).toEqual(['planner', 'triage', 'worker', 'writer']);
  });

  it('announces offline mode loudly, and never prints secrets', () => {
    const dir = workflowsDir({ 'good.yaml': good });
    const workflows = loadWorkflowCatalog({ directory: dir, knownTools: [], knownRoles: ROLES });
    const offline = describeStartup({
      directory: dir,
      workflows,
      tools: TOOLS,
      models: parseModelConfig({}),
    });
    expect(offline.info).toContain('Workflows');
    expect(offline.info).toContain('good 1');
    expect(offline.info).toContain('run_code, web_search, fetch_url');
    expect(offline.warning).toContain('MODELS ARE OFFLINE');
    expect(offline.warning).toContain('offline');

    const online = describeStartup({
      directory: dir,
      workflows,
      tools: TOOLS,
      models: parseModelConfig({ ANTHROPIC_API_KEY: 'sk-ant-very-secret-key' }),
    });
    expect(online.warning).toBeUndefined();
    expect(online.info).toContain('planner: anthropic:');
    expect(JSON.stringify(online)).not.toContain('very-secret');
  });

  it('warns about every role and deployment without a price, and what to set', () => {
    const dir = workflowsDir({ 'good.yaml': good });
    const workflows = loadWorkflowCatalog({ directory: dir, knownTools: [], knownRoles: ROLES });
    const summary = (env: Record<string, string>) =>
      describeStartup({ directory: dir, workflows, tools: TOOLS, models: parseModelConfig(env) });
    const unpriced = summary({
      ANTHROPIC_API_KEY: 'k',
      MODEL_ROLE_WORKER: 'anthropic:my-haiku',
      MODEL_ROLE_TRIAGE: 'anthropic:claude-haiku-5-5',
      MODEL_ROLE_TRIAGE_FALLBACK: 'anthropic:my-fallback',
    });
    expect(unpriced.warning).toContain(
      'No price for these 2 deployments: role "triage" → anthropic:my-fallback, role "worker" → anthropic:my-haiku.',
    );
    expect(unpriced.warning).toContain('MODEL_PRICES_JSON');
    // Priced through MODEL_PRICES_JSON: no warning. Offline mode keeps its banner and adds the same line.
    expect(
      summary({
        ANTHROPIC_API_KEY: 'k',
        MODEL_ROLE_WORKER: 'anthropic:my-haiku',
        MODEL_PRICES_JSON: '{"my-haiku":{"input":1,"output":5}}',
      }).warning,
    ).toBeUndefined();
    const offline = summary({ MODEL_ROLE_WORKER: 'anthropic:my-haiku' });
    expect(offline.warning).toContain('MODELS ARE OFFLINE');
    expect(offline.warning).toContain('No price for this deployment: role "worker" → anthropic:my-haiku.');
  });
});

describe('npm start with broken workflows', () => {
  it('exits non-zero and prints every workflow error at once', () => {
    const dir = workflowsDir({
      'a.yaml': good.replace('name: good', 'name: a').replace('role: worker', 'role: oracle'),
      'b.yaml': good
        .replace('name: good', 'name: b')
        .replace('kind: llm', 'kind: agent\n    tools: [teleport]'),
    });
    const root = path.resolve(__dirname, '../..');
    const result = spawnSync(
      process.execPath,
      [
        path.join(root, 'dist/devhost/cli.js'),
        'start',
        '--app',
        root,
        '--port',
        '0',
        '--no-azurite',
        '--state',
        path.join(dir, 'state'),
      ],
      {
        env: { ...process.env, WORKFLOWS_DIR: dir, DEVHOST_LOG_LEVEL: 'error' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('have 2 errors; the app will not start until they are fixed');
    expect(result.stderr).toMatch(/a\.yaml:\d+:\d+ steps\[0\]\.role: .*oracle/);
    expect(result.stderr).toMatch(/b\.yaml:\d+:\d+ steps\[0\]\.tools.*teleport/);
  });
});
