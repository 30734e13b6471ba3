/**
 * Cross-checks the app settings infra/resources.bicep sets against the settings the app reads.
 * Bicep cannot be compiled on this machine, so both sides are read as text:
 *
 * - Bicep: the lines between `// app-settings:begin` and `// app-settings:end` in
 *   infra/resources.bicep. A line starting with `NAME:` or `'NAME':` sets NAME (its value is kept when
 *   it is a plain 'string'); a `'PREFIX_${…}':` key sets a family of settings (MODEL_ROLE_<ROLE>).
 * - The app: every .ts file under src/ except src/cli/ (the operator's command line runs elsewhere):
 *   `process.env.X` / `env.X` / `env['X']` reads (any identifier ending in env or Env), zod env schema
 *   keys (`  X: …` lines with an UPPER_SNAKE key), quoted UPPER_SNAKE literals in the settings loader
 *   (every file under `src/config/`: names handed to readers such as keyOrEntra), and template-literal
 *   families (`` `MODEL_ROLE_${…}` ``). New settings other engineers add in these forms are picked up.
 *
 * Forward: each Bicep setting is read by the app, or is a host-level setting from HOST_SETTINGS (read
 * by the Functions host, the Durable extension or the Azure SDKs, not by src/), or an
 * `AzureFunctionsJobHost__` override of a host.json section that exists.
 * Backward: each setting the app reads that Azure needs (REQUIRED_ON_AZURE) is set by the Bicep, and
 * every other one is documented (named in backticks in README.md, docs/ or a src/ README), so leaving it
 * at its default is a documented choice.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function walk(dir: string, keep: (file: string) => boolean): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(path.join(root, file)).isDirectory()) return walk(file, keep);
    return keep(file) ? [file] : [];
  });
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const SETTING = /^[A-Z][A-Za-z0-9_]*$/;

interface Settings {
  readonly names: Map<string, string | undefined>;
  readonly families: Set<string>;
}

/** The app settings the Bicep sets, read as described above. */
export function bicepAppSettings(bicep: string): Settings {
  const begin = bicep.indexOf('// app-settings:begin');
  const end = bicep.indexOf('// app-settings:end');
  if (begin < 0 || end < begin) throw new Error('infra/resources.bicep lacks the app-settings markers');
  const names = new Map<string, string | undefined>();
  const families = new Set<string>();
  for (const line of bicep.slice(begin, end).split('\n')) {
    const family = /^\s*'([A-Z][A-Z0-9_]*_)\$\{[^}]*\}'\s*:/.exec(line);
    if (family) {
      families.add(family[1]!);
      continue;
    }
    const key = /^\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1\s*:\s*(.*)$/.exec(line);
    if (!key) continue;
    const literal = /^'([^'$]*)'\s*$/.exec(key[3]!);
    names.set(key[2]!, literal?.[1]);
  }
  return { names, families };
}

