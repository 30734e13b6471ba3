import { randomUUID } from 'node:crypto';
import type { CoreApiShim, CoreInvocationContext, CoreProgrammingModel } from './coreShim.js';
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
  readonly #hostLog: (level: LogLevel, message: string) => void;
  readonly registrations: ReadonlyMap<string, FunctionRegistration>;

  constructor(shim: CoreApiShim, model: CoreProgrammingModel, hostLog: (level: LogLevel, message: string) => void) {
    this.#shim = shim;
    this.#model = model;
    this.#hostLog = hostLog;
    this.registrations = new Map([...shim.functions].map(([name, f]) => [name, f.registration]));
  }

  async invoke(functionName: string, input: InvocationInput): Promise<InvocationOutput> {
    const registered = this.#shim.functions.get(functionName);
    if (!registered) throw new Error(`No function named "${functionName}" is registered.`);
    const { registration } = registered;
    const invocationId = randomUUID();
    const inputData = [{ name: registration.triggerBindingName, data: input.trigger }];
    for (const [name, data] of Object.entries(input.extraInputs ?? {})) inputData.push({ name, data });
    const userLog =
      input.logSink ?? ((level: LogLevel, message: string) => this.#hostLog(level, `[${functionName}] ${message}`));

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
      log: (level, category, message) => (category === 'user' ? userLog(level, message) : this.#hostLog(level, message)),
    };

    const invocationModel = this.#model.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData = {};
    const pre = { hookData, appHookData: {}, invocationContext: context, functionCallback: registered.callback, inputs };
    coreContext.state = 'preInvocationHooks';
    await this.#shim.runHooks('preInvocation', pre);
    coreContext.state = 'invocation';
    const post: Record<string, unknown> = { hookData, appHookData: {}, invocationContext: context, inputs: pre.inputs };
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
    if (post.error) throw post.error;

    const response = await invocationModel.getResponse(context, post.result);
    return {
      returnValue: (response.returnValue ?? undefined) as TypedData,
      outputData: (response.outputData ?? []).map((o) => ({ name: o.name ?? '', data: o.data as TypedData })),
    };
  }
}
