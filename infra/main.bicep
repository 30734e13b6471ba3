// durable-agents on Azure Functions Flex Consumption (FC1, Linux, Node 22), for `azd up`.
//
// Adapted from Microsoft's azd samples (read, not copied; native resources instead of AVM modules so
// every property is visible here):
//   - Azure-Samples/functions-quickstart-typescript-azd (infra/main.bicep, infra/app/api.bicep,
//     infra/app/rbac.bicep): FC1 plan, functionAppConfig, user-assigned identity, identity-based
//     AzureWebJobsStorage, App Insights with AAD auth and Monitoring Metrics Publisher.
//   - Azure-Samples/Durable-Task-Scheduler (samples/durable-functions/dotnet/HelloCities/infra):
//     scheduler + task hub, Durable Task Data Contributor, the DTS connection string with
//     Authentication=ManagedIdentity;ClientID=….
//
// NOT compiled here (no Bicep CLI on this machine) and never deployed from here: `az bicep build`
// and `azd provision` are the first real checks. test/infra/appSettings.test.ts cross-checks the app
// settings below against the settings the app reads. See docs/operations.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; also seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region for every resource. Flex Consumption, the Durable Task Scheduler and the model deployments must all be offered there.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user (azd sets it): gets data access to storage, the scheduler dashboard and Key Vault secrets for debugging. Empty: none.')
param principalId string = ''

@description('Durable backend: dts (Durable Task Scheduler, default) or azureStorage (queues and tables in the app storage account).')
@allowed(['dts', 'azureStorage'])
param durableBackend string = 'dts'

@description('Task hub name: the scheduler task hub (dts) or the Azure Storage table/queue prefix (azureStorage). Letters and digits.')
param taskHubName string = 'durableagents'

@description('Durable Task Scheduler SKU: Consumption or Dedicated.')
@allowed(['Consumption', 'Dedicated'])
param schedulerSku string = 'Consumption'

@description('Flex Consumption instance memory in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Flex Consumption maximum instance count.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Foundry (AIServices) model deployments: [{ name, format, model, version, sku, capacity }]. Claude models come from the Foundry catalog; a model can be listed under several versions (hosted on Azure or on Anthropic), so check name, version and SKU there for your region.')
param foundryDeployments array = [
  { name: 'claude-opus-4-8', format: 'Anthropic', model: 'claude-opus-4-8', version: '1', sku: 'GlobalStandard', capacity: 1 }
  { name: 'claude-haiku-4-5', format: 'Anthropic', model: 'claude-haiku-4-5', version: '2', sku: 'GlobalStandard', capacity: 1 }
]

@description('Sent with each Anthropic deployment (modelProviderData): Azure refuses a Claude deployment without your organisation name, industry and two-letter country code (InvalidModelProviderData). They must be true; they accept Anthropic\'s terms through the Azure Marketplace.')
param claudeOrganizationName string = ''
param claudeIndustry string = ''
param claudeCountryCode string = ''

@description('Azure OpenAI model deployments: [{ name, format, model, version, sku, capacity }].')
param openAiDeployments array = [
  { name: 'gpt-5.4', format: 'OpenAI', model: 'gpt-5.4', version: '2026-03-05', sku: 'GlobalStandard', capacity: 50 }
]

@description('Model roles as MODEL_ROLE_<ROLE> values (<provider>:<deployment>); see src/models/README.md.')
param modelRoles object = {
  planner: 'foundry:claude-opus-4-8'
  worker: 'foundry:claude-haiku-4-5'
  writer: 'azure-openai:gpt-5.4'
}

@description('web_search provider: none, tavily, brave or claude.')
@allowed(['none', 'tavily', 'brave', 'claude'])
param webSearchProvider string = 'none'

@description('Pool management endpoint of an existing Azure Container Apps dynamic sessions pool for Python run_code (grant the app identity "Azure ContainerApps Session Executor" on it). Empty: Python run_code is off.')
param pythonSessionsPoolEndpoint string = ''

@secure()
@description('Tavily API key; stored in Key Vault and referenced from the app setting. Empty: not set.')
param tavilyApiKey string = ''

@secure()
@description('Brave Search API key; stored in Key Vault and referenced from the app setting. Empty: not set.')
param braveApiKey string = ''

@secure()
@description('HMAC key for completion callbacks (32+ characters); stored in Key Vault. Empty: callbacks are refused.')
param callbackSigningSecret string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'durable-agents-resources'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    principalId: principalId
    durableBackend: durableBackend
    taskHubName: taskHubName
    schedulerSku: schedulerSku
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    foundryDeployments: foundryDeployments
    claudeOrganizationName: claudeOrganizationName
    claudeIndustry: claudeIndustry
    claudeCountryCode: claudeCountryCode
    openAiDeployments: openAiDeployments
    modelRoles: modelRoles
    webSearchProvider: webSearchProvider
    pythonSessionsPoolEndpoint: pythonSessionsPoolEndpoint
    tavilyApiKey: tavilyApiKey
    braveApiKey: braveApiKey
    callbackSigningSecret: callbackSigningSecret
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = resources.outputs.functionAppName
output SERVICE_API_NAME string = resources.outputs.functionAppName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = resources.outputs.applicationInsightsConnectionString
output DURABLE_TASK_SCHEDULER_ENDPOINT string = resources.outputs.schedulerEndpoint
