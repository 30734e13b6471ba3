/**
 * Our own writes to `<queue>-poison`: a message that can never succeed (bad JSON, unknown workflow, input
 * failing the schema) is moved there at once with the reason, instead of being retried until the host
 * gives up. The host's own poison moves (undecodable base64, too many dequeues) carry the raw text only.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { CredentialFactory } from '../../azure/credentials.js';
import { queueServiceFor } from '../../azure/storageClients.js';
import type { StorageConnection } from '../../config/app.js';

/** What a poison message of ours holds (JSON, base64-encoded like every message of the app's queues). */
export interface PoisonEntry {
  /** The message text exactly as it was received. */
  readonly originalBody: string;
  /** The message's exact bytes (base64) when they are not valid UTF-8, so `originalBody` is lossy. */
  readonly originalBodyBase64?: string;
  readonly reason: string;
  readonly queue: string;
  readonly messageId?: string;
  readonly dequeueCount?: number;
  readonly movedAt: string;
}

export interface PoisonQueue {
  readonly queueName: string;
  send(entry: PoisonEntry): Promise<void>;
}

export interface PoisonQueueDeps {
  /** The trigger queue; poison messages go to `<queueName>-poison`, as the Functions host names it. */
  readonly queueName: string;
  readonly connection?: () => StorageConnection | undefined;
  /** Builds the credential of an identity-based connection (default: the process's shared one). */
  readonly credentials?: CredentialFactory;
  /** A ready client (tests); otherwise built from `connection` on first use. */
  readonly queueClient?: QueueClient;
}

export function poisonQueueName(queueName: string): string {
  return `${queueName}-poison`;
}

export function createPoisonQueue(deps: PoisonQueueDeps): PoisonQueue {
  const name = poisonQueueName(deps.queueName);
  let client: QueueClient | undefined = deps.queueClient;
  let ready: Promise<unknown> | undefined;
  return {
    queueName: name,
    async send(entry) {
      client ??= queueServiceFor(deps.connection?.(), deps.credentials).getQueueClient(name);
      const queue = client;
      ready ??= queue.createIfNotExists().catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      await ready;
      await queue.sendMessage(Buffer.from(JSON.stringify(entry), 'utf8').toString('base64'));
    },
  };
}
