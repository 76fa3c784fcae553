import type { AdapterInit } from '../adapter.js';
import { SigV4Signer, type AwsCredentials } from './sigv4.js';

// How the sidecar proves itself to Bedrock. A Bedrock API key (api_key_env) goes as a bearer
// token (user guide, "Use an Amazon Bedrock API key"); otherwise requests are SigV4-signed
// with keys from `${prefix}ACCESS_KEY_ID`, `${prefix}SECRET_ACCESS_KEY` and, for temporary
// credentials, `${prefix}SESSION_TOKEN`, where the prefix is credentials_env or "AWS_".
// TODO(issue-3): no instance-profile, ECS or SSO credential chain; keys come from the
// environment only, read once at startup.

export type BedrockAuth =
  | { readonly kind: 'bearer'; readonly token: string; readonly secrets: string[] }
  | { readonly kind: 'sigv4'; readonly signer: SigV4Signer; readonly secrets: string[] };

export function resolveAuth(init: AdapterInit, region: string): BedrockAuth {
  if (init.apiKey) return { kind: 'bearer', token: init.apiKey, secrets: [init.apiKey] };

  const prefix = init.provider.credentialsEnv || 'AWS_';
  const credentials: AwsCredentials = {
    accessKeyId: init.env[`${prefix}ACCESS_KEY_ID`] ?? '',
    secretAccessKey: init.env[`${prefix}SECRET_ACCESS_KEY`] ?? '',
    sessionToken: init.env[`${prefix}SESSION_TOKEN`] || undefined,
  };
  if (!credentials.accessKeyId || !credentials.secretAccessKey) {
    throw new Error(
      `provider "${init.provider.id}": Bedrock needs credentials: set ${prefix}ACCESS_KEY_ID ` +
        `and ${prefix}SECRET_ACCESS_KEY, or api_key_env naming a Bedrock API key`,
    );
  }
  const secrets = [credentials.secretAccessKey, credentials.sessionToken ?? ''].filter(Boolean);
  return {
    kind: 'sigv4',
    signer: new SigV4Signer(credentials, { region, service: 'bedrock' }),
    secrets,
  };
}

/** bedrock-runtime.<region>.amazonaws.com (and its FIPS and China forms) name their region. */
export function regionFromHost(hostname: string): string | undefined {
  return /^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(hostname)?.[1];
}
