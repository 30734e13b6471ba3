import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import * as df from 'durable-functions';
import type {
  BindingInfo,
  FunctionInvoker,
  FunctionRegistration,
  InvocationInput,
  InvocationOutput,
} from '../../devhost/functions/types.js';

export type FakeHandler = (
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit | HttpResponse | undefined> | HttpResponseInit | HttpResponse | undefined;

export interface FakeHttpFunction {
  name: string;
  route?: string;
  methods?: string[];
  authLevel?: 'anonymous' | 'function' | 'admin';
  durableClient?: boolean;
  handler: FakeHandler;
}

/**
 * A FunctionInvoker that decodes the trigger with the library's own HttpRequest (so the RPC shape
 * the server builds is the one @azure/functions consumes) and encodes the result like toRpcHttp.
 */
export class FakeInvoker implements FunctionInvoker {
  readonly registrations = new Map<string, FunctionRegistration>();
  readonly #functions = new Map<
    string,
    FakeHttpFunction & { clientInput?: ReturnType<typeof df.input.durableClient> }
  >();
  readonly invocations: { name: string; input: InvocationInput }[] = [];

  constructor(functions: FakeHttpFunction[]) {
    for (const f of functions) {
      const clientInput = f.durableClient ? df.input.durableClient() : undefined;
      const trigger: BindingInfo = {
        type: 'httpTrigger',
        direction: 'in',
        authLevel: f.authLevel ?? 'anonymous',
        methods: f.methods ?? ['GET', 'POST'],
        ...(f.route !== undefined ? { route: f.route } : {}),
      };
      const bindings: Record<string, BindingInfo> = {
        httpTrigger1: trigger,
        $return: { type: 'http', direction: 'out' },
      };
      if (clientInput) bindings[clientInput.name] = { type: 'durableClient', direction: 'in' };
      this.registrations.set(f.name, {
        name: f.name,
        bindings,
        triggerBindingName: 'httpTrigger1',
        triggerType: 'httpTrigger',
        trigger,
      });
      this.#functions.set(f.name, { ...f, clientInput });
    }
  }

  async invoke(functionName: string, input: InvocationInput): Promise<InvocationOutput> {
    this.invocations.push({ name: functionName, input });
    const f = this.#functions.get(functionName);
    if (!f) throw new Error(`no function ${functionName}`);
    const trigger = input.trigger;
    if (!trigger || !('http' in trigger)) throw new Error('expected an http trigger');
    const request = new HttpRequest(trigger.http);
    const context = new InvocationContext({
      functionName,
      options: {
        trigger: { type: 'httpTrigger', name: 'httpTrigger1' },
        extraInputs: f.clientInput ? [f.clientInput] : [],
      },
    });
    if (f.clientInput) {
      const data = input.extraInputs?.[f.clientInput.name];
      if (data && 'json' in data) context.extraInputs.set(f.clientInput, JSON.parse(data.json));
    }
    const result = await f.handler(request, context);
    if (result === undefined) return { outputData: [] };
    const response = result instanceof HttpResponse ? result : new HttpResponse(result);
    const headers: Record<string, string> = {};
    for (const [k, v] of response.headers.entries()) headers[k] = v;
    const cookies = response.cookies.map((c) => ({
      name: c.name,
      value: c.value,
      path: c.path === undefined ? undefined : { value: c.path },
      httpOnly: c.httpOnly === undefined ? undefined : { value: c.httpOnly },
      sameSite: c.sameSite === 'Lax' ? 'lax' : 'none',
    }));
    const body = new Uint8Array(await response.arrayBuffer());
    return {
      returnValue: { http: { statusCode: String(response.status), headers, cookies, body: { bytes: body } } },
      outputData: [],
    };
  }
}
