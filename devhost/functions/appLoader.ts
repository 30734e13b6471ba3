import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { installCoreApiShim } from './coreShim.js';
import { FunctionsInvoker } from './invoker.js';
import type { FunctionRegistration, LogLevel } from './types.js';

const SUPPORTED_TRIGGERS = new Set([
  'httptrigger',
  'queuetrigger',
  'timertrigger',
  'orchestrationtrigger',
  'activitytrigger',
  'entitytrigger',
]);
const SUPPORTED_INPUTS = new Set(['durableclient']);
const SUPPORTED_OUTPUTS = new Set(['http']);

export interface LoadAppOptions {
  /** Host log for system messages (registration, warnings). */
  log?: (level: LogLevel, message: string) => void;
}

/**
 * Loads a Functions app folder the way the Node worker does: app settings from
 * local.settings.json into the environment, `@azure/functions-core` provided, then the
 * package.json `main` entry (or glob) required unchanged.
 */
export async function loadFunctionsApp(
  appDir: string,
  options: LoadAppOptions = {},
): Promise<FunctionsInvoker> {
  const absoluteAppDir = path.resolve(appDir);
  const shim = installCoreApiShim();
  const log = options.log ?? (() => {});
  shim.systemLog = log;
  // Registration is a side effect of require(), which Node caches: a second host in the same
  // process (tests restart hosts on one state dir) must reuse the first load.
  const loaded = loadedApps.get(absoluteAppDir);
  if (loaded) {
    loaded.setHostLog(log);
    return loaded;
  }
  if (loadedApps.size > 0) {
    throw new Error(
      `This process already hosts ${[...loadedApps.keys()].join(', ')}; one process hosts one app. ` +
        `Start another process for ${absoluteAppDir}.`,
    );
  }

  const entries = resolveEntryFiles(absoluteAppDir);
  const appRequire = createRequire(path.join(absoluteAppDir, 'package.json'));
  for (const entry of entries) appRequire(entry);

  const model = shim.programmingModel;
  if (!model) {
    throw new Error(
      `The app in ${absoluteAppDir} did not load @azure/functions (no programming model was set). ` +
        `Is "main" in its package.json pointing at the compiled entry, and is @azure/functions v4 installed?`,
    );
  }
  const capabilities = await model.getCapabilities({});
  if (capabilities.HttpUri) {
    throw new Error(
      'The app enables HTTP streaming (app.setup({ enableHttpStream: true })); devhost does not support it.',
    );
  }

  const registrations = [...shim.functions.values()].map((f) => f.registration);
  const problems = registrations.flatMap(unsupportedBindings);
  if (problems.length > 0) {
    throw new Error(`The app registers bindings devhost does not support:\n  ${problems.join('\n  ')}`);
  }
  await shim.runHooks('appStart', { hookData: {}, appHookData: {}, functionAppDirectory: absoluteAppDir });
  const invoker = new FunctionsInvoker(shim, model, log);
  loadedApps.set(absoluteAppDir, invoker);
  return invoker;
}

const loadedApps = new Map<string, FunctionsInvoker>();

function unsupportedBindings(registration: FunctionRegistration): string[] {
  return Object.entries(registration.bindings).flatMap(([bindingName, binding]) => {
    const type = binding.type.toLowerCase();
    const supported =
      binding.direction === 'out'
        ? SUPPORTED_OUTPUTS.has(type)
        : /trigger$/.test(type)
          ? SUPPORTED_TRIGGERS.has(type)
          : SUPPORTED_INPUTS.has(type);
    return supported
      ? []
      : [
          `function "${registration.name}": ${binding.direction} binding "${bindingName}" of type "${binding.type}"`,
        ];
  });
}

function resolveEntryFiles(appDir: string): string[] {
  const packageJsonPath = path.join(appDir, 'package.json');
  if (!existsSync(packageJsonPath)) throw new Error(`No package.json in app folder ${appDir}.`);
  const main = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { main?: unknown }).main;
  if (typeof main !== 'string' || main.length === 0) {
    throw new Error(
      `${packageJsonPath} has no "main"; point it at the compiled entry (e.g. dist/src/index.js).`,
    );
  }
  const files = expandGlob(appDir, main);
  if (files.length === 0) {
    throw new Error(
      `"main" in ${packageJsonPath} is "${main}", which matches no file. Did you run the build?`,
    );
  }
  return files;
}

/** Functions accepts a glob in "main"; `*` within a path segment and `**` across segments. */
function expandGlob(baseDir: string, pattern: string): string[] {
  if (!/[*?]/.test(pattern)) {
    const file = path.resolve(baseDir, pattern);
    return existsSync(file) ? [file] : [];
  }
  const segmentToRegExp = (segment: string) =>
    new RegExp(
      `^${segment
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
  const walk = (dir: string, segments: string[]): string[] => {
    const [head, ...rest] = segments;
    if (head === undefined) return [dir];
    if (!existsSync(dir)) return [];
    if (head === '**') {
      const here = walk(dir, rest);
      const deeper = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && d.name !== 'node_modules')
        .flatMap((d) => walk(path.join(dir, d.name), segments));
      return [...here, ...deeper];
    }
    const matcher = segmentToRegExp(head);
    return readdirSync(dir)
      .filter((name) => matcher.test(name))
      .sort()
      .flatMap((name) => walk(path.join(dir, name), rest));
  };
  return [
    ...new Set(
      walk(
        baseDir,
        pattern.split(/[\\/]/).filter((s) => s !== '' && s !== '.'),
      ),
    ),
  ].filter((f) => /\.(c|m)?js$/.test(f));
}
