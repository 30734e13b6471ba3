import { describe, expect, it } from 'vitest';
import {
  azuriteConnectionString,
  DEV_ACCOUNT_KEY,
  parseStorageConnectionString,
  resolveStorageConnection,
  usesDevelopmentStorage,
} from '../../devhost/storage/connection.js';
import { queuesOptionsFromHostJson, parseTimeSpan } from '../../devhost/storage/queueOptions.js';

const explicit =
  'DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:4567/acct/;BlobEndpoint=http://127.0.0.1:4566/acct';

describe('resolveStorageConnection', () => {
  it('defaults to AzureWebJobsStorage and expands UseDevelopmentStorage=true to the Azurite account', () => {
    const c = resolveStorageConnection(undefined, { AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(c.settingName).toBe('AzureWebJobsStorage');
    expect(c.isDevelopmentStorage).toBe(true);
    expect(c.accountName).toBe('devstoreaccount1');
    expect(c.queueEndpoint).toBe('http://127.0.0.1:10001/devstoreaccount1');
    expect(c.connectionString).toBe(azuriteConnectionString());
    expect(c.connectionString).toContain(`AccountKey=${DEV_ACCOUNT_KEY}`);
  });

  it.each([
    ['MyConn', { AzureWebJobsMyConn: explicit, MyConn: 'UseDevelopmentStorage=true' }, 'AzureWebJobsMyConn'],
    ['MyConn', { MyConn: explicit }, 'MyConn'],
    ['MyConn', { myconn: explicit }, 'MyConn'],
    ['MyConn', { ConnectionStrings__MyConn: explicit }, 'MyConn'],
    ['AzureWebJobsStorage', { AzureWebJobsStorage: explicit }, 'AzureWebJobsStorage'],
    ['', { AzureWebJobsStorage: explicit }, 'AzureWebJobsStorage'],
  ])('looks up %j with the AzureWebJobs prefix first (%j)', (name, env, settingName) => {
    const c = resolveStorageConnection(name, env);
    expect(c.settingName).toBe(settingName);
    expect(c.queueEndpoint).toBe('http://127.0.0.1:4567/acct');
    expect(c.accountName).toBe('acct');
  });

  it('names the missing setting', () => {
    expect(() => resolveStorageConnection('Missing', {})).toThrow(
      /"Missing" is not configured.*AzureWebJobsMissing or Missing/,
    );
  });

  it('rejects identity-based connections clearly', () => {
    expect(() =>
      resolveStorageConnection('Ident', { Ident__queueServiceUri: 'https://a.queue.core.windows.net' }),
    ).toThrow(/identity-based \(Ident__queueServiceUri\).*connection strings only/);
  });
});

describe('parseStorageConnectionString', () => {
  it('derives endpoints from AccountName + EndpointSuffix', () => {
    const c = parseStorageConnectionString(
      'DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=k==;EndpointSuffix=core.windows.net',
    );
    expect(c.queueEndpoint).toBe('https://prod.queue.core.windows.net');
    expect(c.blobEndpoint).toBe('https://prod.blob.core.windows.net');
    expect(c.connectionString).toContain('AccountKey=k==');
  });

  it('accepts SAS connection strings with explicit endpoints', () => {
    const c = parseStorageConnectionString(
      'QueueEndpoint=https://x.queue.core.windows.net/;SharedAccessSignature=sv=2024&sig=abc',
    );
    expect(c.accountName).toBe('x');
    expect(c.connectionString).toContain('SharedAccessSignature=sv=2024&sig=abc');
  });

  it.each([
    ['AccountName=a', /neither AccountKey nor SharedAccessSignature/],
    ['garbage', /"garbage" is not Key=Value/],
    ['AccountName=a;AccountKey=k;QueueEndpoint=not a url', /queueEndpoint "not a url" is not a URL/],
    ['UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://x', /DevelopmentStorageProxyUri/],
  ])('rejects %j', (value, message) => {
    expect(() => parseStorageConnectionString(value, 'S')).toThrow(message);
  });

  it('detects development storage', () => {
    expect(usesDevelopmentStorage({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toBe(true);
    expect(usesDevelopmentStorage({ AzureWebJobsStorage: explicit })).toBe(false);
    expect(usesDevelopmentStorage({})).toBe(false);
  });
});

describe('host.json extensions.queues', () => {
  it('reads the repo host.json shape', () => {
    const o = queuesOptionsFromHostJson({
      extensions: {
        queues: {
          maxDequeueCount: 5,
          visibilityTimeout: '00:00:30',
          batchSize: 16,
          maxPollingInterval: '00:00:02',
        },
      },
    });
    expect(o).toMatchObject({
      maxDequeueCount: 5,
      visibilityTimeoutMs: 30_000,
      batchSize: 16,
      maxPollingIntervalMs: 2000,
      messageEncoding: 'base64',
    });
    expect(o.newBatchThreshold).toBeGreaterThanOrEqual(8);
  });

  it('uses host defaults (and a 2 s local max polling interval) when absent', () => {
    expect(queuesOptionsFromHostJson({})).toMatchObject({
      batchSize: 16,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      maxPollingIntervalMs: 2000,
    });
    expect(
      queuesOptionsFromHostJson({
        extensions: { queues: { messageEncoding: 'None', maxPollingInterval: 500 } },
      }),
    ).toMatchObject({
      messageEncoding: 'none',
      maxPollingIntervalMs: 500,
    });
  });

  it('lists each invalid setting with its path', () => {
    expect(() =>
      queuesOptionsFromHostJson({ extensions: { queues: { batchSize: 64, visibilityTimeout: '30s' } } }),
    ).toThrow(
      /extensions\.queues\.batchSize[\s\S]*extensions\.queues\.visibilityTimeout: visibilityTimeout "30s" is not a TimeSpan/,
    );
  });

  it.each([
    ['00:00:30', 30_000],
    ['00:05', 300_000],
    ['1.02:00:00', 26 * 3_600_000],
    ['00:00:00.5', 500],
    ['24:00:00', undefined],
    ['30', undefined],
  ])('parses TimeSpan %j', (text, ms) => {
    expect(parseTimeSpan(text)).toBe(ms);
  });
});
