'use strict';
// Benchmark app: no-op activities; the sequence returns when each step ran (epoch ms, sub-ms precision),
// since the app runs in a language worker thread and bench/run.ts reads its output.
const df = require('durable-functions');

df.app.activity('noop', { handler: (input) => input && input.i });
df.app.activity('stamp', { handler: () => performance.timeOrigin + performance.now() });

df.app.orchestration('sequence200', function* (context) {
  const steps = context.df.getInput();
  const stamps = [];
  for (let i = 1; i <= steps; i++) stamps.push(yield context.df.callActivity('stamp', i));
  return stamps;
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
