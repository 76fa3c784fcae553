import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { LimitsSchema, Protocol, type Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { embeddedDefaults } from '../../sidecar/config/defaults.js';
import { DEFAULT_LIMITS } from '../../sidecar/config/limits.js';
import { CATALOG, autoEnables } from '../../sidecar/providers/catalog.js';
import { ConfigError, validatePolicy } from '../../sidecar/config/validate.js';

const routes = (policy: Policy) =>
  policy.models.map((m) => `${m.name} -> ${m.provider}:${m.target}`);

describe('embeddedDefaults', () => {
  it('serves only the demo provider when no vendor key is set', () => {
    const policy = embeddedDefaults({});

    expect(policy.providers).toHaveLength(1);
    expect(policy.providers[0]).toMatchObject({ id: 'demo', protocol: Protocol.DEMO, baseUrl: '' });
    expect(routes(policy)).toEqual(['demo/* -> demo:*']);
    expect(policy.apiKeys).toEqual([]);
  });

  it('listens on loopback port 4100 with every limit at its default', () => {
    const policy = embeddedDefaults({});
    expect(policy.listen).toMatchObject({ host: '127.0.0.1', port: 4100 });
    expect(policy.limits).toMatchObject(DEFAULT_LIMITS);
  });

  it('routes openai/* and the bare OpenAI model families when OPENAI_API_KEY is set', () => {
    const policy = embeddedDefaults({ OPENAI_API_KEY: 'sk-test' });

    expect(policy.providers).toHaveLength(1);
    expect(policy.providers[0]).toMatchObject({
      id: 'openai',
      protocol: Protocol.OPENAI,
      baseUrl: 'https://api.openai.com/v1',
      apiKeyEnv: 'OPENAI_API_KEY',
    });
    // Bare patterns map to themselves, so "gpt-4o" reaches OpenAI as "gpt-4o".
    expect(routes(policy)).toEqual([
      'openai/* -> openai:*',
      'gpt-* -> openai:gpt-*',
      'o1* -> openai:o1*',
      'o3* -> openai:o3*',
      'o4* -> openai:o4*',
      'chatgpt-* -> openai:chatgpt-*',
    ]);
  });

  it('lets OPENAI_BASE_URL replace the OpenAI base URL', () => {
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' };
    expect(embeddedDefaults(env).providers[0].baseUrl).toBe('http://127.0.0.1:11434/v1');
  });

  // The vendors now come from the provider catalog, in its order (mistral is listed before
  // groq there; it came after it in the old nine-vendor table).
  it('adds one provider and one <id>/* pattern per vendor key, in catalog order', () => {
    const policy = embeddedDefaults({ MISTRAL_API_KEY: 'm', GROQ_API_KEY: 'g' });
    expect(policy.providers.map((p) => [p.id, p.baseUrl, p.apiKeyEnv])).toEqual([
      ['mistral', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY'],
      ['groq', 'https://api.groq.com/openai/v1', 'GROQ_API_KEY'],
    ]);
    expect(routes(policy)).toEqual(['mistral/* -> mistral:*', 'groq/* -> groq:*']);
  });

  it('switches on native-protocol vendors by their key too', () => {
    const policy = embeddedDefaults({ ANTHROPIC_API_KEY: 'a', COHERE_API_KEY: 'c' });
    expect(policy.providers.map((p) => [p.id, p.protocol, p.baseUrl, p.apiKeyEnv])).toEqual([
      ['anthropic', Protocol.ANTHROPIC, 'https://api.anthropic.com', 'ANTHROPIC_API_KEY'],
      ['cohere', Protocol.COHERE, 'https://api.cohere.com', 'COHERE_API_KEY'],
    ]);
    expect(routes(policy)).toEqual(['anthropic/* -> anthropic:*', 'cohere/* -> cohere:*']);
  });

  it("uses the first of a vendor's key variables that is set", () => {
    const policy = embeddedDefaults({ COHERE_API_KEY: 'late', CO_API_KEY: 'first' });
    expect(policy.providers.map((p) => p.apiKeyEnv)).toEqual(['CO_API_KEY']);
  });

  it('does not switch on local servers, alternate doors, shared tokens or operator URLs', () => {
    const env = {
      VLLM_API_KEY: 'v', // a local server's optional key
      GITHUB_TOKEN: 'ghp', // set in most CI runs for other reasons
      HF_TOKEN: 'hf',
      AZURE_OPENAI_API_KEY: 'az', // the resource is in the URL
      DATABRICKS_TOKEN: 'db',
      AWS_BEARER_TOKEN_BEDROCK: 'br',
    };
    expect(embeddedDefaults(env).providers.map((p) => p.id)).toEqual(['demo']);
    // GEMINI_API_KEY opens Gemini itself, not also its OpenAI-compatible door.
    expect(embeddedDefaults({ GEMINI_API_KEY: 'g' }).providers.map((p) => p.id)).toEqual([
      'gemini',
    ]);
  });

  it('treats an empty key variable as unset', () => {
    expect(embeddedDefaults({ OPENAI_API_KEY: '' }).providers[0].id).toBe('demo');
  });

  it.each(CATALOG.filter(autoEnables).map((e) => [e.id, e.apiKeyEnv[0]]))(
    'builds a valid policy for %s from %s',
    (id, apiKeyEnv) => {
      const env = { [apiKeyEnv]: 'key-value' };
      const policy = embeddedDefaults(env);
      expect(policy.providers.map((p) => p.id)).toEqual([id]);
      expect(validatePolicy(policy, { env })).toEqual([]);
    },
  );

  it('refuses a malformed OPENAI_BASE_URL without repeating the key', () => {
    const env = { OPENAI_API_KEY: 'sk-secret-d41d8c', OPENAI_BASE_URL: 'api.openai.com' };
    expect(() => embeddedDefaults(env)).toThrow(ConfigError);
    expect(() => embeddedDefaults(env)).toThrow(/providers\[0\]\.base_url: must be an http/);
    expect(() => embeddedDefaults(env)).not.toThrow(/sk-secret-d41d8c/);
  });

  it('refuses an OPENAI_BASE_URL whose query string would be dropped', () => {
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:4310/v1?x=1' };
    expect(() => embeddedDefaults(env)).toThrow(
      /providers\[0\]\.base_url: must not have a query string or fragment/,
    );
  });

  it('refuses a key with a trailing newline without repeating it', () => {
    const env = { GROQ_API_KEY: 'gsk_secret_77aa\n' };
    expect(() => embeddedDefaults(env)).toThrow(/GROQ_API_KEY contains whitespace/);
    expect(() => embeddedDefaults(env)).not.toThrow(/gsk_secret_77aa/);
  });
});
