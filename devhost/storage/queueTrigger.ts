/**
 * Storage queue triggers, polled the way the Storage Queues extension 5.x does (QueueListener +
 * QueueProcessor): batches of `batchSize`, a new batch once in-flight work drops to
 * `newBatchThreshold`, randomized exponential backoff when empty, a 10-minute lease renewed at
 * half-time while the function runs, delete on success, release with `visibilityTimeout` on failure,
 * and `<queue>-poison` once a failing message has been dequeued `maxDequeueCount` times.
 */
import { randomUUID } from 'node:crypto';
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import type { FunctionInvoker, FunctionRegistration, TypedData } from '../functions/types.js';
import type { StorageLog } from './azurite.js';
import { resolveStorageConnection, type Env } from './connection.js';
import {
  Backoff,
  decodeBase64Strict,
  dotnetDate,
  errorMessage,
  isJson,
  resolveQueueName,
} from './queueMessages.js';
import { MIN_POLLING_INTERVAL_MS, queuesOptionsFromHostJson, type QueuesOptions } from './queueOptions.js';

export interface QueueTriggerHostOptions {
  invoker: FunctionInvoker;
  log: StorageLog;
  /** Parsed host.json; `extensions.queues` is honoured. */
  hostJson?: unknown;
  /** Applied over host.json (tests use this to shorten polling). */
  queues?: Partial<QueuesOptions>;
  /** App settings for `connection` and `%setting%` queue names. Default process.env. */
  env?: Env;
  /** Message lease while the function runs, renewed at half-time. Default 10 min (as the host). */
  leaseMs?: number;
  /** First backoff step after a non-empty poll. Default 100 ms (as the host). */
  minPollingIntervalMs?: number;
}

export interface QueueTriggerHost {
  readonly listeners: readonly QueueListener[];
  /** Wake the listeners of a queue now (e.g. after this process enqueued to it). */
  notify(queueName: string): void;
  /** Stop polling and wait for in-flight invocations and their completion calls. */
  stop(): Promise<void>;
}

export { decodeBase64Strict, resolveQueueName } from './queueMessages.js';

const QUEUE_TRIGGER_TYPES = new Set(['queuetrigger', 'storagequeuetrigger']);

export function isQueueTrigger(registration: FunctionRegistration): boolean {
  return QUEUE_TRIGGER_TYPES.has(registration.triggerType.toLowerCase());
}

/** Resolve `%Setting%` tokens, lower-case, and validate like the host's queue name check. */
export class QueueListener {
  readonly poisonQueueName: string;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #backoff: Backoff;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #queueReady = false;
  #poisonReady = false;
  #pollErrors = 0;

