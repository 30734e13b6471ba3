// The app's own functions, composed as src/index.ts does, except that completion callbacks may go to a
// loopback receiver: a URL policy that exempts loopback, injected as a factory dependency (never from config).
const { app } = require('@azure/functions');
const df = require('durable-functions');
const dist = (file) => require(`../../../dist/src/${file}`);
const { createArtifactActivities } = dist('activities/artifacts.js');
const { createDefaultCallModelActivity } = dist('activities/callModel.js');
const { createCallbackActivity } = dist('activities/callback.js');
const { createCallbackRunActivities } = dist('activities/callbackRun.js');
const { getConfig } = dist('config.js');
const { DEFAULT_KNOWN_TOOLS } = dist('definitions/schema.js');
const { createGetRun } = dist('functions/getRun.js');
const { createRunStarter } = dist('functions/runStarter.js');
const { createStartWorkflow } = dist('functions/startWorkflow.js');
const { getModelConfig } = dist('models/config.js');
const { systemResolver } = dist('net/resolver.js');
const { Secret } = dist('models/secret.js');
const { agentLoopOrchestrator } = dist('orchestrators/agentLoop.js');
const { runWorkflowOrchestrator } = dist('orchestrators/runWorkflow.js');
const { runCallbackOrchestrator } = dist('orchestrators/completionCallback.js');
const { Names } = dist('shared/names.js');
const { knownRoles, loadWorkflowCatalog, workflowsDirectory } = dist('startup.js');

const config = getConfig();
/** The injected policy (src/net/urlPolicy.ts `UrlPolicy`): loopback is reachable, nothing else non-public. */
const urlPolicy = { resolver: systemResolver, exempts: (target) => target.range === 'loopback' };
const secret = new Secret(process.env.CALLBACK_TEST_SECRET);
const artifacts = createArtifactActivities({
  connection: () => config.storage,
  containerName: config.artifactsContainer,
});
const workflows = loadWorkflowCatalog({
  directory: workflowsDirectory(undefined),
  knownTools: [...DEFAULT_KNOWN_TOOLS],
  knownRoles: knownRoles(getModelConfig()),
});
const starter = createRunStarter({
  workflows,
  tools: () => ({}),
  callbacksEnabled: () => true,
  urlPolicy,
});

df.app.orchestration(Names.orchestrators.runWorkflow, runWorkflowOrchestrator);
df.app.orchestration(Names.orchestrators.agentLoop, agentLoopOrchestrator);
df.app.activity(Names.activities.callModel, {
  handler: createDefaultCallModelActivity((ref) => artifacts.loadJson(ref)),
});
df.app.activity(Names.activities.saveArtifact, { handler: artifacts.saveArtifact });
df.app.activity(Names.activities.sendCallback, {
  handler: createCallbackActivity({ signingSecret: () => secret, urlPolicy }),
});
df.app.orchestration(Names.orchestrators.runCallback, runCallbackOrchestrator);
const callbackRuns = createCallbackRunActivities({ getClient: df.getClient });
df.app.activity(Names.activities.startCallback, {
  handler: callbackRuns.startCallback,
  extraInputs: [df.input.durableClient()],
});
df.app.activity(Names.activities.readRunForCallback, {
  handler: callbackRuns.readRunForCallback,
  extraInputs: [df.input.durableClient()],
});
app.http(Names.http.startWorkflow, {
  route: 'workflows/{name}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: createStartWorkflow({
    workflows,
    tools: () => ({}),
    starter,
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
