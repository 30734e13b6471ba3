/**
 * The one place the app turns settings into Entra ID credentials, for every Azure client it builds itself
 * (blob, queue, the Foundry / Azure OpenAI / dynamic sessions token providers).
 *
 * Identity-based connections follow the Functions host's own rules, so the app's clients use the same
 * identity as the host's triggers:
 * - https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
 *   (`AzureWebJobsStorage__accountName`, `__blobServiceUri`, `__queueServiceUri`);
 * - https://learn.microsoft.com/azure/azure-functions/functions-reference#common-properties-for-identity-based-connections
 *   (`<prefix>__credential=managedidentity` with `__clientId` or `__managedIdentityResourceId` for a
 *   user-assigned identity, the system-assigned one otherwise; "It's invalid to specify both a Resource ID
 *   and a client ID"; without `__credential` the developer identity locally, a managed identity on Azure).
 * The host builds these with Microsoft.Extensions.Azure's ClientFactory.CreateCredential
 * (github.com/Azure/azure-sdk-for-net, sdk/extensions/Microsoft.Extensions.Azure/src/Internal/ClientFactory.cs):
 * `managedidentity` → ManagedIdentityCredential(clientId); tenantId + clientId + clientSecret →
 * ClientSecretCredential; otherwise the default credential chain.
 */
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { Secret } from '../models/secret.js';

/** Which credential a client gets; plain data, so configuration can be checked and printed without secrets. */
export type CredentialSpec =
  | {
      readonly kind: 'managed-identity';
      /** `<prefix>__clientId`: a user-assigned identity; neither id means the system-assigned identity. */
      readonly clientId?: string;
      /** `<prefix>__managedIdentityResourceId`: a user-assigned identity by resource id. */
      readonly resourceId?: string;
    }
  | {
      readonly kind: 'client-secret';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret: Secret;
    }
  | {
      /** DefaultAzureCredential: managed identity on Azure, the developer's sign-in locally. */
      readonly kind: 'default';
      /** `AZURE_CLIENT_ID`: which user-assigned identity the chain's managed identity step uses. */
      readonly managedIdentityClientId?: string;
    };

/** Builds the SDK credential for a spec; tests inject their own to see what each client asked for. */
export type CredentialFactory = (spec: CredentialSpec) => TokenCredential;

export const createCredential: CredentialFactory = (spec) => {
  switch (spec.kind) {
    case 'managed-identity':
      return spec.resourceId !== undefined
        ? new ManagedIdentityCredential({ resourceId: spec.resourceId })
        : spec.clientId !== undefined
          ? new ManagedIdentityCredential({ clientId: spec.clientId })
          : new ManagedIdentityCredential();
    case 'client-secret':
      return new ClientSecretCredential(spec.tenantId, spec.clientId, spec.clientSecret.reveal());
    case 'default':
      return new DefaultAzureCredential(
        spec.managedIdentityClientId === undefined
          ? {}
          : { managedIdentityClientId: spec.managedIdentityClientId },
      );
  }
};

/** One credential per distinct spec: every client on one identity shares its token cache. */
export function cachedCredentials(factory: CredentialFactory = createCredential): CredentialFactory {
  const built = new Map<string, TokenCredential>();
  return (spec) => {
    const key = JSON.stringify(
      spec.kind === 'client-secret' ? { ...spec, clientSecret: spec.clientSecret.reveal() } : spec,
    );
    let credential = built.get(key);
    if (!credential) {
      credential = factory(spec);
      built.set(key, credential);
    }
    return credential;
  };
}

type Env = Readonly<Record<string, string | undefined>>;

const blank = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/** `AZURE_CLIENT_ID` (the identity DefaultAzureCredential's managed identity step uses), for non-storage clients. */
export function appCredentialSpec(env: Env): CredentialSpec {
  const clientId = blank(env.AZURE_CLIENT_ID);
  return clientId === undefined
    ? { kind: 'default' }
    : { kind: 'default', managedIdentityClientId: clientId };
}

/**
 * The credential of an identity-based connection `<prefix>__…`, as the Functions host reads it (see the
 * file comment); problems name the setting. Without `__credential` it is the default chain with
 * `AZURE_CLIENT_ID`, the same identity the host's fallback credential picks.
 */
export function connectionCredentialSpec(env: Env, prefix: string, problems: string[]): CredentialSpec {
  const setting = (name: string) => `${prefix}__${name}`;
  const credential = blank(env[setting('credential')]);
  const clientId = blank(env[setting('clientId')]);
  const resourceId = blank(env[setting('managedIdentityResourceId')]);
  const tenantId = blank(env[setting('tenantId')]);
  const clientSecret = blank(env[setting('clientSecret')]);
  if (credential !== undefined) {
    if (credential.toLowerCase() !== 'managedidentity') {
      problems.push(
        `${setting('credential')} must be "managedidentity" (the only value the Functions host accepts; got ${JSON.stringify(credential)})`,
      );
      return { kind: 'default' };
    }
    if (clientId !== undefined && resourceId !== undefined) {
      problems.push(
        `${setting('clientId')} and ${setting('managedIdentityResourceId')} are both set; keep one to name the user-assigned identity`,
      );
    }
    return {
      kind: 'managed-identity',
      ...(resourceId !== undefined ? { resourceId } : clientId !== undefined ? { clientId } : {}),
    };
  }
  if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined) {
    return { kind: 'client-secret', tenantId, clientId, clientSecret: new Secret(clientSecret) };
  }
  if (clientId !== undefined || resourceId !== undefined) {
    // The host ignores a lone clientId (it falls back to its default credential): refuse it rather than
    // silently use another identity than the one named.
    const named = clientId !== undefined ? setting('clientId') : setting('managedIdentityResourceId');
    problems.push(
      `${named} is set without ${setting('credential')}=managedidentity; the Functions host ignores it then. ` +
        `Set ${setting('credential')}=managedidentity for a user-assigned identity ` +
        `(or ${setting('tenantId')} and ${setting('clientSecret')} too for a service principal)`,
    );
  }
  return appCredentialSpec(env);
}

/** For logs: which identity, never a secret. */
export function describeCredential(spec: CredentialSpec): string {
  switch (spec.kind) {
    case 'managed-identity':
      return spec.resourceId !== undefined
        ? `managed identity ${spec.resourceId}`
        : spec.clientId !== undefined
          ? `user-assigned managed identity ${spec.clientId}`
          : 'system-assigned managed identity';
    case 'client-secret':
      return `service principal ${spec.clientId} (tenant ${spec.tenantId})`;
    case 'default':
      return spec.managedIdentityClientId !== undefined
        ? `DefaultAzureCredential (managed identity ${spec.managedIdentityClientId})`
        : 'DefaultAzureCredential';
  }
}