  constructor(
    readonly functionName: string,
    readonly queueName: string,
    private readonly queue: QueueClient,
    private readonly poison: QueueClient,
    private readonly options: QueuesOptions & {
      leaseMs: number;
      minPollingIntervalMs: number;
      binary: boolean;
    },
    private readonly invoker: FunctionInvoker,
    private readonly log: StorageLog,
  ) {
    this.poisonQueueName = `${queueName}-poison`;
    this.#backoff = new Backoff(
      options.minPollingIntervalMs,
      Math.max(options.maxPollingIntervalMs, options.minPollingIntervalMs),
    );
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  notify(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    await Promise.all([...this.#inFlight]);
  }

  async #run(): Promise<void> {
    let foundSinceLastDelay = false;
    while (!this.#stopped) {
      while (this.#inFlight.size > this.options.newBatchThreshold && !this.#stopped) {
        await Promise.race(this.#inFlight);
      }
      if (this.#stopped) break;
      const batch = await this.#receive();
      if (batch !== undefined && batch.length > 0) {
        foundSinceLastDelay = true;
        for (const message of batch) this.#track(this.#process(message));
        continue;
      }
      await this.#sleep(this.#backoff.next(foundSinceLastDelay));
      foundSinceLastDelay = false;
    }
  }

  async #receive(): Promise<DequeuedMessageItem[] | undefined> {
    try {
      if (!this.#queueReady) {
        await this.queue.createIfNotExists();
        this.#queueReady = true;
      }
      const response = await this.queue.receiveMessages({
        numberOfMessages: this.options.batchSize,
        visibilityTimeout: Math.ceil(this.options.leaseMs / 1000),
      });
      this.#pollErrors = 0;
      return response.receivedMessageItems;
    } catch (error) {
      this.#queueReady = false;
      this.#pollErrors++;
      this.log(
        this.#pollErrors === 1 ? 'warning' : 'debug',
        `Polling queue '${this.queueName}' for function '${this.functionName}' failed (${this.#pollErrors}x): ${errorMessage(error)}`,
      );
      return undefined;
    }
  }

  #track(task: Promise<void>): void {
    const tracked = task.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #process(message: DequeuedMessageItem): Promise<void> {
    const receipt = { popReceipt: message.popReceipt };
    const { messageId, dequeueCount } = message;
    try {
      const body =
        this.options.messageEncoding === 'base64'
          ? decodeBase64Strict(message.messageText)
          : Buffer.from(message.messageText, 'utf8');
      if (body === undefined) {
        this.log(
          'warning',
          `Message ${messageId} on queue '${this.queueName}' is not valid base64 (messageEncoding is base64): moving it to '${this.poisonQueueName}'.`,
        );
        await this.#moveToPoison(message, receipt.popReceipt);
        return;
      }
      if (dequeueCount > this.options.maxDequeueCount) {
        this.log(
          'warning',
          `Message ${messageId} was dequeued ${dequeueCount} times (MaxDequeueCount ${this.options.maxDequeueCount}): moving it to '${this.poisonQueueName}'.`,
        );
        await this.#moveToPoison(message, receipt.popReceipt);
        return;
      }
      const failure = await this.#invoke(message, body, receipt);
      if (failure === undefined) {
        await this.queue.deleteMessage(messageId, receipt.popReceipt);
      } else if (dequeueCount >= this.options.maxDequeueCount) {
        this.log(
          'warning',
          `Message has reached MaxDequeueCount of ${this.options.maxDequeueCount}. Moving message to queue '${this.poisonQueueName}'.`,
        );
        await this.#moveToPoison(message, receipt.popReceipt);
      } else {
        await this.queue.updateMessage(
          messageId,
          receipt.popReceipt,
          undefined,
          Math.ceil(this.options.visibilityTimeoutMs / 1000),
        );
      }
    } catch (error) {
      this.log(
        'error',
        `Completing message ${messageId} on queue '${this.queueName}' failed; it will reappear after its lease: ${errorMessage(error)}`,
      );
    }
  }

  /** Invoke the function with a lease renewed at half-time; resolves to the failure, if any. */
  async #invoke(
    message: DequeuedMessageItem,
    body: Buffer,
    receipt: { popReceipt: string },
  ): Promise<{ error: unknown } | undefined> {
    const text = body.toString('utf8');
    const trigger: TypedData = this.options.binary
      ? { bytes: new Uint8Array(body) }
      : isJson(text)
        ? { json: text }
        : { string: text };
    const triggerMetadata: Record<string, TypedData> = {
      QueueTrigger: { string: text },
      DequeueCount: { json: String(message.dequeueCount) },
      Id: { string: message.messageId },
      PopReceipt: { string: message.popReceipt },
      InsertionTime: dotnetDate(message.insertedOn),
      ExpirationTime: dotnetDate(message.expiresOn),
      NextVisibleTime: dotnetDate(message.nextVisibleOn),
      sys: {
        json: JSON.stringify({
          MethodName: this.functionName,
          UtcNow: new Date().toISOString(),
          RandGuid: randomUUID(),
        }),
      },
    };
    let renewal: Promise<void> = Promise.resolve();
    let renewTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const scheduleRenewal = (): void => {
      if (finished) return;
      renewTimer = setTimeout(() => {
        renewal = this.queue
          .updateMessage(
            message.messageId,
            receipt.popReceipt,
            undefined,
            Math.ceil(this.options.leaseMs / 1000),
          )
          .then((r) => {
            if (r.popReceipt !== undefined) receipt.popReceipt = r.popReceipt;
          })
          .catch((error: unknown) =>
            this.log(
              'warning',
              `Renewing the lease of message ${message.messageId} failed: ${errorMessage(error)}`,
            ),
          )
          .finally(scheduleRenewal);
      }, this.options.leaseMs / 2);
    };
    scheduleRenewal();
    let failure: { error: unknown } | undefined;
    try {
      await this.invoker.invoke(this.functionName, {
        trigger,
        triggerMetadata,
        logContext: `queue=${this.queueName}, messageId=${message.messageId}, dequeueCount=${message.dequeueCount}`,
      });
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      clearTimeout(renewTimer);
      await renewal;
    }
    return failure;
  }

  async #moveToPoison(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    if (!this.#poisonReady) {
      await this.poison.createIfNotExists();
      this.#poisonReady = true;
    }
    await this.poison.sendMessage(message.messageText);
    await this.queue.deleteMessage(message.messageId, popReceipt);
  }
}

/**
 * Start one listener per queue-triggered function in `invoker.registrations`.
 * @throws Error naming the function when its connection or queue name cannot be resolved.
 */
export function startQueueTriggers(options: QueueTriggerHostOptions): QueueTriggerHost {
  const env = options.env ?? process.env;
  const queues: QueuesOptions = { ...queuesOptionsFromHostJson(options.hostJson), ...options.queues };
  const clients = new Map<string, QueueServiceClient>();
  const listeners: QueueListener[] = [];
  for (const registration of options.invoker.registrations.values()) {
    if (!isQueueTrigger(registration)) continue;
    const queueName = resolveQueueName(registration.trigger.queueName, registration.name, env);
    const connectionName =
      typeof registration.trigger.connection === 'string' ? registration.trigger.connection : undefined;
    let connection;
    try {
      connection = resolveStorageConnection(connectionName, env);
    } catch (error) {
      throw new Error(`Function "${registration.name}": ${errorMessage(error)}`, { cause: error });
    }
    let service = clients.get(connection.connectionString);
    if (service === undefined) {
      service = QueueServiceClient.fromConnectionString(connection.connectionString, {
        retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
      });
      clients.set(connection.connectionString, service);
    }
    const listener = new QueueListener(
      registration.name,
      queueName,
      service.getQueueClient(queueName),
      service.getQueueClient(`${queueName}-poison`),
      {
        ...queues,
        leaseMs: options.leaseMs ?? 10 * 60_000,
        minPollingIntervalMs: options.minPollingIntervalMs ?? MIN_POLLING_INTERVAL_MS,
        binary: registration.trigger.dataType === 'binary',
      },
      options.invoker,
      options.log,
    );
    listeners.push(listener);
  }
  for (const listener of listeners) {
    listener.start();
    options.log(
      'information',
      `Function '${listener.functionName}' listens to queue '${listener.queueName}'.`,
    );
  }
  return {
    listeners,
    notify: (queueName) =>
      listeners.filter((l) => l.queueName === queueName.toLowerCase()).forEach((l) => l.notify()),
    stop: async () => {
      await Promise.all(listeners.map((l) => l.stop()));
    },
  };
}
