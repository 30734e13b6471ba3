/**
 * One in-memory Azurite for the whole test run, on free loopback ports (never the 10000-10002
 * defaults, so a developer's own Azurite is left alone). Tests read its connection string with
 * `inject('azuriteConnectionString')`; it is stopped by PID in teardown.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startAzurite } from '../../devhost/storage/azurite.js';

/** Reserve `count` distinct free ports on 127.0.0.1 (held together, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [blobPort = 0, queuePort = 0, tablePort = 0] = await freePorts(3);
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
