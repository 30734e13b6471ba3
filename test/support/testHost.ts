import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { startDevHost, type DevHost, type DevHostOptions } from '../../devhost/host.js';
import { HostClient } from './hostClient.js';

export const fixtureApp = (name: string): string => path.resolve(__dirname, '../fixtures', name);

export interface TestHost {
  host: DevHost;
  client: HostClient;
  logs: string[];
  stateDir: string;
  stop(options?: { keepState?: boolean }): Promise<void>;
}

/** An in-process devhost on a free loopback port with a fresh state dir. */
export async function startTestHost(
  options: Partial<DevHostOptions> & { appDir: string },
): Promise<TestHost> {
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'devhost-test-'));
  // Test files run in parallel processes against one Azurite: each process polls its own queue.
  process.env.AzureWebJobsStorage ??= inject('azuriteConnectionString');
  process.env.CONFORMANCE_QUEUE ??= `conformance-${process.pid}`;
  const logs: string[] = [];
  const host = await startDevHost({
    port: 0,
    azurite: 'off',
    ...options,
    stateDir,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  return {
    host,
    client: new HostClient(host.url, host.keys.functionKey),
    logs,
    stateDir,
    async stop({ keepState = false } = {}) {
      await host.stop();
      if (!keepState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
