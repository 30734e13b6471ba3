import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { createDocumentDigestActivities } from './activities/documentDigest.js';
import { getConfig } from './config.js';
import { createGetRun } from './functions/getRun.js';
import { createStartWorkflow } from './functions/startWorkflow.js';
import { documentDigestOrchestrator } from './orchestrators/documentDigest.js';
import { Names } from './shared/names.js';
import { workflows } from './shared/workflows.js';

const digest = createDocumentDigestActivities({ config: getConfig });

df.app.orchestration(Names.orchestrators.documentDigest, documentDigestOrchestrator);
df.app.activity(Names.activities.summarizeParagraph, { handler: digest.summarizeParagraph });
df.app.activity(Names.activities.composeDigest, { handler: digest.composeDigest });

app.http(Names.http.startWorkflow, {
  route: 'workflows/{name}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: createStartWorkflow({ workflows, getClient: df.getClient, config: getConfig }),
});

app.http(Names.http.getRun, {
  route: 'runs/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: createGetRun({ getClient: df.getClient }),
});
