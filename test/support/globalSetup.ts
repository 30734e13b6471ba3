/**
 * One in-memory Azurite for the whole test run, on free loopback ports (never the 10000-10002
 * defaults, so a developer's own Azurite is left alone). Tests read its connection string with
 * `inject('azuriteConnectionString')`; it is stopped by PID in teardown.
 */
import type { TestProject } from 'vitest/node';
import { freeLoopbackPorts } from '../../devhost/net.js';
import { startAzurite } from '../../devhost/storage/azurite.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [blobPort = 0, queuePort = 0, tablePort = 0] = await freeLoopbackPorts(3);
    try {
      const azurite = await startAzurite({ blobPort, queuePort, tablePort, inMemory: true });
      project.provide('azuriteConnectionString', azurite.connectionString);
      return () => azurite.stop();
    } catch (error) {
      lastError = error; // a port was taken between reservation and bind: try new ports
    }
  }
  throw new Error(
    `Could not start Azurite for the test run: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    { cause: lastError },
  );
}
