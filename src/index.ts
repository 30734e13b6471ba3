import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { createArtifactActivities } from './activities/artifacts.js';
import { createDefaultCallModelActivity } from './activities/callModel.js';
import { getConfig } from './config.js';
import { createServeDashboard, dashboardAssetsDirectory } from './functions/dashboard/serveDashboard.js';
import { createGetRun } from './functions/getRun.js';
import { createStartWorkflow } from './functions/startWorkflow.js';
import { getModelConfig } from './models/config.js';
import { agentLoopOrchestrator } from './orchestrators/agentLoop.js';
import { runWorkflowOrchestrator } from './orchestrators/runWorkflow.js';
import type { ModelMessage } from './shared/modelTypes.js';
import { Names } from './shared/names.js';
import { describeStartup, knownRoles, loadWorkflowCatalog, workflowsDirectory } from './startup.js';
import { createToolRegistry } from './tools/registry.js';

// Runs when the Functions host indexes the app: a bad setting or workflow stops it here, all listed at once.
const config = getConfig();
const models = getModelConfig();
const artifacts = createArtifactActivities({
  connection: () => config.storage,
  containerName: config.artifactsContainer,
});
const tools = createToolRegistry({ artifacts, models: () => models });
const directory = workflowsDirectory(config.workflowsDir);
const workflows = loadWorkflowCatalog({
  directory,
  knownTools: tools.names(),
  knownRoles: knownRoles(models),
  maxAgentTurns: config.agentMaxTurns,
});

const startup = describeStartup({ directory, workflows, tools: tools.names(), models });
console.log(startup.info);
if (startup.warning) console.warn(startup.warning);

df.app.orchestration(Names.orchestrators.runWorkflow, runWorkflowOrchestrator);
df.app.orchestration(Names.orchestrators.agentLoop, agentLoopOrchestrator);
df.app.activity(Names.activities.callModel, {
  // callModel checks the transcript's shape itself.
  handler: createDefaultCallModelActivity((ref) => artifacts.loadJson(ref) as Promise<ModelMessage[]>),
});
df.app.activity(Names.activities.saveArtifact, { handler: artifacts.saveArtifact });
for (const tool of tools.registrations()) df.app.activity(tool.activityName, { handler: tool.handler });

app.http(Names.http.startWorkflow, {
  route: 'workflows/{name}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: createStartWorkflow({
    workflows,
    tools: () => tools.toolSpecs(),
    getClient: df.getClient,
    config: getConfig,
  }),
});

app.http(Names.http.getRun, {
  route: 'runs/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: createGetRun({ getClient: df.getClient }),
});

// The operator dashboard: an anonymous shell without data; its calls to the operator API carry the admin key.
const serveDashboard = createServeDashboard({ assetsDirectory: dashboardAssetsDirectory() });
app.http(Names.http.dashboard, {
  route: 'dashboard',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: serveDashboard,
});
app.http(Names.http.dashboardAsset, {
  route: 'dashboard/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: serveDashboard,
});
