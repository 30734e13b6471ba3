/**
 * Model and search endpoints are remote in production, so the benchmarks serve their fakes from another
 * process: the host's process then spends its CPU on the host's work only.
 *
 * A benchmark file re-runs itself with a flag; that child calls `announceEndpoints` once its servers
 * listen, and the parent's `startEndpointsProcess` resolves with the URLs the child announced.
 */
import { spawn } from 'node:child_process';

const PREFIX = 'ENDPOINTS ';

export type Endpoints = Record<string, string>;

/** In the child: print the endpoints for the parent, and exit when the parent closes stdin. */
export function announceEndpoints(endpoints: Endpoints): void {
  process.stdout.write(`${PREFIX}${JSON.stringify(endpoints)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/** In the parent: run `script` with `flag` and wait for the endpoints it announces. */
export async function startEndpointsProcess(
  script: string,
  flag: string,
): Promise<{ endpoints: Endpoints; stop(): void }> {
  const child = spawn(process.execPath, [script, flag], { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoints = await new Promise<Endpoints>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => l.startsWith(PREFIX));
      if (line) resolve(JSON.parse(line.slice(PREFIX.length)) as Endpoints);
    });
    child.once('exit', (code) => reject(new Error(`the endpoints process exited with ${String(code)}`)));
  });
  return { endpoints, stop: () => child.kill('SIGTERM') };
}
