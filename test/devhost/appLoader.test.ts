import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFunctionsApp } from '../../devhost/functions/appLoader.js';
import type { FunctionsInvoker } from '../../devhost/functions/invoker.js';
import { valueFromTypedData } from '../../devhost/functions/typedData.js';

const appDir = path.resolve(__dirname, '../fixtures/basic-app');

describe('loadFunctionsApp', () => {
  let invoker: FunctionsInvoker;
  const logs: string[] = [];

  beforeAll(async () => {
    invoker = await loadFunctionsApp(appDir, { log: (level, message) => logs.push(`${level}: ${message}`) });
  });

  it('collects every registration with its trigger', () => {
    const triggers = Object.fromEntries([...invoker.registrations].map(([name, r]) => [name, r.triggerType]));
    expect(triggers).toEqual({
      hello: 'httpTrigger',
      double: 'activityTrigger',
      explode: 'activityTrigger',
      doubler: 'orchestrationTrigger',
    });
    expect(invoker.registrations.get('hello')?.trigger.route).toBe('hello/{name?}');
  });

  it('invokes an HTTP function through the library invocation model', async () => {
    const userLogs: string[] = [];
    const out = await invoker.invoke('hello', {
      trigger: {
        http: {
          method: 'GET',
          url: 'http://127.0.0.1:1/api/hello/ada',
          headers: {},
          query: {},
          params: { name: 'ada' },
        },
      },
      logSink: (_level, message) => userLogs.push(message),
    });
    const http = (out.returnValue as { http: { statusCode?: string; body?: { bytes?: Uint8Array } } }).http;
    expect(JSON.parse(Buffer.from(http.body?.bytes ?? []).toString('utf8'))).toEqual({
      hello: 'ada',
      method: 'GET',
    });
    expect(userLogs).toEqual(['hello called for ada']);
  });

  it('invokes an activity with JSON input and returns JSON', async () => {
    const out = await invoker.invoke('double', { trigger: { json: '21' } });
    expect(out.returnValue).toEqual({ int: 42 });
    expect(valueFromTypedData(out.returnValue)).toBe(42);
  });

  it('surfaces the function error', async () => {
    await expect(invoker.invoke('explode', { trigger: { json: 'null' } })).rejects.toThrow('boom');
  });

  it('rejects unknown functions by name', async () => {
    await expect(invoker.invoke('nope', { trigger: { json: '1' } })).rejects.toThrow(
      'No function named "nope"',
    );
  });
});
