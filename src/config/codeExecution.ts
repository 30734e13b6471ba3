/** The `run_code` tool's settings (src/tools/codeExecution/README.md has the table). */
import { z } from 'zod';
import { RUN_CODE_MAXIMA } from '../tools/codeExecution/runCode.js';
import { ConfigError, blank, readSection, type Env } from './section.js';

const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a positive whole number` })
    .int({ error: `${name} must be a positive whole number` })
    .positive({ error: `${name} must be a positive whole number` });

const PYTHON_MODES = ['bubblewrap', 'container-apps', 'off'] as const;

const EnvSchema = z.object({
  RUN_CODE_TIMEOUT_MS: positiveInt('RUN_CODE_TIMEOUT_MS').default(RUN_CODE_MAXIMA.timeoutMs),
  RUN_CODE_MEMORY_MB: positiveInt('RUN_CODE_MEMORY_MB').default(RUN_CODE_MAXIMA.memoryMb),
  RUN_CODE_MAX_OUTPUT_BYTES: positiveInt('RUN_CODE_MAX_OUTPUT_BYTES').default(RUN_CODE_MAXIMA.maxOutputBytes),
  RUN_CODE_MAX_ARTIFACT_BYTES: positiveInt('RUN_CODE_MAX_ARTIFACT_BYTES').default(
    RUN_CODE_MAXIMA.maxArtifactBytes,
  ),
  RUN_CODE_PYTHON: z
    .enum(PYTHON_MODES, { error: `RUN_CODE_PYTHON must be one of ${PYTHON_MODES.join(', ')}` })
    .optional(),
  RUN_CODE_PYTHON_BIN: z
    .string()
    .startsWith('/usr/', { error: 'RUN_CODE_PYTHON_BIN must be an interpreter under /usr/' })
    .default('/usr/bin/python3'),
  RUN_CODE_SANDBOX_UID: z.coerce
    .number({ error: 'RUN_CODE_SANDBOX_UID must be a user id (a whole number, 0 or more)' })
    .int({ error: 'RUN_CODE_SANDBOX_UID must be a user id (a whole number, 0 or more)' })
    .nonnegative({ error: 'RUN_CODE_SANDBOX_UID must be a user id (a whole number, 0 or more)' })
    .default(65534),
  RUN_CODE_JS_WORKERS: positiveInt('RUN_CODE_JS_WORKERS').optional(),
  ACA_SESSIONS_POOL_ENDPOINT: z
    .url({ error: 'ACA_SESSIONS_POOL_ENDPOINT must be a URL (the session pool management endpoint)' })
    .optional(),
});

export type RunCodeConfig = Omit<z.infer<typeof EnvSchema>, 'RUN_CODE_PYTHON'> & {
  /** Resolved: the setting, else `container-apps` when a pool endpoint is set, else `bubblewrap`. */
  readonly RUN_CODE_PYTHON: 'bubblewrap' | 'container-apps' | 'off';
  /**
   * Whether the app runs on Azure (`WEBSITE_INSTANCE_ID` is set on every App Service / Functions instance:
   * https://learn.microsoft.com/azure/app-service/reference-app-settings#scaling), where the Functions
   * images have no bubblewrap (checkPythonSandbox in src/tools/codeExecution/runCode.ts).
   */
  readonly onAzure: boolean;
};

/** Parses run_code's settings; blank values count as unset. Throws ConfigError listing every problem. */
export function parseRunCodeConfig(env: Env): RunCodeConfig {
  const parsed = readSection(EnvSchema, env);
  if (parsed.data === undefined) throw new ConfigError(parsed.problems);
  const settings = parsed.data;
  const python =
    settings.RUN_CODE_PYTHON ?? (settings.ACA_SESSIONS_POOL_ENDPOINT ? 'container-apps' : 'bubblewrap');
  if (python === 'container-apps' && !settings.ACA_SESSIONS_POOL_ENDPOINT) {
    throw new ConfigError([
      'RUN_CODE_PYTHON=container-apps needs ACA_SESSIONS_POOL_ENDPOINT (the session pool management endpoint)',
    ]);
  }
  return { ...settings, RUN_CODE_PYTHON: python, onAzure: blank(env.WEBSITE_INSTANCE_ID) !== undefined };
}