/** The settings src/ reads, found as described above, with the files that read each. */
export function appSettings(): { names: Map<string, string[]>; families: Set<string> } {
  const names = new Map<string, string[]>();
  const families = new Set<string>();
  const add = (name: string, file: string) => {
    if (!SETTING.test(name)) return;
    names.set(name, [...new Set([...(names.get(name) ?? []), file])]);
  };
  const files = walk('src', (f) => f.endsWith('.ts') && !f.startsWith(path.join('src', 'cli')));
  for (const file of files) {
    const text = read(file);
    for (const m of text.matchAll(/\b\w*[eE]nv(?:\.([A-Za-z_]\w*)|\[\s*['"]([A-Za-z_]\w*)['"]\s*\])/g)) {
      add(m[1] ?? m[2]!, file);
    }
    for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s*:/gm)) add(m[1]!, file);
    if (file.startsWith(path.join('src', 'config') + path.sep)) {
      for (const m of text.matchAll(/['"]([A-Z][A-Z0-9_]+)['"]/g)) {
        if (UPPER_SNAKE.test(m[1]!)) add(m[1]!, file);
      }
    }
    for (const m of text.matchAll(/`([A-Z][A-Z0-9_]*_)\$\{/g)) families.add(m[1]!);
  }
  return { names, families };
}

/**
 * Settings the host, the Durable extension or the Azure SDKs read (not src/), which the Bicep may set.
 * Sources: functions-app-settings and functions-reference#connecting-to-host-storage-with-an-identity
 * (learn.microsoft.com/azure/azure-functions), the Durable Task Scheduler samples
 * (Azure-Samples/Durable-Task-Scheduler), and @azure/identity's DefaultAzureCredential (AZURE_CLIENT_ID).
 */
const HOST_SETTINGS: Record<string, string> = {
  AzureWebJobsStorage__credential: 'host: identity-based AzureWebJobsStorage',
  AzureWebJobsStorage__clientId: 'host: which user-assigned identity reaches AzureWebJobsStorage',
  AzureWebJobsStorage__blobServiceUri: 'host: blob endpoint (the app reads it too)',
  AzureWebJobsStorage__queueServiceUri: 'host: queue endpoint (queue trigger, Azure Storage backend)',
  AzureWebJobsStorage__tableServiceUri: 'host: table endpoint (Azure Storage backend)',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'host: where telemetry goes',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'host: Entra auth for telemetry (local auth is off)',
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING:
    'Durable extension: the scheduler endpoint (connectionStringName)',
  AZURE_CLIENT_ID: '@azure/identity: the user-assigned identity DefaultAzureCredential uses',
};

/** Set by App Service itself on every app (read-only; functions-app-settings / App Service environment variables). */
const PLATFORM_SETTINGS = [
  'WEBSITE_HOSTNAME',
  'WEBSITE_INSTANCE_ID',
  'WEBSITE_SITE_NAME',
  'WEBSITE_SLOT_NAME',
];

/** Settings a deployed app needs; each must be set by the Bicep. */
const REQUIRED_ON_AZURE = [
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'OFFLINE_MODEL',
  'FOUNDRY_RESOURCE',
  'AZURE_OPENAI_ENDPOINT',
];

/** Settings Flex Consumption rejects or replaced with functionAppConfig (functions-app-settings#flex-consumption-plan-deprecations). */
const FLEX_REMOVED = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'AzureWebJobsStorage', // a connection string needs shared keys, which the storage account turns off
];

const bicep = bicepAppSettings(read('infra/resources.bicep'));
const app = appSettings();
const documentation = [
  read('README.md'),
  ...walk('docs', (f) => f.endsWith('.md')).map(read),
  ...walk('src', (f) => f.endsWith('README.md')).map(read),
].join('\n');

const readByApp = (name: string) =>
  app.names.has(name) || [...app.families].some((prefix) => name.startsWith(prefix));
const setByBicep = (name: string) =>
  bicep.names.has(name) || [...bicep.families].some((prefix) => name.startsWith(prefix));

describe('the extraction', () => {
  it('finds the settings on both sides (a broken marker or scan fails here, not silently)', () => {
    expect(bicep.names.size).toBeGreaterThanOrEqual(15);
    expect(bicep.names.get('AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect([...bicep.families]).toEqual(['MODEL_ROLE_']);
    // One of each reading style: zod schema key, EnvReader call, env.X property, template family.
    for (const name of ['ARTIFACTS_CONTAINER', 'FOUNDRY_RESOURCE', 'AzureWebJobsStorage__blobServiceUri']) {
      expect(app.names.has(name), name).toBe(true);
    }
    expect(app.families.has('MODEL_ROLE_')).toBe(true);
  });

  it('reads the block format the comment documents', () => {
    const parsed = bicepAppSettings(
      [
        'var x = {',
        '// app-settings:begin',
        "var a = { ONE: 'v'",
        "  'TWO': other.value",
        "  'FAM_${toUpper(k)}': v",
        '  // COMMENTED: no',
        '}',
        '// app-settings:end',
        "  AFTER: 'x'",
      ].join('\n'),
    );
    expect([...parsed.names]).toEqual([['TWO', undefined]]);
    expect([...parsed.families]).toEqual(['FAM_']);
  });
});

describe('infra/resources.bicep app settings against the app', () => {
  it('sets only settings the app, the host, the Durable extension or the SDKs read', () => {
    expect(PLATFORM_SETTINGS.filter((name) => bicep.names.has(name))).toEqual([]);
    const unknown = [...bicep.names.keys()].filter(
      (name) => !readByApp(name) && !(name in HOST_SETTINGS) && !name.startsWith('AzureFunctionsJobHost__'),
    );
    expect(unknown).toEqual([]);
    for (const family of bicep.families) expect(app.families.has(family), family).toBe(true);
  });

  it('overrides only host.json sections that exist, and names a connection it sets', () => {
    const hostJson = JSON.parse(read('host.json')) as Record<string, unknown>;
    const overrides = [...bicep.names].filter(([name]) => name.startsWith('AzureFunctionsJobHost__'));
    expect(overrides.length).toBeGreaterThan(0);
    for (const [name, value] of overrides) {
      const segments = name.split('__').slice(1);
      // The parent of the overridden key (or of the storageProvider section) must be in host.json.
      const parent = segments.slice(0, segments.indexOf('durableTask') + 1);
      let node: unknown = hostJson;
      for (const segment of parent) node = (node as Record<string, unknown> | undefined)?.[segment];
      expect(node, `${name}: host.json has no ${parent.join('.')}`).toBeTypeOf('object');
      if (name.endsWith('__connectionStringName')) {
        expect(value, name).toBeDefined();
        expect(bicep.names.has(value!), `${name} names ${value}, which the Bicep does not set`).toBe(true);
      }
    }
  });

  it('sets every setting a deployed app needs', () => {
    expect(REQUIRED_ON_AZURE.filter((name) => !setByBicep(name))).toEqual([]);
    expect(bicep.names.get('OFFLINE_MODEL')).toBe('off');
  });

  it('documents every setting the app reads that the Bicep leaves at its default', () => {
    const undocumented = [...app.names]
      .filter(([name]) => !setByBicep(name) && !(name in HOST_SETTINGS) && !PLATFORM_SETTINGS.includes(name))
      .filter(([name]) => !documentation.includes(`\`${name}`))
      .map(([name, files]) => `${name} (${files.join(', ')})`);
    expect(undocumented).toEqual([]);
  });

  it('sets none of the settings Flex Consumption replaced with functionAppConfig', () => {
    expect(FLEX_REMOVED.filter((name) => bicep.names.has(name))).toEqual([]);
    const resources = read('infra/resources.bicep');
    expect(resources).toMatch(/functionAppConfig: \{/);
    expect(resources).toMatch(/runtime: \{ name: 'node', version: '22' \}/);
  });

  it('keeps secrets in Key Vault references', () => {
    const resources = read('infra/resources.bicep');
    for (const name of ['TAVILY_API_KEY', 'BRAVE_API_KEY', 'CALLBACK_SIGNING_SECRET']) {
      expect(resources).toMatch(new RegExp(`^\\s*${name}: '@Microsoft\\.KeyVault\\(SecretUri=`, 'm'));
    }
  });
});

describe('infra/main.bicep model roles', () => {
  it('route each default role to a deployment the template creates, on a provider the app knows', () => {
    const main = read('infra/main.bicep');
    const deployments = new Set([...main.matchAll(/\{ name: '([^']+)', format:/g)].map((m) => m[1]));
    const rolesBlock = /param modelRoles object = \{([^}]*)\}/.exec(main)?.[1] ?? '';
    const routes = [...rolesBlock.matchAll(/(\w+): '([a-z-]+):([^']+)'/g)];
    expect(routes.length).toBeGreaterThan(0);
    const modelTypes = read('src/shared/modelTypes.ts');
    for (const [, role, provider, deployment] of routes) {
      expect(modelTypes, `${role}: provider ${provider}`).toContain(`'${provider}'`);
      expect(deployments.has(deployment), `${role}: deployment ${deployment}`).toBe(true);
    }
  });
});
