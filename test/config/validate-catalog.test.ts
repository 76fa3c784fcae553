// Config rules for catalog entries, the native protocols and model prices: one test per rule,
// each naming the exact path and reason.

import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import {
  ConfigError,
  policyFromDocument,
  validatePolicy,
  type Env,
  type Problem,
} from '../../sidecar/config/validate.js';

const ENV: Env = {
  GROQ_API_KEY: 'gsk-test-groq',
  ANTHROPIC_API_KEY: 'ant-test',
  GEMINI_API_KEY: 'gem-test',
  CO_API_KEY: 'co-test',
  GOOGLE_APPLICATION_CREDENTIALS: '/var/run/secrets/vertex.json',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret-example',
};

/** A document with one provider (given) and one model routed to it. */
function doc(provider: Record<string, unknown>, model: Record<string, unknown> = {}) {
  return {
    providers: [{ id: 'p', ...provider }],
    models: [{ name: 'm/*', provider: 'p', target: '*', ...model }],
  };
}

function problemsOf(document: unknown, env: Env = ENV): Problem[] {
  try {
    policyFromDocument(document, 'test.yaml', { env });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.problems];
  }
}

describe('catalog entries in a config', () => {
  it('fills protocol, base_url and api_key_env from the entry', () => {
    const policy = policyFromDocument(doc({ catalog: 'groq' }), 'test.yaml', { env: ENV });
    expect(policy.providers[0]).toMatchObject({
      protocol: Protocol.OPENAI,
      baseUrl: 'https://api.groq.com/openai/v1',
      apiKeyEnv: 'GROQ_API_KEY',
    });
  });

  it('keeps what the config spells out over what the entry would give', () => {
    const provider = { catalog: 'groq', base_url: 'http://127.0.0.1:9999/v1', api_key_env: 'K' };
    const policy = policyFromDocument(doc(provider), 'test.yaml', { env: { K: 'x' } });
    expect(policy.providers[0]).toMatchObject({
      baseUrl: 'http://127.0.0.1:9999/v1',
      apiKeyEnv: 'K',
    });
  });

  it('names the entry a typo most likely meant', () => {
    expect(problemsOf(doc({ catalog: 'grq' }))).toEqual([
      { path: 'providers[0].catalog', reason: 'no catalog entry "grq" (did you mean groq?)' },
    ]);
  });

  it('points at the list when no entry is close', () => {
    expect(problemsOf(doc({ catalog: 'no-such-vendor' }))).toEqual([
      {
        path: 'providers[0].catalog',
        reason: 'no catalog entry "no-such-vendor" ("modelgate providers" lists them)',
      },
    ]);
  });

  it('refuses a protocol that contradicts the entry', () => {
    expect(
      problemsOf(doc({ catalog: 'groq', protocol: 'anthropic', api_key_env: 'GROQ_API_KEY' })),
    ).toEqual([
      {
        path: 'providers[0].protocol',
        reason: 'catalog entry "groq" speaks openai, not anthropic',
      },
    ]);
  });

  it("reports the entry's key variable when it is not set", () => {
    expect(problemsOf(doc({ catalog: 'groq' }), {})).toEqual([
      {
        path: 'providers[0].api_key_env',
        reason: 'environment variable GROQ_API_KEY is not set: "p" cannot authenticate',
      },
    ]);
  });

  it('picks the first key variable of the entry that is set', () => {
    const policy = policyFromDocument(doc({ catalog: 'cohere' }), 'test.yaml', {
      env: { COHERE_API_KEY: 'c' },
    });
    expect(policy.providers[0].apiKeyEnv).toBe('COHERE_API_KEY');
  });

  it('requires base_url for an entry whose URL holds a placeholder', () => {
    expect(problemsOf(doc({ catalog: 'databricks' }), { DATABRICKS_TOKEN: 't' })).toEqual([
      {
        path: 'providers[0].base_url',
        reason:
          'required: catalog entry "databricks" has no fixed URL; give ' +
          'https://{resource}.cloud.databricks.com/serving-endpoints with {resource} filled in',
      },
    ]);
  });

  it('lets a local server run without a key', () => {
    const policy = policyFromDocument(doc({ catalog: 'ollama' }), 'test.yaml', { env: {} });
    expect(policy.providers[0]).toMatchObject({
      baseUrl: 'http://localhost:11434/v1',
      apiKeyEnv: '',
    });
  });

  it('applies the catalog to a policy built elsewhere (control plane) too', () => {
    const policy = create(PolicySchema, {
      providers: [{ id: 'p', catalog: 'mistral' }],
      models: [{ name: 'x', provider: 'p', target: 'x' }],
    });
    expect(validatePolicy(policy, { env: { MISTRAL_API_KEY: 'k' } })).toEqual([]);
    expect(validatePolicy(policy, { env: {} }).map((p) => p.path)).toEqual([
      'providers[0].api_key_env',
    ]);
  });
});

