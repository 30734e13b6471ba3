import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { operatorIdentity } from '../../src/functions/operator/operatorHttp.js';

const request = (headers: Record<string, string>) =>
  new HttpRequest({ url: 'http://localhost/api/operator/runs/r/approve', method: 'POST', headers });

/** X-MS-CLIENT-PRINCIPAL as App Service sends it (configure-authentication-user-identities). */
const principal = (body: unknown) => Buffer.from(JSON.stringify(body), 'utf8').toString('base64');

const entraUser = principal({
  auth_typ: 'aad',
  name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  claims: [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'oid-1' },
    { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'ana@contoso.com' },
    { typ: 'preferred_username', val: 'ana.alias@contoso.com' },
  ],
});

describe('operatorIdentity', () => {
  it('takes the App Service principal over the self-declared x-operator-id', () => {
    expect(
      operatorIdentity(request({ 'x-ms-client-principal': entraUser, 'x-operator-id': 'mallory' })),
    ).toEqual({ ok: true, by: 'ana@contoso.com' });
    expect(
      operatorIdentity(
        request({ 'x-ms-client-principal-name': 'bo@contoso.com', 'x-operator-id': 'mallory' }),
      ),
    ).toEqual({ ok: true, by: 'bo@contoso.com' });
  });

  it('falls back through the name header, the usual name claims and the principal id', () => {
    const noNameClaim = principal({ auth_typ: 'aad', name_typ: 'name', claims: [{ typ: 'oid', val: 'x' }] });
    expect(
      operatorIdentity(request({ 'x-ms-client-principal': noNameClaim, 'x-ms-client-principal-name': 'cy' })),
    ).toEqual({ ok: true, by: 'cy' });
    const app = principal({
      auth_typ: 'aad',
      claims: [{ typ: 'preferred_username', val: 'svc@contoso.com' }],
    });
    expect(operatorIdentity(request({ 'x-ms-client-principal': app }))).toEqual({
      ok: true,
      by: 'svc@contoso.com',
    });
    expect(
      operatorIdentity(
        request({ 'x-ms-client-principal': principal({ claims: [] }), 'x-ms-client-principal-id': 'pid-7' }),
      ),
    ).toEqual({ ok: true, by: 'pid-7' });
  });

  it('keeps x-operator-id and "anonymous" where App Service authentication is off', () => {
    expect(operatorIdentity(request({ 'x-operator-id': ' dee ' }))).toEqual({ ok: true, by: 'dee' });
    expect(operatorIdentity(request({}))).toEqual({ ok: true, by: 'anonymous' });
  });

  it('names a malformed principal or an overlong name', () => {
    expect(operatorIdentity(request({ 'x-ms-client-principal': 'bm90IGpzb24=' }))).toEqual({
      ok: false,
      header: 'x-ms-client-principal',
      detail: 'x-ms-client-principal is not base64-encoded JSON',
    });
    const notPrincipal = operatorIdentity(request({ 'x-ms-client-principal': principal({ claims: 'no' }) }));
    expect(notPrincipal.ok ? '' : notPrincipal.detail).toContain(
      'x-ms-client-principal is not a client principal',
    );
    expect(operatorIdentity(request({ 'x-operator-id': 'x'.repeat(201) }))).toEqual({
      ok: false,
      header: 'x-operator-id',
      detail: 'x-operator-id must be at most 200 printable characters',
    });
    expect(operatorIdentity(request({ 'x-ms-client-principal-name': 'x'.repeat(201) }))).toEqual({
      ok: false,
      header: 'x-ms-client-principal-name',
      detail: 'the client principal name must be at most 200 printable characters',
    });
  });
});
