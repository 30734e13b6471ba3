import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/** The workloads of issue 19, the same sizes on every engine. */
export const SIZES = {
  sequenceSteps: 200,
  fanOutWidth: 2000,
  manyRuns: 500,
  manySteps: 5,
  agentRuns: 100,
  agentCalls: 10,
  modelLatencyMs: 50,
} as const;

export type WorkloadName = 'sequence' | 'fanOut' | 'many' | 'agent';

/**
 * One engine, started in a worker process of its own; every method runs one workload to completion
 * through the engine's own API and returns what the workflow returned, so the driver can check it.
 */
export interface Engine {
  /** Package versions that matter for the comparison. */
  versions: Record<string, string>;
  /** `steps` sequential no-op steps; each returns when it ran (epoch ms). */
  sequence(steps: number, runId: string): Promise<number[]>;
  /** One workflow running `width` no-op steps concurrently and joining them; returns how many joined. */
  fanOut(width: number, runId: string): Promise<number>;
  /** `runs` workflows of `steps` sequential no-op steps, all started at once; resolves when all ended. */
  many(runs: number, steps: number, runId: string): Promise<void>;
  /** `runs` workflows of `calls` sequential model calls each, all started at once. */
  agent(runs: number, calls: number, modelUrl: string, runId: string): Promise<void>;
  stop(): Promise<void>;
}

export type StartEngine = (workDir: string) => Promise<Engine>;

/** Epoch ms with sub-ms precision; comparable across threads and processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The agent-shaped step: one call to the loopback fake model (OpenAI chat-completions shape). */
export async function callModel(url: string, turn: number): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: `turn ${turn}` }] }),
  });
  if (!response.ok) throw new Error(`fake model answered HTTP ${response.status}`);
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  const text = body.choices[0]?.message.content;
  if (typeof text !== 'string') throw new Error('fake model reply has no choices[0].message.content');
  return text;
}

export const peersDir = path.resolve(__dirname, '..');
export const repoRoot = path.resolve(peersDir, '../..');

/** The installed version of a package, read from its package.json (exports maps may hide it). */
export function installedVersion(pkg: string, from = path.join(peersDir, 'node_modules')): string {
  try {
    const json = JSON.parse(readFileSync(path.join(from, pkg, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return json.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
