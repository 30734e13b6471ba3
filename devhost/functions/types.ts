/** What the devhost knows about one function the app registered through `@azure/functions-core`. */
export interface BindingInfo {
  type: string;
  direction: 'in' | 'out' | 'inout';
  dataType?: string;
  [option: string]: unknown;
}

export interface FunctionRegistration {
  name: string;
  bindings: Record<string, BindingInfo>;
  triggerBindingName: string;
  triggerType: string;
  /** Trigger-level options exactly as registered (route, methods, authLevel, queueName, schedule, ...). */
  trigger: BindingInfo;
}

/** RPC typed data as the Functions host sends it to the Node worker (subset we use). */
export type TypedData =
  | { json: string }
  | { string: string }
  | { bytes: Uint8Array }
  | { int: number }
  | { double: number }
  | { http: Record<string, unknown> }
  | undefined;

export interface InvocationInput {
  /** Value for the trigger binding. */
  trigger: TypedData;
  /** Extra input bindings by binding name (e.g. the durableClient payload). */
  extraInputs?: Record<string, TypedData>;
  /** Trigger metadata by name (e.g. queue DequeueCount, Id). */
  triggerMetadata?: Record<string, TypedData>;
  /**
   * Receives the function's own logs (context.log / context.warn …) instead of the host log.
   * The durable engine uses it to drop orchestrator logs emitted during replay.
   */
  logSink?: (level: LogLevel, message: string) => void;
  /** Added to the invocation's log line, e.g. `queue=orders, dequeueCount=2`. */
  logContext?: string;
  /** Set by a host that logs the execution itself; otherwise one is made up. */
  invocationId?: string;
  /**
   * For an orchestrator episode: how many of the orchestration's actions the durable engine already
   * has. Their inputs are dropped from the answer before it is serialized (orchestratorActions.ts).
   */
  knownOrchestratorActions?: number;
  /**
   * The first `chars` characters of `trigger.json` begin every later invocation that passes the same
   * `key`, so a language worker thread can keep them instead of receiving them again (triggerPrefix.ts).
   * The function receives the whole text either way.
   */
  triggerPrefix?: { key: string; chars: number };
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical';

export interface InvocationOutput {
  /** The return binding (`$return`) as typed data, when any. */
  returnValue?: TypedData;
  /** Named output bindings. */
  outputData: { name: string; data: TypedData }[];
}

/** Invokes registered functions exactly as the Node worker does (library InvocationModel). */
export interface FunctionInvoker {
  readonly registrations: ReadonlyMap<string, FunctionRegistration>;
  /** Throws the function's own error when the handler throws. */
  invoke(functionName: string, input: InvocationInput): Promise<InvocationOutput>;
  /** No invocation will pass this `triggerPrefix.key` again; what was kept for it can go. */
  forgetTriggerPrefix?(key: string): void;
}
