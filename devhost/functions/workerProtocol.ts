/** What the host and its language worker thread say to each other (see languageWorker.ts). */
import type { PrefixedText } from './triggerPrefix.js';
import type { FunctionRegistration, InvocationInput, InvocationOutput, LogLevel } from './types.js';

export interface ErrorData {
  name: string;
  message: string;
  stack: string;
}

export type HostMessage =
  | {
      type: 'invoke';
      id: number;
      functionName: string;
      input: Omit<InvocationInput, 'logSink' | 'triggerPrefix'>;
      /** The function's own logs go back tagged with `id` instead of to the host log. */
      withLogSink: boolean;
      /** The trigger's JSON text, sent without the prefix this worker already holds (triggerPrefix.ts). */
      prefixed?: PrefixedText;
    }
  | { type: 'settings'; functionTimeoutMs: number | undefined; durableClientPayload: unknown };

export type WorkerMessage =
  | { type: 'ready'; registrations: FunctionRegistration[] }
  | { type: 'loadFailed'; error: ErrorData }
  | { type: 'result'; id: number; output: InvocationOutput }
  | { type: 'error'; id: number; error: ErrorData }
  | { type: 'log'; id?: number; level: LogLevel; message: string };

/** Anything thrown, as plain data that crosses to the host. */
export function errorToData(error: unknown): ErrorData {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message, stack: e.stack ?? '' };
}

/** The worker's error as an Error on the host side: same name, message and stack. */
export function errorFromData(data: ErrorData): Error {
  const error = new Error(data.message);
  error.name = data.name;
  error.stack = data.stack;
  return error;
}
