import { spawn } from 'node:child_process';
import path from 'node:path';
import type { TestHost } from './testHost.js';

const appDir = path.resolve(__dirname, '../..');
const cliPath = path.join(appDir, 'dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiled CLI (dist/src/cli/main.js, built by `npm test`) as a child process, pointed at
 * `host` when given. Asynchronous on purpose: the host answering the CLI runs in the test's process.
 */
export function runCli(
  args: string[],
  options: { host?: TestHost | undefined; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const { host, env = {} } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: appDir,
      env: {
        PATH: process.env.PATH ?? '',
        ...(host
          ? {
              DURABLE_AGENTS_URL: host.host.url,
              DURABLE_AGENTS_KEY: host.host.keys.functionKey,
              DURABLE_AGENTS_ADMIN_KEY: host.host.keys.masterKey,
            }
          : {}),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
