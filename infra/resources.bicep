// Every resource of one durable-agents environment, in its resource group (main.bicep creates it).
// Sources for each part are named where it is declared; main.bicep lists the samples this follows.
// Not compiled here: see main.bicep.

param location string
param tags object
param resourceToken string
param principalId string
param durableBackend string
param taskHubName string
param schedulerSku string
param instanceMemoryMB int
param maximumInstanceCount int
param foundryDeployments array
param claudeOrganizationName string
param claudeIndustry string
param claudeCountryCode string
param openAiDeployments array
param modelRoles object
param webSearchProvider string
param pythonSessionsPoolEndpoint string
@secure()
param tavilyApiKey string
@secure()
param braveApiKey string
@secure()
param callbackSigningSecret string

var useDts = durableBackend == 'dts'
var functionAppName = 'func-${resourceToken}'
// Flex Consumption reads the app package from this container, through the identity below.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

// ---- Identity: the one principal the host, the app's SDK clients and the deployment use.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

// ---- Storage: AzureWebJobsStorage (host, Azure Storage backend, queue trigger), artifacts, the package.
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false // identity only, as the quickstart sample sets it
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
}

// ---- Monitoring: Log Analytics + workspace-based Application Insights, local (key) auth off.
resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true // telemetry must carry an Entra token: APPLICATIONINSIGHTS_AUTHENTICATION_STRING
  }
}

// ---- Durable Task Scheduler (default backend), as in Durable-Task-Scheduler's HelloCities infra/app/dts.bicep.
resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = if (useDts) {
  name: 'dts-${resourceToken}'
  location: location
  tags: tags
  properties: {
    ipAllowlist: ['0.0.0.0/0']
    sku: schedulerSku == 'Dedicated' ? { name: 'Dedicated', capacity: 1 } : { name: 'Consumption' }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskhubs@2025-11-01' = if (useDts) {
  parent: scheduler
  name: taskHubName
}

// ---- Models: a Foundry (AIServices) account for Claude and an Azure OpenAI account for GPT, keys off.
resource foundry 'Microsoft.CognitiveServices/accounts@2025-06-01' = {
  name: 'aif-${resourceToken}'
  location: location
  tags: tags
  kind: 'AIServices'
  sku: { name: 'S0' }
  properties: {
    customSubDomainName: 'aif-${resourceToken}' // FOUNDRY_RESOURCE: https://<name>.services.ai.azure.com
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// Anthropic deployments must carry modelProviderData, which the stable API's types do not list yet;
// the preview API version accepts it (seen in public Claude-on-Foundry templates; unverified here).
@batchSize(1)
resource foundryModels 'Microsoft.CognitiveServices/accounts/deployments@2026-05-15-preview' = [
  for d in foundryDeployments: {
    parent: foundry
    name: d.name
    sku: { name: d.sku, capacity: d.capacity }
    properties: d.format == 'Anthropic' ? {
      model: { format: d.format, name: d.model, version: d.version }
      #disable-next-line BCP037
      modelProviderData: {
        organizationName: claudeOrganizationName
        industry: claudeIndustry
        countryCode: claudeCountryCode
      }
    } : { model: { format: d.format, name: d.model, version: d.version } }
  }
]

resource openAi 'Microsoft.CognitiveServices/accounts@2025-06-01' = {
  name: 'oai-${resourceToken}'
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: { name: 'S0' }
  properties: {
    customSubDomainName: 'oai-${resourceToken}'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

@batchSize(1)
resource openAiModels 'Microsoft.CognitiveServices/accounts/deployments@2025-06-01' = [
  for d in openAiDeployments: {
    parent: openAi
    name: d.name
    sku: { name: d.sku, capacity: d.capacity }
    properties: { model: { format: d.format, name: d.model, version: d.version } }
  }
]

// ---- Key Vault (RBAC) for third-party keys; the app settings hold @Microsoft.KeyVault references.
resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    publicNetworkAccess: 'Enabled'
  }
}

resource tavilySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(tavilyApiKey)) {
  parent: keyVault
  name: 'tavily-api-key'
  properties: { value: tavilyApiKey }
}

resource braveSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(braveApiKey)) {
  parent: keyVault
  name: 'brave-api-key'
  properties: { value: braveApiKey }
}

resource callbackSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(callbackSigningSecret)) {
  parent: keyVault
  name: 'callback-signing-secret'
  properties: { value: callbackSigningSecret }
}

// A reference without a version follows the latest secret version
// (https://learn.microsoft.com/azure/app-service/app-service-key-vault-references). Only secrets that exist
// are referenced: an unresolvable reference would reach the app as the literal "@Microsoft.KeyVault(…)" text.
var secretsUri = '${keyVault.properties.vaultUri}secrets'

