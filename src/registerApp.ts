import { app, trigger } from '@azure/functions';
import * as df from 'durable-functions';
import { clientFromConnection, createArtifactActivities } from './activities/artifacts.js';
import { createBatchIo } from './activities/batchJobIo.js';
import { createRunOutputReader } from './activities/runOutputs.js';
import { createDefaultCallModelActivity } from './activities/callModel.js';
import { createCallbackActivity } from './activities/callback.js';
import { createCallbackRunActivities } from './activities/callbackRun.js';
import { createPayloadStore } from './activities/payloadStore.js';
import { createTranscriptActivities } from './activities/transcripts.js';
import { createDefaultModelBatchActivities } from './activities/providerBatch.js';
import { loadSettings } from './config/index.js';
import type { Env } from './config/section.js';
import { createServeDashboard, dashboardAssetsDirectory } from './functions/dashboard/serveDashboard.js';
import { sharedDurableClients } from './functions/durableClients.js';
import { createGetRun } from './functions/getRun.js';
import { createGetCallDetail } from './functions/operator/getCallDetail.js';
import { createGetRunDetail } from './functions/operator/getRunDetail.js';
import { createExportRun } from './functions/operator/exportRun.js';
import { createListRuns } from './functions/operator/listRuns.js';
import { createListWorkflows } from './functions/operator/listWorkflows.js';
import { createPurgeRuns } from './functions/operator/purgeRuns.js';
import { createRunAction } from './functions/operator/runActions.js';
import { createOpenApi } from './functions/openapi.js';
import { createPoisonQueue } from './functions/queue/poisonQueue.js';
import { guardDeepQueueMessages } from './functions/queue/deepMessageGuard.js';
import { createWorkflowRequestsHandler } from './functions/queue/workflowRequests.js';
import { createRunStarter } from './functions/runStarter.js';
import { createBusinessRunAction } from './functions/runActions.js';
import { createStartWorkflow } from './functions/startWorkflow.js';
import { createMcpEndpoint } from './functions/mcpEndpoint.js';
import { batchRouteProblem } from './models/providerBatch.js';
import { fileLimitsFor, unpricedProblem } from './models/unpriced.js';
import { createBlobFileIntake, createBlobFiles } from './files/blobFiles.js';
import { sharedCredentials } from './azure/storageClients.js';
import { createUrlPolicy, type UrlPolicy } from './net/urlPolicy.js';
import { createBlobAuditStore } from './operator/auditStore.js';
import { orchestratorRegistrations } from './orchestrators/registrations.js';
import { mcpActivityName, Names } from './shared/names.js';
import {
  describeStartup,
  knownRoles,
  loadWorkflowCatalog,
  toolsDirectory,
  workflowsDirectory,
} from './startup.js';
import { startTelemetry } from './telemetry/setup.js';
import { tracedToolCall, withTriggerTrace } from './telemetry/spans.js';
import { customToolSource } from './tools/customTools.js';
import { httpToolSource } from './tools/http/httpToolSource.js';
import { appTokenProvider, createToolRegistry } from './tools/registry.js';
import { createAppMcpTools, describeMcpStates } from './tools/mcp/appMcpTools.js';

/** What a test app changes of the app src/index.ts registers; production passes only `env`. */
export interface AppOverrides {
  /** The app settings (src/index.ts passes `process.env`; src/config/ reads every one). */
  readonly env: Env;
  /**
   * TEST ONLY: the URL policy every outbound request goes through (src/net), e.g. one that exempts
   * loopback so tests can run their receivers there. Never set from configuration: production builds it
   * from `URL_POLICY_ALLOW_HOSTS`.
   */
  readonly urlPolicy?: UrlPolicy;
}

/**
 * Registers every function of the app with the Functions host: triggers, orchestrators, activities and
 * tools, each handler built by its factory from plain settings. src/index.ts calls it once; a test app
 * calls it with its overrides instead of copying this wiring (test/business/callback-app).
 */
