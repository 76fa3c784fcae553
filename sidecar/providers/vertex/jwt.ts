// The signed assertion a service account trades for an access token: a JWT signed with
// RS256 (RFC 7515, RFC 7523; developers.google.com/identity/protocols/oauth2/service-account).

import { sign } from 'node:crypto';
import type { ServiceAccount } from './service-account.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Google accepts assertions valid for at most one hour. */
export const ASSERTION_LIFETIME_S = 3600;

export function signAssertion(account: ServiceAccount, scope: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = {
    alg: 'RS256',
    typ: 'JWT',
    ...(account.privateKeyId ? { kid: account.privateKeyId } : {}),
  };
  const claims = {
    iss: account.clientEmail,
    scope,
    aud: account.tokenUri,
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), account.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
