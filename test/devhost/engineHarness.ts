import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DurableEngine, type DurableEngineOptions } from '../../devhost/durable/engine.js';
import { loadFunctionsApp } from '../../devhost/functions/appLoader.js';
import type { FunctionsInvoker } from '../../devhost/functions/invoker.js';

let invokerPromise: Promise<FunctionsInvoker> | undefined;

/** The engine-app fixture, loaded once per test file (registration is a side effect of require). */
export function engineAppInvoker(): Promise<FunctionsInvoker> {
  invokerPromise ??= loadFunctionsApp(path.resolve(__dirname, '../fixtures/engine-app'));
  return invokerPromise;
}

export interface EngineHandle {
  engine: DurableEngine;
  stateDir: string;
  lines: string[];
  reopen(overrides?: Partial<DurableEngineOptions>): Promise<EngineHandle>;
  close(): Promise<void>;
}

export async function openEngine(
  overrides: Partial<DurableEngineOptions> = {},
  stateDir?: string,
): Promise<EngineHandle> {
  const invoker = await engineAppInvoker();
  const dir = stateDir ?? mkdtempSync(path.join(tmpdir(), 'engine-test-'));
  const lines: string[] = [];
  const engine = DurableEngine.open({
    stateDir: dir,
    invoker,
    taskHubName: 'TestHub',
    log: (line) => lines.push(line),
    ...overrides,
  });
  engine.start();
  const handle: EngineHandle = {
    engine,
    stateDir: dir,
    lines,
    reopen: async (o = {}) => {
      await engine.stop();
      return openEngine({ ...overrides, ...o }, dir);
    },
    close: async () => {
      await engine.stop();
      if (stateDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

export function started(outcome: ReturnType<DurableEngine['start']>): string {
  if (!outcome || outcome.kind !== 'started') throw new Error(`start failed: ${JSON.stringify(outcome)}`);
  return outcome.instanceId;
}

export async function waitForStatus(
  engine: DurableEngine,
  id: string,
  status: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (engine.getStatus(id)?.runtimeStatus !== status) {
    if (Date.now() > deadline)
      throw new Error(`${id} is ${engine.getStatus(id)?.runtimeStatus}, expected ${status}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
