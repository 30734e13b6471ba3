/**
 * Blob and queue service clients for the app's storage connection (`AzureWebJobsStorage`): the connection
 * string as given, or the identity-based endpoints with the credential the connection names
 * (src/azure/credentials.ts). Never derives one endpoint from the other.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import type { StorageConnection } from '../config/app.js';
import { cachedCredentials, type CredentialFactory } from './credentials.js';

/** The process's credentials: one per identity, so all clients on it share a token cache. */
export const sharedCredentials: CredentialFactory = cachedCredentials();

export class StorageNotConfiguredError extends Error {
  readonly code = 'not_configured';
  constructor(service: 'Blob' | 'Queue') {
    super(
      `${service} storage is not configured: set AzureWebJobsStorage (locally UseDevelopmentStorage=true, with Azurite), ` +
        'or AzureWebJobsStorage__accountName (or __blobServiceUri and __queueServiceUri) for an identity-based connection',
    );
    this.name = new.target.name;
  }
}

export function blobServiceFor(
  connection: StorageConnection | undefined,
  credentials: CredentialFactory = sharedCredentials,
): BlobServiceClient {
  if (!connection) throw new StorageNotConfiguredError('Blob');
  return connection.kind === 'connection-string'
    ? BlobServiceClient.fromConnectionString(connection.connectionString.reveal())
    : new BlobServiceClient(connection.blobServiceUri, credentials(connection.credential));
}

export function queueServiceFor(
  connection: StorageConnection | undefined,
  credentials: CredentialFactory = sharedCredentials,
): QueueServiceClient {
  if (!connection) throw new StorageNotConfiguredError('Queue');
  return connection.kind === 'connection-string'
    ? QueueServiceClient.fromConnectionString(connection.connectionString.reveal())
    : new QueueServiceClient(connection.queueServiceUri, credentials(connection.credential));
}
