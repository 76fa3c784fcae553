// The adapters under test, each built by its protocol's factory from a fake AdapterInit as
// the registry would build it: translation needs no network, so no server is started.

import { create } from '@bufbuild/protobuf';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Protocol, ProviderSchema } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { AdapterInit, ChatAdapter } from '../../sidecar/providers/adapter.js';
import { ADAPTER_FACTORIES, defaultBaseUrl } from '../../sidecar/providers/factories.js';
import { vertexAdapterFactory } from '../../sidecar/providers/vertex/index.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../../sidecar/stream/sse-parser.js';
import type { WireFormat } from './provider-answers.js';

export interface Contender {
  /** The row's name in the report. */
  label: string;
  /** What the provider answers in. */
  format: WireFormat;
  /** The provider's name for the model. */
  target: string;
  adapter: ChatAdapter;
}

// AWS's documentation example keys: well-formed, and valid nowhere.
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const API_KEY = 'bench-not-a-real-key-0123456789abcdef';
const KEY_FILE_ENV = 'GOOGLE_APPLICATION_CREDENTIALS';

function init(
  protocol: Protocol,
  opts: { apiKey?: string; env?: Record<string, string>; region?: string; project?: string },
): AdapterInit {
  const provider = create(ProviderSchema, {
    id: Protocol[protocol].toLowerCase(),
    protocol,
    region: opts.region ?? '',
    project: opts.project ?? '',
  });
  return {
    provider,
    baseUrl: defaultBaseUrl(protocol, provider.region),
    apiKey: opts.apiKey,
    env: opts.env ?? {},
    maxStreamEventBytes: DEFAULT_MAX_EVENT_BYTES,
    clock: Date.now,
  };
}

function fromFactory(protocol: Protocol, adapterInit: AdapterInit): ChatAdapter {
  const factory = ADAPTER_FACTORIES.get(protocol);
  if (factory === undefined) throw new Error(`no adapter factory for ${Protocol[protocol]}`);
  return factory(adapterInit);
}

/**
 * Vertex, Gemini models. Its factory reads a service-account key file and mints tokens by
 * RS256 assertion: the key is generated into a temporary directory (read once, then removed)
 * and the token exchange is answered in process with a pre-minted token. This is the
 * factory ADAPTER_FACTORIES holds, with only that HTTP call replaced; per request the adapter
 * then takes the cached token, as it does in service.
 */
function vertexAdapter(): ChatAdapter {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  try {
    const keyFile = join(dir, 'service-account.json');
    const account = {
      type: 'service_account',
      project_id: 'bench-project',
      private_key_id: '3f1c0b7e8a9d4c2b6e5f7a8b9c0d1e2f3a4b5c6d',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: 'modelgate-bench@bench-project.iam.gserviceaccount.com',
      client_id: '104729388812345678901',
      token_uri: 'https://oauth2.googleapis.com/token',
    };
    writeFileSync(keyFile, JSON.stringify(account), { mode: 0o600 });
    const token = { access_token: `ya29.${'b'.repeat(180)}`, expires_in: 3599 };
    const factory = vertexAdapterFactory(async () => ({
      status: 200,
      body: JSON.stringify(token),
    }));
    return factory(
      init(Protocol.VERTEX, {
        env: { [KEY_FILE_ENV]: keyFile },
        region: 'us-central1',
        project: 'bench-project',
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** OpenAI first: it is the baseline every other row is compared with. */
export function buildContenders(): Contender[] {
  const keyed = { apiKey: API_KEY };
  return [
    {
      label: 'openai (passthrough)',
      format: 'openai',
      target: 'gpt-4o-mini',
      adapter: fromFactory(Protocol.OPENAI, init(Protocol.OPENAI, keyed)),
    },
    {
      label: 'anthropic',
      format: 'anthropic',
      target: 'claude-sonnet-4-5',
      adapter: fromFactory(Protocol.ANTHROPIC, init(Protocol.ANTHROPIC, keyed)),
    },
    {
      label: 'gemini',
      format: 'gemini',
      target: 'gemini-2.5-flash',
      adapter: fromFactory(Protocol.GEMINI, init(Protocol.GEMINI, keyed)),
    },
    {
      label: 'vertex (gemini)',
      format: 'gemini',
      target: 'gemini-2.5-flash',
      adapter: vertexAdapter(),
    },
    {
      label: 'bedrock (SigV4)',
      format: 'bedrock',
      target: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      adapter: fromFactory(
        Protocol.BEDROCK,
        init(Protocol.BEDROCK, { env: AWS_ENV, region: 'us-east-1' }),
      ),
    },
    {
      label: 'bedrock (API key)',
      format: 'bedrock',
      target: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      adapter: fromFactory(
        Protocol.BEDROCK,
        init(Protocol.BEDROCK, { ...keyed, region: 'us-east-1' }),
      ),
    },
    {
      label: 'cohere',
      format: 'cohere',
      target: 'command-a-03-2025',
      adapter: fromFactory(Protocol.COHERE, init(Protocol.COHERE, keyed)),
    },
  ];
}