// ---- Flex Consumption plan and app (FC1, Linux), as the quickstart's infra/app/api.bicep.
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id // Key Vault references resolve as the user-assigned identity
    siteConfig: { minTlsVersion: '1.2' }
    // Flex Consumption: runtime, scale and package location live here, not in app settings
    // (no FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION or WEBSITE_RUN_FROM_PACKAGE).
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// app-settings:begin
// test/infra/appSettings.test.ts reads the app setting names between these markers: every line
// `  NAME: value` (a key at the start of a line, quoted or not) inside the objects below, and
// `'PREFIX_${…}'` keys as a family. Keep one setting per line and nothing else keyed in this block.
var hostSettings = {
  // Identity-based AzureWebJobsStorage (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // The app's own SDK clients (DefaultAzureCredential) pick the user-assigned identity from this.
  AZURE_CLIENT_ID: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  // The app's spans go to the same Application Insights (src/telemetry/README.md); prompts, answers and
  // tool arguments stay off them unless an operator sets this to true.
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'false'
  // One host.json for both backends: app settings override it (functions-app-settings#azurefunctionsjobhost__).
  AzureFunctionsJobHost__extensions__durableTask__hubName: taskHubName
}
var dtsSettings = useDts ? {
  // Connection string format from Durable-Task-Scheduler's samples (Authentication=ManagedIdentity;ClientID=…).
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${scheduler.properties.endpoint};Authentication=ManagedIdentity;ClientID=${identity.properties.clientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
} : {}
var modelSettings = {
  // A deployed app never answers with the offline model's placeholders.
  OFFLINE_MODEL: 'off'
  FOUNDRY_RESOURCE: foundry.name
  FOUNDRY_USE_ENTRA: 'true'
  AZURE_OPENAI_ENDPOINT: openAi.properties.endpoint
  AZURE_OPENAI_USE_ENTRA: 'true'
}
var roleSettings = reduce(items(modelRoles), {}, (acc, role) => union(acc, {
  'MODEL_ROLE_${toUpper(role.key)}': role.value
}))
var toolSettings = union(
  {
    WEB_SEARCH_PROVIDER: webSearchProvider
    // The Functions images have no bubblewrap: Python run_code uses a Container Apps session pool or is off.
    RUN_CODE_PYTHON: empty(pythonSessionsPoolEndpoint) ? 'off' : 'container-apps'
  },
  empty(pythonSessionsPoolEndpoint) ? {} : {
    ACA_SESSIONS_POOL_ENDPOINT: pythonSessionsPoolEndpoint
  },
  empty(tavilyApiKey) ? {} : {
    TAVILY_API_KEY: '@Microsoft.KeyVault(SecretUri=${secretsUri}/tavily-api-key/)'
  },
  empty(braveApiKey) ? {} : {
    BRAVE_API_KEY: '@Microsoft.KeyVault(SecretUri=${secretsUri}/brave-api-key/)'
  },
  empty(callbackSigningSecret) ? {} : {
    CALLBACK_SIGNING_SECRET: '@Microsoft.KeyVault(SecretUri=${secretsUri}/callback-signing-secret/)'
  }
)
// app-settings:end

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(hostSettings, dtsSettings, modelSettings, roleSettings, toolSettings)
  // The host starts with these settings: give it its data roles and secrets first.
  dependsOn: [
    blobOwner
    queueContributor
    tableContributor
    metricsPublisher
    schedulerContributor
    taskHub
    keyVaultSecretsUser
    foundryUser
    openAiUser
    tavilySecret
    braveSecret
    callbackSecret
    foundryModels
    openAiModels
  ]
}

// ---- Role assignments for the app's identity (and the deploying user, for debugging).
var appPrincipal = identity.properties.principalId

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource schedulerContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useDts) {
  name: guid(resourceGroup().id, 'dts', identity.id, roles.durableTaskDataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource foundryUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(foundry.id, identity.id, roles.cognitiveServicesUser)
  scope: foundry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource openAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openAi.id, identity.id, roles.cognitiveServicesOpenAIUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAIUser)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appPrincipal
    principalType: 'ServicePrincipal'
  }
}

resource userBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    principalType: 'User'
  }
}

resource userSchedulerContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useDts && !empty(principalId)) {
  name: guid(resourceGroup().id, 'dts', principalId, roles.durableTaskDataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: principalId
    principalType: 'User'
  }
}

output functionAppName string = functionApp.name
output applicationInsightsConnectionString string = appInsights.properties.ConnectionString
output schedulerEndpoint string = useDts ? scheduler.properties.endpoint : ''
