'use strict';
// The bench:peers workloads as a durable-functions 3.x app, the way a user writes one: orchestrators
// call activities (the durable step), Task.all joins a fan-out. Runs unchanged on devhost or Azure.
// Docs: https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-sequence?pivots=javascript
// and https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-cloud-backup?pivots=javascript
/* global fetch -- Node's built-in fetch (Node >= 18) */
const df = require('durable-functions');

/** When the step ran, epoch ms with sub-ms precision (comparable across threads and processes). */
df.app.activity('stamp', { handler: () => performance.timeOrigin + performance.now() });
df.app.activity('noop', { handler: (input) => input });

/** One call to the loopback fake model; the reply text is the step's result. */
df.app.activity('callModel', {
  handler: async (input) => {
    const response = await fetch(input.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: `turn ${input.turn}` }] }),
    });
    if (!response.ok) throw new Error(`fake model answered HTTP ${response.status}`);
    const body = await response.json();
    return body.choices[0].message.content;
  },
});

df.app.orchestration('sequence', function* (context) {
  const steps = context.df.getInput();
  const stamps = [];
  for (let i = 0; i < steps; i++) stamps.push(yield context.df.callActivity('stamp', i));
  return stamps;
});

df.app.orchestration('fanOut', function* (context) {
  const width = context.df.getInput();
  const tasks = [];
  for (let i = 0; i < width; i++) tasks.push(context.df.callActivity('noop', i));
  const results = yield context.df.Task.all(tasks);
  return results.length;
});

df.app.orchestration('fiveSteps', function* (context) {
  const steps = context.df.getInput();
  for (let i = 0; i < steps; i++) yield context.df.callActivity('noop', i);
  return steps;
});

df.app.orchestration('agent', function* (context) {
  const { url, calls } = context.df.getInput();
  const replies = [];
  for (let turn = 0; turn < calls; turn++)
    replies.push(yield context.df.callActivity('callModel', { url, turn }));
  return replies.length;
});