export function registerApp(overrides: AppOverrides): void {
  // Runs when the Functions host indexes the app: a bad setting or workflow stops it here, all listed at once.
  // Every setting is read here, once (src/config/); the factories below get plain values.
  const settings = loadSettings(overrides.env);
  const { app: config, models } = settings;
  // Tracing first (OTEL_* / APPLICATIONINSIGHTS_CONNECTION_STRING, src/telemetry/README.md); flushed on exit.
  const telemetry = startTelemetry(settings.telemetry);
  app.hook.appTerminate(() => telemetry.shutdown());
  const artifacts = createArtifactActivities({
    connection: () => config.storage,
    containerName: config.artifactsContainer,
  });
  // One URL policy for every outbound request: operator endpoints may reach URL_POLICY_ALLOW_HOSTS (src/net).
  const urlPolicy = overrides.urlPolicy ?? createUrlPolicy({ allowHosts: config.urlPolicyAllowHosts });
  const directory = workflowsDirectory(config.workflowsDir);
  // Bearer tokens from the app's identity, one cached provider per scope: HTTP tools and MCP servers share it.
  const tokens = appTokenProvider(sharedCredentials, overrides.env);
  // Beyond the built-ins: HTTP tools declared in tools/*.yaml and TypeScript tools in src/tools/custom/.
  const tools = createToolRegistry({
    artifacts,
    models,
    web: settings.web,
    runCode: settings.runCode,
    urlPolicy,
    sources: [
      httpToolSource({
        directory: toolsDirectory(config.toolsDir, directory),
        env: overrides.env,
        urlPolicy,
        tokenFor: tokens,
      }),
      customToolSource(),
    ],
  });
  // MCP_SERVERS: their tools (`<server>__<tool>`) are listed in the background; runs using them wait for it.
  const mcp = createAppMcpTools(settings.mcp, urlPolicy, tokens);
  const workflows = loadWorkflowCatalog({
    directory,
    knownTools: tools.names(),
    isRuntimeTool: (name) => mcp.tools.owns(name),
    knownRoles: knownRoles(models),
    maxAgentTurns: config.agentMaxTurns,
    batchRouteProblem: batchRouteProblem(models),
  });

  // File references in run inputs: checked and stored before a run starts; callModel reads them back.
  const fileStore = {
    connection: () => config.storage,
    artifactsContainer: () => config.artifactsContainer,
    allowedContainers: () => config.fileBlobContainers,
  };
  const blobFiles = createBlobFiles(fileStore);

  // The one path HTTP, queue and batch starts share.
  const starter = createRunStarter({
    files: {
      intake: createBlobFileIntake(blobFiles, fileStore, { urlPolicy }),
      limits: fileLimitsFor(models),
    },
    workflows,
    tools: () => ({ ...tools.toolSpecs(), ...mcp.tools.specs() }),
    toolProblem: (names) => mcp.tools.check(names),
    callbacksEnabled: () => config.callbackSigningSecret !== undefined,
    modelBatch: models.batchPolling,
    unpricedProblem: unpricedProblem(models),
    urlPolicy,
  });

  // One DurableClient per distinct client binding, for every trigger that starts or reads runs.
  const getClient = sharedDurableClients(df.getClient);

  const startup = describeStartup({ directory, workflows, tools: tools.names(), models });
  console.log(startup.info);
  console.log(`Telemetry: ${telemetry.description}`);
  if (startup.warning) console.warn(startup.warning);
  if (mcp.servers.length > 0) {
    void mcp.tools.discover().then((states) => {
      const described = describeMcpStates(states, workflows);
      if (described.info) console.log(described.info);
      if (described.warning) console.warn(described.warning);
    });
  }

  // runWorkflow, agentLoop, runBatch and runBatchLane (the replayer in src/replay/ drives the same list).
  for (const [name, handler] of Object.entries(orchestratorRegistrations))
    df.app.orchestration(name, handler);
  // Claim check: transcripts too large for history live in the artifacts container, by reference.
  const payloads = createPayloadStore({
    connection: () => config.storage,
    containerName: config.artifactsContainer,
  });
  const transcripts = createTranscriptActivities(payloads);
  df.app.activity(Names.activities.callModel, {
    // callModel checks the transcript's shape itself; `{ blobRef }` comes from runs older than the claim check.
    handler: createDefaultCallModelActivity(models, {
      resolvePayload: (ref) => payloads.load(ref),
      resolveBlob: (ref) => artifacts.loadJson(ref),
      readFile: (ref, maxBytes) => blobFiles.readRef(ref, maxBytes),
    }),
  });
  df.app.activity(Names.activities.saveArtifact, { handler: artifacts.saveArtifact });
  df.app.activity(Names.activities.appendTranscript, { handler: transcripts.appendTranscript });
  df.app.activity(Names.activities.prepareCompaction, { handler: transcripts.prepareCompaction });
  df.app.activity(Names.activities.finishCompaction, { handler: transcripts.finishCompaction });
  // Provider batches for `batch: true` llm steps: submit, poll, collect, cancel; the waits are durable timers.
  const modelBatches = createDefaultModelBatchActivities(models);
  df.app.activity(Names.activities.submitModelBatch, { handler: modelBatches.submitModelBatch });
  df.app.activity(Names.activities.pollModelBatch, { handler: modelBatches.pollModelBatch });
  df.app.activity(Names.activities.collectModelBatchResults, {
    handler: modelBatches.collectModelBatchResults,
  });
  df.app.activity(Names.activities.cancelModelBatch, { handler: modelBatches.cancelModelBatch });
  for (const tool of tools.registrations()) {
    df.app.activity(tool.activityName, { handler: tracedToolCall(tool.handler) });
  }
  for (const server of mcp.servers) {
    df.app.activity(mcpActivityName(server), { handler: tracedToolCall((input) => mcp.tools.call(input)) });
  }

  app.http(Names.http.startWorkflow, {
    route: 'workflows/{name}',
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: withTriggerTrace(
      'http',
      createStartWorkflow({
        workflows,
        tools: () => tools.toolSpecs(),
        starter,
        getClient,
        config: () => config,
      }),
    ),
  });

  // The workflows as MCP tools for other agents (function key; stateless streamable HTTP; README "MCP").
  app.http(Names.http.mcp, {
    route: 'mcp',
    methods: ['POST', 'GET', 'DELETE'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: createMcpEndpoint({
      workflows,
      starter,
      getClient,
      maxWaitSeconds: () => config.maxWaitSeconds,
    }),
  });

  // The business callers' own approve/reject/cancel of their runs (function key), recorded in the audit log.
  const audit = createBlobAuditStore({ blobServiceClient: () => clientFromConnection(config.storage) });
  app.http(Names.http.runAction, {
    route: 'runs/{id}/{action}',
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: createBusinessRunAction({ getClient, audit }),
  });

  app.http(Names.http.getRun, {
    route: 'runs/{id}',
    methods: ['GET'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: createGetRun({ getClient }),
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

  // The operator API (admin key): list, inspect and act on runs; every action is recorded in the audit log.
  const operator = {
    getClient,
    audit,
  };
  app.http(Names.http.operatorListRuns, {
    route: 'operator/runs',
    methods: ['GET'],
    authLevel: 'admin',
    extraInputs: [df.input.durableClient()],
    handler: createListRuns(operator),
  });
  app.http(Names.http.operatorGetRun, {
    route: 'operator/runs/{id}',
    methods: ['GET'],
    authLevel: 'admin',
    extraInputs: [df.input.durableClient()],
    handler: createGetRunDetail(operator),
  });
  app.http(Names.http.operatorRunAction, {
    route: 'operator/runs/{id}/{action}',
    methods: ['POST'],
    authLevel: 'admin',
    extraInputs: [df.input.durableClient()],
    handler: createRunAction(operator),
  });
  // A run's histories and definition for `durable-agents replay` (src/replay/README.md).
  app.http(Names.http.operatorExportRun, {
    route: 'operator/runs/{id}/export',
    methods: ['GET'],
    authLevel: 'admin',
    extraInputs: [df.input.durableClient()],
    handler: createExportRun({ ...operator, workflowsDirectory: directory }),
  });
  app.http(Names.http.operatorGetCall, {
    route: 'operator/runs/{id}/calls/{eventId}',
    methods: ['GET'],
    authLevel: 'admin',
    extraInputs: [df.input.durableClient()],
    handler: createGetCallDetail(operator),
  });
  app.http(Names.http.operatorListWorkflows, {
    route: 'operator/workflows',
    methods: ['GET'],
    authLevel: 'admin',
    handler: createListWorkflows({ workflows }),
  });
  app.http(Names.http.operatorPurge, {
    route: 'operator/purge',
    methods: ['POST'],
    authLevel: 'admin',
    extraInputs: [df.input.durableClient()],
    handler: createPurgeRuns(operator),
  });

  // Business entry points beyond the starter: completion callbacks, the OpenAPI document, queue-driven runs and batches.
  df.app.activity(Names.activities.sendCallback, {
    handler: createCallbackActivity({
      signingSecret: () => config.callbackSigningSecret,
      urlPolicy,
    }),
  });
  // A run's callback is its own orchestration (`<id>:callback`, registered with the others), so delivering it
  // never holds the run's status.
  const callbackRuns = createCallbackRunActivities({ getClient });
  df.app.activity(Names.activities.startCallback, {
    handler: callbackRuns.startCallback,
    extraInputs: [df.input.durableClient()],
  });
  df.app.activity(Names.activities.readRunForCallback, {
    handler: callbackRuns.readRunForCallback,
    extraInputs: [df.input.durableClient()],
  });
  const batchIo = createBatchIo({
    connection: () => config.storage,
    allowedContainers: () => config.queueBlobContainers,
    runOutputs: createRunOutputReader({ getClient }),
  });
  df.app.activity(Names.activities.countBatchItems, { handler: batchIo.countBatchItems });
  df.app.activity(Names.activities.readBatchItems, { handler: batchIo.readBatchItems });
  // Reads the page's item outputs back from their runs, through the durable client.
  df.app.activity(Names.activities.writeBatchResults, {
    handler: batchIo.writeBatchResults,
    extraInputs: [df.input.durableClient()],
  });
  df.app.activity(Names.activities.finishBatch, { handler: batchIo.finishBatch });

  app.http(Names.http.openApi, {
    route: 'openapi.json',
    methods: ['GET'],
    authLevel: 'function',
    handler: createOpenApi({ workflows, maxWaitSeconds: () => config.maxWaitSeconds }),
  });

  // Bytes, not text: the host would turn invalid UTF-8 into U+FFFD, which the handler could not tell apart
  // (the binding's `dataType`: https://learn.microsoft.com/azure/azure-functions/functions-triggers-bindings;
  // the queue extension binds byte[] as the decoded message body, StorageQueueMessageToByteArrayConverter).
  const workflowRequestsTrigger = {
    queueName: config.workflowRequestsQueue,
    connection: 'AzureWebJobsStorage',
    dataType: 'binary',
  };
  app.storageQueue(Names.queues.workflowRequests, {
    ...workflowRequestsTrigger,
    trigger: trigger.storageQueue(workflowRequestsTrigger),
    extraInputs: [df.input.durableClient()],
    handler: withTriggerTrace(
      'queue',
      createWorkflowRequestsHandler({
        starter,
        getClient,
        poison: createPoisonQueue({
          queueName: config.workflowRequestsQueue,
          connection: () => config.storage,
        }),
        blobExists: (blobRef) => batchIo.exists(blobRef),
        resultsContainer: () => config.artifactsContainer,
        allowedContainers: () => config.queueBlobContainers,
        queueName: config.workflowRequestsQueue,
      }),
    ),
  });
  guardDeepQueueMessages([Names.queues.workflowRequests]);
}
