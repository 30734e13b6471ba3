/**
 * The language worker: a worker thread that loads the Functions app and runs its invocations, as the
 * Node worker process does beside the Functions host. The host (main thread) keeps HTTP, storage and
 * the durable engine; the app's code runs here, so the two use separate cores.
 *
 * Messages are plain data: the invocation's typed data in, typed data out, logs back as they happen.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadFunctionsApp } from './appLoader.js';
import { HeldPrefixes } from './triggerPrefix.js';
import type { InvocationInput, LogLevel } from './types.js';
import { errorToData, type HostMessage, type WorkerMessage } from './workerProtocol.js';

function hostPort(): MessagePort {
  if (!parentPort) throw new Error('languageWorker.js runs as a worker thread (new Worker), not on its own.');
  return parentPort;
}
const port = hostPort();
const post = (message: WorkerMessage) => port.postMessage(message);
const hostLog = (level: LogLevel, message: string) => post({ type: 'log', level, message });

async function main(appDir: string): Promise<void> {
  const invoker = await loadFunctionsApp(appDir, { log: hostLog });
  // The host logs each execution when the result comes back, as the Functions host does.
  invoker.logExecutions = false;
  const prefixes = new HeldPrefixes();
  port.on('message', (message: HostMessage) => {
    if (message.type === 'settings') {
      invoker.functionTimeoutMs = message.functionTimeoutMs;
      invoker.durableClientPayload = message.durableClientPayload;
      return;
    }
    const { id, functionName, withLogSink, prefixed } = message;
    let input: InvocationInput;
    try {
      // Put the trigger text back together now, in message order, before a later message reuses it.
      input = prefixed ? { ...message.input, trigger: { json: prefixes.join(prefixed) } } : message.input;
    } catch (error) {
      post({ type: 'error', id, error: errorToData(error) });
      return;
    }
    const invocation: InvocationInput = withLogSink
      ? { ...input, logSink: (level, text) => post({ type: 'log', id, level, message: text }) }
      : input;
    invoker.invoke(functionName, invocation).then(
      (output) => post({ type: 'result', id, output }),
      (error: unknown) => post({ type: 'error', id, error: errorToData(error) }),
    );
  });
  post({ type: 'ready', registrations: [...invoker.registrations.values()] });
}

main((workerData as { appDir: string }).appDir).catch((error: unknown) => {
  post({ type: 'loadFailed', error: errorToData(error) });
});
