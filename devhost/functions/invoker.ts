import { randomUUID } from 'node:crypto';
import type { CoreApiShim, CoreInvocationContext, CoreProgrammingModel } from './coreShim.js';
import { dropKnownActionInputs } from './orchestratorActions.js';
import type {
  FunctionInvoker,
  FunctionRegistration,
  InvocationInput,
  InvocationOutput,
  LogLevel,
  TypedData,
} from './types.js';

/** Invokes registered functions through the library's own InvocationModel, as InvocationHandler.ts does. */
export class FunctionsInvoker implements FunctionInvoker {
  readonly #shim: CoreApiShim;
  readonly #model: CoreProgrammingModel;
  #hostLog: (level: LogLevel, message: string) => void;
  readonly registrations: ReadonlyMap<string, FunctionRegistration>;
  /** Past this, an invocation fails as the Functions host fails it (host.json functionTimeout). */
  functionTimeoutMs: number | undefined;
  /** Value of every `durableClient` input binding the caller does not supply itself. */
  durableClientPayload: unknown;
  /** False in a language worker: the host side logs each execution, as the Functions host does. */
  logExecutions = true;

  constructor(
    shim: CoreApiShim,
    model: CoreProgrammingModel,
    hostLog: (level: LogLevel, message: string) => void,
  ) {
    this.#shim = shim;
    this.#model = model;
    this.#hostLog = hostLog;
    this.registrations = new Map([...shim.functions].map(([name, f]) => [name, f.registration]));
  }

  #durableClientInputs(registration: FunctionRegistration): Record<string, TypedData> {
    const inputs: Record<string, TypedData> = {};
    for (const [name, binding] of Object.entries(registration.bindings)) {
      if (binding.type.toLowerCase() !== 'durableclient' || binding.direction !== 'in') continue;
      if (this.durableClientPayload === undefined) {
        throw new Error(
          `Function "${registration.name}" needs a durable client, but the durable runtime is not running.`,
        );
      }
      inputs[name] = { json: JSON.stringify(this.durableClientPayload) };
    }
    return inputs;
  }

  setHostLog(log: (level: LogLevel, message: string) => void): void {
    this.#hostLog = log;
  }

  /** Runs the function; unless the host logs executions itself (`logExecutions` false), logs its Executed line. */
  async invoke(functionName: string, input: InvocationInput): Promise<InvocationOutput> {
    const invocationId = input.invocationId ?? randomUUID();
    const run = () => this.#withTimeout(functionName, this.#invoke(functionName, invocationId, input));
    if (!this.logExecutions) return run();
    return logExecution(functionName, { ...input, invocationId }, this.#hostLog, run);
  }

  async #withTimeout<T>(functionName: string, work: Promise<T>): Promise<T> {
    const limit = this.functionTimeoutMs;
    if (limit === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`Timeout value of ${limit}ms was exceeded by function: Functions.${functionName}`),
          ),
        limit,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #invoke(
    functionName: string,
    invocationId: string,
    input: InvocationInput,
  ): Promise<InvocationOutput> {
    const registered = this.#shim.functions.get(functionName);
    if (!registered) throw new Error(`No function named "${functionName}" is registered.`);
    const { registration } = registered;
    const inputData = [{ name: registration.triggerBindingName, data: input.trigger }];
    const extraInputs: Record<string, TypedData> = {
      ...this.#durableClientInputs(registration),
      ...input.extraInputs,
    };
    for (const [name, data] of Object.entries(extraInputs)) inputData.push({ name, data });
    const userLog =
      input.logSink ??
      ((level: LogLevel, message: string) => this.#hostLog(level, `[${functionName}] ${message}`));

    const coreContext: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: functionName,
        inputData,
        triggerMetadata: input.triggerMetadata ?? {},
      },
      metadata: { name: functionName, bindings: registration.bindings, functionId: functionName },
      state: undefined,
      log: (level, category, message) =>
        category === 'user' ? userLog(level, message) : this.#hostLog(level, message),
    };

    const invocationModel = this.#model.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData = {};
    const pre = {
      hookData,
      appHookData: {},
      invocationContext: context,
      functionCallback: registered.callback,
      inputs,
    };
    coreContext.state = 'preInvocationHooks';
    await this.#shim.runHooks('preInvocation', pre);
    coreContext.state = 'invocation';
    const post: Record<string, unknown> = {
      hookData,
      appHookData: {},
      invocationContext: context,
      inputs: pre.inputs,
    };
    try {
      post.result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
      post.error = null;
    } catch (error) {
      post.result = null;
      post.error = error;
    }
    coreContext.state = 'postInvocationHooks';
    await this.#shim.runHooks('postInvocation', post);
    coreContext.state = undefined;
    if (post.error instanceof Error) throw post.error;
    if (post.error)
      throw new Error(`Function "${functionName}" threw a non-Error value: ${JSON.stringify(post.error)}`);

    // After the hooks, so the app's own hooks see the whole answer.
    if (input.knownOrchestratorActions !== undefined) {
      dropKnownActionInputs(post.result, input.knownOrchestratorActions);
    }
    const response = await invocationModel.getResponse(context, post.result);
    return {
      returnValue: (response.returnValue ?? undefined) as TypedData,
      outputData: (response.outputData ?? []).map((o) => ({ name: o.name ?? '', data: o.data as TypedData })),
    };
  }
}

/**
 * Runs one invocation and logs the line the Functions host prints for it: outcome, invocation id and
 * duration, and on failure the start of the error.
 */
export async function logExecution<T>(
  functionName: string,
  input: Pick<InvocationInput, 'logContext'> & { invocationId: string },
  log: (level: LogLevel, message: string) => void,
  run: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const line = (outcome: string) =>
    `Executed 'Functions.${functionName}' (${outcome}, ${input.logContext ? `${input.logContext}, ` : ''}` +
    `Id=${input.invocationId}, Duration=${Math.round(performance.now() - started)}ms)`;
  try {
    const output = await run();
    log('information', line('Succeeded'));
    return output;
  } catch (error) {
    log('warning', `${line('Failed')}: ${summarizeError(error)}`);
    throw error;
  }
}

/** First part of an error for a log line; durable-functions appends the whole orchestrator state. */
function summarizeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cut = message.split('$OutOfProcData$')[0]?.trim() ?? message;
  return cut.length > 500 ? `${cut.slice(0, 500)}…` : cut;
}
