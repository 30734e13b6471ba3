import type { AccessToken, TokenCredential } from '@azure/identity';
import type { CredentialFactory, CredentialSpec } from '../../src/azure/credentials.js';

/** A credential factory whose credentials hand out `token` and record which identity was asked for which scopes. */
export function recordingCredentials(token: string): {
  asked: [CredentialSpec, string[]][];
  credentials: CredentialFactory;
} {
  const asked: [CredentialSpec, string[]][] = [];
  const credentials: CredentialFactory = (spec): TokenCredential => ({
    getToken: (scopes): Promise<AccessToken> => {
      asked.push([spec, Array.isArray(scopes) ? [...scopes] : [scopes]]);
      return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  });
  return { asked, credentials };
}
