import { describe, expect, it } from 'vitest';
import { parseRunCodeConfig } from '../../../src/config/codeExecution.js';
import { ConfigError } from '../../../src/config/section.js';
import {
  checkPythonSandbox,
  runCodeLimits,
  type RunCodeEnvironment,
} from '../../../src/tools/codeExecution/runCode.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseRunCodeConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('run_code settings (src/config/codeExecution.ts)', () => {
  it('reads maxima and the Python mode', () => {
    const config = parseRunCodeConfig({
      RUN_CODE_TIMEOUT_MS: '8000',
      RUN_CODE_MEMORY_MB: ' 96 ',
      RUN_CODE_PYTHON: 'off',
      RUN_CODE_JS_WORKERS: '',
    });
    expect(runCodeLimits(config)).toMatchObject({ timeoutMs: 8000, memoryMb: 96 });
    expect(config.RUN_CODE_PYTHON).toBe('off');
    expect(config.RUN_CODE_JS_WORKERS).toBeUndefined();
  });

  it('requires the pool endpoint for container-apps', () => {
    expect(problemsOf({ RUN_CODE_PYTHON: 'container-apps' })).toEqual([
      'RUN_CODE_PYTHON=container-apps needs ACA_SESSIONS_POOL_ENDPOINT (the session pool management endpoint)',
    ]);
    expect(
      parseRunCodeConfig({
        RUN_CODE_PYTHON: 'container-apps',
        ACA_SESSIONS_POOL_ENDPOINT: 'https://eastus.dynamicsessions.io/x',
      }).ACA_SESSIONS_POOL_ENDPOINT,
    ).toBe('https://eastus.dynamicsessions.io/x');
  });

  it('picks the sessions pool when its endpoint is set, bubblewrap otherwise', () => {
    const endpoint = 'https://eastus.dynamicsessions.io/x';
    expect(parseRunCodeConfig({ ACA_SESSIONS_POOL_ENDPOINT: endpoint }).RUN_CODE_PYTHON).toBe(
      'container-apps',
    );
    expect(parseRunCodeConfig({}).RUN_CODE_PYTHON).toBe('bubblewrap');
    expect(
      parseRunCodeConfig({ ACA_SESSIONS_POOL_ENDPOINT: endpoint, RUN_CODE_PYTHON: 'bubblewrap' })
        .RUN_CODE_PYTHON,
    ).toBe('bubblewrap');
  });

  it('lists every bad setting at once, each named with its value', () => {
    expect(
      problemsOf({
        RUN_CODE_PYTHON: 'unsandboxed',
        RUN_CODE_TIMEOUT_MS: '-5',
        RUN_CODE_PYTHON_BIN: '/opt/python',
      }),
    ).toEqual([
      'RUN_CODE_TIMEOUT_MS must be a positive whole number (got "-5")',
      'RUN_CODE_PYTHON must be one of bubblewrap, container-apps, off (got "unsandboxed")',
      'RUN_CODE_PYTHON_BIN must be an interpreter under /usr/ (got "/opt/python")',
    ]);
  });

  it('on Azure, refuses to start when neither bubblewrap nor a sessions pool can run Python', () => {
    const probed: string[] = [];
    const missing = {
      probeBubblewrap: (python: string) => {
        probed.push(python);
        return { ok: false as const, reason: 'could not start bubblewrap (bwrap): spawnSync bwrap ENOENT' };
      },
    };
    const azure = { WEBSITE_INSTANCE_ID: 'abc123' };
    const check = (env: Record<string, string>, probe: RunCodeEnvironment = missing) =>
      checkPythonSandbox(parseRunCodeConfig(env), probe);
    expect(() => check(azure)).toThrow(
      'run_code has no Python sandbox on Azure: bubblewrap cannot run here (could not start bubblewrap (bwrap): spawnSync bwrap ENOENT) and ACA_SESSIONS_POOL_ENDPOINT is not set.',
    );
    expect(() => check({ ...azure, RUN_CODE_PYTHON: 'bubblewrap' })).toThrow(/RUN_CODE_PYTHON=off/);
    expect(probed).toEqual(['/usr/bin/python3', '/usr/bin/python3']);
    // A sessions pool, Python off, or a custom image with working bubblewrap all start.
    expect(() =>
      check({ ...azure, ACA_SESSIONS_POOL_ENDPOINT: 'https://eastus.dynamicsessions.io/x' }),
    ).not.toThrow();
    expect(() => check({ ...azure, RUN_CODE_PYTHON: 'off' })).not.toThrow();
    expect(() => check(azure, { probeBubblewrap: () => ({ ok: true }) })).not.toThrow();
    // Off Azure nothing is probed at startup (run_code reports an unusable sandbox per call, as before).
    expect(() => check({})).not.toThrow();
    expect(probed).toHaveLength(2);
  });
});
