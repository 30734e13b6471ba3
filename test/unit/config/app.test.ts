import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/app.js';
import { ConfigError } from '../../../src/config/section.js';

describe('parseConfig', () => {
  it('has working defaults with nothing set', () => {
    expect(parseConfig({})).toMatchObject({
      maxWaitSeconds: 60,
      workflowsDir: undefined,
      agentMaxTurns: 50,
      artifactsContainer: 'agent-artifacts',
      storage: undefined,
    });
  });

  it('reads and coerces settings, treating blank as unset', () => {
    expect(
      parseConfig({
        WORKFLOW_MAX_WAIT_SECONDS: ' 10 ',
        WORKFLOWS_DIR: ' ',
        ARTIFACTS_CONTAINER: 'run-files',
        AzureWebJobsStorage__accountName: 'mystorage',
      }),
    ).toMatchObject({
      maxWaitSeconds: 10,
      workflowsDir: undefined,
      artifactsContainer: 'run-files',
      storage: {
        kind: 'identity',
        blobServiceUri: 'https://mystorage.blob.core.windows.net',
        queueServiceUri: 'https://mystorage.queue.core.windows.net',
      },
    });
  });

  it('keeps the storage connection string out of logs', () => {
    const config = parseConfig({ AzureWebJobsStorage: 'AccountName=a;AccountKey=c2VjcmV0' });
    expect(config.storage?.kind).toBe('connection-string');
    expect(JSON.stringify(config)).not.toContain('c2VjcmV0');
    expect(inspect(config, { depth: 5 })).not.toContain('c2VjcmV0');
  });

  it('names every bad setting, its value and where to fix it', () => {
    let error: unknown;
    try {
      parseConfig({
        WORKFLOW_MAX_WAIT_SECONDS: 'soon',
        ARTIFACTS_CONTAINER: 'Bad_Name',
        AzureWebJobsStorage__blobServiceUri: 'not a url',
        AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(
      'WORKFLOW_MAX_WAIT_SECONDS must be a whole number between 0 and 230 (got "soon")',
    );
    expect(message).toContain('ARTIFACTS_CONTAINER must be a blob container name');
    expect(message).toContain('AzureWebJobsStorage__blobServiceUri must be an http(s) URL');
    expect(message).toContain('local.settings.json');
    expect((error as ConfigError).problems).toHaveLength(3);
  });
});