describe('native protocols', () => {
  it.each([
    ['anthropic', 'ANTHROPIC_API_KEY'],
    ['gemini', 'GEMINI_API_KEY'],
    ['cohere', 'CO_API_KEY'],
  ])('%s needs api_key_env and nothing else (base_url has a default)', (protocol, key) => {
    expect(problemsOf(doc({ protocol, api_key_env: key }))).toEqual([]);
    expect(problemsOf(doc({ protocol }))).toEqual([
      {
        path: 'providers[0].api_key_env',
        reason: `required for protocol ${protocol} (the variable holding its API key)`,
      },
    ]);
  });

  it('checks a base_url given to a native protocol like any other', () => {
    expect(
      problemsOf(doc({ protocol: 'anthropic', api_key_env: 'ANTHROPIC_API_KEY', base_url: 'x' })),
    ).toEqual([
      { path: 'providers[0].base_url', reason: 'must be an http:// or https:// URL, got "x"' },
    ]);
  });

  it('vertex needs a project and a region', () => {
    expect(
      problemsOf(doc({ protocol: 'vertex', project: 'acme-ml', region: 'us-central1' })),
    ).toEqual([]);
    expect(problemsOf(doc({ protocol: 'vertex' }))).toEqual([
      {
        path: 'providers[0].region',
        reason: 'required for protocol vertex (e.g. us-central1, or global)',
      },
      {
        path: 'providers[0].project',
        reason: 'required for protocol vertex (the Google Cloud project id)',
      },
    ]);
  });

  it('vertex needs its key file variable set, GOOGLE_APPLICATION_CREDENTIALS by default', () => {
    const vertex = { protocol: 'vertex', project: 'acme-ml', region: 'global' };
    expect(problemsOf(doc(vertex), {})).toEqual([
      {
        path: 'providers[0].credentials_env',
        reason:
          'environment variable GOOGLE_APPLICATION_CREDENTIALS is not set: "p" has no ' +
          'service-account key file',
      },
    ]);
    expect(problemsOf(doc({ ...vertex, credentials_env: 'VERTEX_KEY_FILE' }))).toEqual([
      {
        path: 'providers[0].credentials_env',
        reason:
          'environment variable VERTEX_KEY_FILE is not set: "p" has no service-account key file',
      },
    ]);
  });

  it('bedrock needs a region', () => {
    expect(problemsOf(doc({ protocol: 'bedrock', region: 'eu-west-3' }))).toEqual([]);
    expect(problemsOf(doc({ protocol: 'bedrock' }))).toEqual([
      { path: 'providers[0].region', reason: 'required for protocol bedrock (e.g. us-east-1)' },
    ]);
  });

  it('bedrock needs AWS keys under its prefix, or an api_key_env', () => {
    const bedrock = { protocol: 'bedrock', region: 'us-east-1' };
    expect(problemsOf(doc(bedrock), {})).toEqual([
      {
        path: 'providers[0].credentials_env',
        reason:
          'environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and ' +
          'there is no api_key_env: "p" cannot sign requests',
      },
    ]);
    expect(
      problemsOf(doc({ ...bedrock, credentials_env: 'PROD_AWS_' }), {
        PROD_AWS_ACCESS_KEY_ID: 'a',
      }),
    ).toEqual([
      {
        path: 'providers[0].credentials_env',
        reason:
          'environment variable PROD_AWS_SECRET_ACCESS_KEY is not set and there is no ' +
          'api_key_env: "p" cannot sign requests',
      },
    ]);
    const withKey = { ...bedrock, api_key_env: 'AWS_BEARER_TOKEN_BEDROCK' };
    expect(problemsOf(doc(withKey), { AWS_BEARER_TOKEN_BEDROCK: 'k' })).toEqual([]);
  });

  it('refuses region, project and credentials_env where the protocol does not use them', () => {
    const groq = { catalog: 'groq' };
    expect(problemsOf(doc({ ...groq, region: 'us-east-1' }))).toEqual([
      {
        path: 'providers[0].region',
        reason: 'only used by protocols vertex and bedrock, not openai',
      },
    ]);
    expect(problemsOf(doc({ protocol: 'bedrock', region: 'us-east-1', project: 'x' }))).toEqual([
      { path: 'providers[0].project', reason: 'only used by protocol vertex, not bedrock' },
    ]);
    expect(
      problemsOf(doc({ protocol: 'cohere', api_key_env: 'CO_API_KEY', credentials_env: 'X' })),
    ).toEqual([
      {
        path: 'providers[0].credentials_env',
        reason: 'only used by protocols vertex and bedrock, not cohere',
      },
    ]);
  });

  it('refuses a region that is not a plain region name (it becomes part of a host name)', () => {
    expect(problemsOf(doc({ protocol: 'bedrock', region: 'evil.example/x' }))).toEqual([
      {
        path: 'providers[0].region',
        reason: 'must be a region name such as us-east-1, got "evil.example/x"',
      },
    ]);
  });

  it('refuses a credentials_env that is not a variable name', () => {
    expect(
      problemsOf(
        doc({
          protocol: 'vertex',
          project: 'p1',
          region: 'global',
          credentials_env: '/etc/key.json',
        }),
      ),
    ).toEqual([
      {
        path: 'providers[0].credentials_env',
        reason: 'must name an environment variable (A-Z, 0-9, _)',
      },
    ]);
  });
});

describe('model prices', () => {
  it('accepts prices of zero and more', () => {
    const price = { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0 };
    expect(problemsOf(doc({ catalog: 'groq' }, { price }))).toEqual([]);
  });

  it.each([
    ['input_per_mtok', -1],
    ['output_per_mtok', Number.NaN],
    ['cache_read_per_mtok', Number.POSITIVE_INFINITY],
    ['cache_write_per_mtok', -0.5],
    ['cache_write_1h_per_mtok', Number.NEGATIVE_INFINITY],
  ])('refuses %s = %s', (field, value) => {
    expect(problemsOf(doc({ catalog: 'groq' }, { price: { [field]: value } }))).toEqual([
      { path: `models[0].price.${field}`, reason: 'must be a number ≥ 0' },
    ]);
  });

  it('names the model by its index', () => {
    const document = doc({ catalog: 'groq' });
    document.models.push({ name: 'a', provider: 'p', target: 'a' }, {
      name: 'b',
      provider: 'p',
      target: 'b',
      price: { input_per_mtok: -2 },
    } as never);
    expect(problemsOf(document)).toEqual([
      { path: 'models[2].price.input_per_mtok', reason: 'must be a number ≥ 0' },
    ]);
  });
});
