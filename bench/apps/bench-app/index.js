'use strict';
// Benchmark app: no-op activities that stamp when they ran, read by bench/run.ts in-process.
const df = require('durable-functions');

const stamps = (globalThis.__benchStamps = new Map());

df.app.activity('noop', {
  handler: (input) => {
    if (input && input.stamp) stamps.set(input.stamp, performance.now());
    return input && input.i;
  },
});

df.app.orchestration('sequence200', function* (context) {
  const steps = context.df.getInput();
  for (let i = 1; i <= steps; i++) {
    yield context.df.callActivity('noop', { i, stamp: `${context.df.instanceId}:${i}` });
  }
  return steps;
});

df.app.orchestration('fanOut', function* (context) {
  const n = context.df.getInput();
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(context.df.callActivity('noop', { i }));
  const results = yield context.df.Task.all(tasks);
  return results.length;
});

df.app.orchestration('fiveSteps', function* (context) {
  for (let i = 0; i < 5; i++) yield context.df.callActivity('noop', { i });
  return 5;
});
