import Module from 'node:module';
import type { BindingInfo, FunctionRegistration, LogLevel } from './types.js';

/** The slice of the library's ProgrammingModel / InvocationModel the devhost drives (types-core). */
export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<CoreInvocationResponse>;
}

export interface CoreInvocationResponse {
  invocationId: string;
  returnValue?: unknown;
  outputData?: { name?: string | null; data?: unknown }[] | null;
}

export interface CoreProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: CoreInvocationContext): CoreInvocationModel;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export interface CoreInvocationContext {
  invocationId: string;
  request: {
    invocationId: string;
    functionId: string;
    inputData: { name: string; data: unknown }[];
    triggerMetadata: Record<string, unknown>;
    retryContext?: unknown;
    traceContext?: unknown;
  };
  metadata: { name: string; bindings: Record<string, BindingInfo>; functionId: string };
  state?: string;
  log(level: LogLevel, category: 'user' | 'system', message: string): void;
}

export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
type HookCallback = (context: Record<string, unknown>) => unknown;

interface RegisteredFunction {
  registration: FunctionRegistration;
  callback: FunctionCallback;
}

/**
 * What the app registered through `@azure/functions-core`, the module the Node worker provides.
 * One per process: registration is a side effect of requiring the app, which Node caches.
 */
export class CoreApiShim {
  readonly functions = new Map<string, RegisteredFunction>();
  programmingModel: CoreProgrammingModel | undefined;
  readonly hooks = new Map<HookName, Set<HookCallback>>();
  systemLog: (level: LogLevel, message: string) => void = () => {};

  readonly api = {
    version: '3.10.1',
    registerFunction: (
      metadata: { name: string; bindings: Record<string, BindingInfo> },
      callback: FunctionCallback,
    ) => this.#registerFunction(metadata, callback),
    setProgrammingModel: (model: CoreProgrammingModel) => {
      this.programmingModel = model;
    },
    getProgrammingModel: () => this.programmingModel,
    registerHook: (name: HookName, callback: HookCallback) => this.#registerHook(name, callback),
    log: (level: LogLevel, _category: string, message: string) => this.systemLog(level, message),
    Disposable: Disposable,
  };

  #registerFunction(
    metadata: { name: string; bindings: Record<string, BindingInfo> },
    callback: FunctionCallback,
  ): Disposable {
    const name = metadata.name;
    if (this.functions.has(name)) {
      throw new Error(`A function named "${name}" is already registered; function names must be unique.`);
    }
    const triggerEntry = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
    if (!triggerEntry) {
      throw new Error(`Function "${name}" has no trigger binding.`);
    }
    const [triggerBindingName, trigger] = triggerEntry;
    this.functions.set(name, {
      registration: {
        name,
        bindings: metadata.bindings,
        triggerBindingName,
        triggerType: trigger.type,
        trigger,
      },
      callback,
    });
    return new Disposable(() => this.functions.delete(name));
  }

  #registerHook(name: HookName, callback: HookCallback): Disposable {
    const set = this.hooks.get(name) ?? new Set<HookCallback>();
    this.hooks.set(name, set);
    set.add(callback);
    return new Disposable(() => set.delete(callback));
  }

  async runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.hooks.get(name) ?? []) {
      await hook(context);
    }
  }
}

export class Disposable {
  #dispose: (() => unknown) | undefined;
  constructor(dispose: () => unknown) {
    this.#dispose = dispose;
  }
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.#dispose?.();
    this.#dispose = undefined;
  }
}

let installed: CoreApiShim | undefined;

/** Serves `require('@azure/functions-core')` the way the Node worker does (setupCoreModule.ts). */
export function installCoreApiShim(): CoreApiShim {
  if (installed) return installed;
  const shim = new CoreApiShim();
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg: unknown, args: [string]) {
      if (args[0] === '@azure/functions-core') return shim.api;
      return Reflect.apply(target, thisArg, args);
    },
  });
  installed = shim;
  return shim;
}
