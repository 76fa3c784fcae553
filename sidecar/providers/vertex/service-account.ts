// A Google service-account key file: the JSON that `gcloud iam service-accounts keys create`
// writes. Read once at startup, so that a missing or malformed file stops the sidecar with
// a clear message instead of failing the first request. Messages name fields, never values.

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface ServiceAccount {
  clientEmail: string;
  privateKey: KeyObject;
  /** Names the key in the JWT header, so Google need not try each of the account's keys. */
  privateKeyId?: string;
  /** Where assertions are exchanged for access tokens. */
  tokenUri: string;
}

const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';

export function loadServiceAccount(path: string, providerId: string): ServiceAccount {
  const fail = (why: string): never => {
    throw new Error(`provider "${providerId}": service-account key file ${path}: ${why}`);
  };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return fail(code ? `cannot be read (${code})` : 'is not JSON');
  }

  if (json.type !== 'service_account') fail(`"type" must be "service_account"`);
  if (typeof json.client_email !== 'string' || json.client_email === '') {
    fail('"client_email" is missing');
  }
  if (typeof json.private_key !== 'string') fail('"private_key" is missing');
  const tokenUri = json.token_uri ?? DEFAULT_TOKEN_URI;
  if (typeof tokenUri !== 'string' || !/^https?:\/\//.test(tokenUri)) {
    fail('"token_uri" must be an http(s) URL');
  }

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(json.private_key as string);
  } catch {
    return fail('"private_key" is not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') fail('"private_key" must be an RSA key');

  return {
    clientEmail: json.client_email as string,
    privateKey,
    privateKeyId: typeof json.private_key_id === 'string' ? json.private_key_id : undefined,
    tokenUri: tokenUri as string,
  };
}
