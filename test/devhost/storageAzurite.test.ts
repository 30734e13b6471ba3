import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureAzurite, isPortListening, startAzurite } from '../../devhost/storage/azurite.js';

async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('azurite', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'devhost-azurite-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on the given loopback ports with data on disk, serves queues, and stops by PID', async () => {
    const [blobPort = 0, queuePort = 0, tablePort = 0] = await freePorts(3);
    const azurite = await startAzurite({ blobPort, queuePort, tablePort, dataDir });
    try {
      expect(azurite.pid).toBeGreaterThan(0);
      expect(azurite.connectionString).toContain(
        `QueueEndpoint=http://127.0.0.1:${queuePort}/devstoreaccount1`,
      );
      const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('smoke');
      await queue.createIfNotExists();
      await queue.sendMessage('aGk=');
      const peeked = await queue.peekMessages();
      expect(peeked.peekedMessageItems[0]?.messageText).toBe('aGk=');
      expect(readdirSync(dataDir).length).toBeGreaterThan(0);
    } finally {
      await azurite.stop();
    }
    expect(isAlive(azurite.pid)).toBe(false);
    expect(await isPortListening(queuePort)).toBe(false);
    await azurite.stop(); // idempotent
  });

  it('reports a clear error with Azurite output when a port is taken', async () => {
    const [blobPort = 0, tablePort = 0] = await freePorts(2);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      await expect(
        startAzurite({ blobPort, queuePort: taken, tablePort, inMemory: true, startTimeoutMs: 15_000 }),
      ).rejects.toThrow(
        /Azurite \(pid \d+, ports .*\) (exited during start|did not accept connections)[\s\S]*Output tail/,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('rejects ambiguous persistence options', async () => {
    await expect(startAzurite({ blobPort: 1, queuePort: 2, tablePort: 3 })).rejects.toThrow(
      /exactly one of dataDir or inMemory/,
    );
  });

  it('ensureAzurite does nothing when storage is not development storage', async () => {
    const logs: string[] = [];
    const result = await ensureAzurite({
      dataDir,
      env: { AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k' },
      log: (_level, message) => logs.push(message),
    });
    expect(result.started).toBe(false);
    await result.stop();
  });

  it('ensureAzurite reuses whatever already listens on 127.0.0.1:10001', async () => {
    const blocker = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false)); // something (e.g. a developer's Azurite) already has it
      blocker.listen(10001, '127.0.0.1', () => resolve(true));
    });
    try {
      const logs: string[] = [];
      const result = await ensureAzurite({
        dataDir,
        env: { AzureWebJobsStorage: 'UseDevelopmentStorage=true' },
        log: (_level, message) => logs.push(message),
      });
      expect(result.started).toBe(false);
      expect(logs.join('\n')).toMatch(/Reusing the storage emulator already listening on 127\.0\.0\.1:10001/);
      await result.stop();
    } finally {
      if (bound) await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
