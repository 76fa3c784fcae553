import { describe, expect, it } from 'vitest';
import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import {
  CAPABILITIES,
  CATALOG,
  PLACEHOLDERS,
  PROTOCOL_OF,
  autoEnables,
  catalogEntry,
  placeholdersOf,
  vendorOf,
} from '../../sidecar/providers/catalog.js';
import { embeddedDefaults } from '../../sidecar/config/defaults.js';
import { ADAPTER_FACTORIES, defaultBaseUrl } from '../../sidecar/providers/factories.js';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ID = /^[a-z0-9][a-z0-9.-]*$/;

/** A URL template with every placeholder filled, so it can be parsed. */
const filled = (url: string) => url.replace(/\{(\w+)\}/g, (_, name: string) => `x${name}`);

describe('the provider catalog', () => {
  it('lists at least 100 providers', () => {
    expect(CATALOG.length).toBeGreaterThanOrEqual(100);
  });

  it('gives every entry a unique lower-case id usable as a provider id and model prefix', () => {
    const ids = CATALOG.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(ID);
  });

  it('has an adapter for every protocol an entry speaks', () => {
    for (const entry of CATALOG) {
      expect(ADAPTER_FACTORIES.has(PROTOCOL_OF[entry.protocol]), entry.id).toBe(true);
    }
  });

  it('uses only the known placeholders, and every URL parses once they are filled', () => {
    for (const entry of CATALOG) {
      for (const name of placeholdersOf(entry.baseUrl)) {
        expect(PLACEHOLDERS as readonly string[], `${entry.id}: {${name}}`).toContain(name);
      }
      const url = new URL(filled(entry.baseUrl));
      expect(url.protocol, entry.id).toBe(entry.local ? 'http:' : 'https:');
      expect(url.search + url.hash, entry.id).toBe('');
      expect(entry.baseUrl.endsWith('/'), entry.id).toBe(false);
    }
  });

  it('puts local servers on localhost and everything else on the internet', () => {
    for (const entry of CATALOG) {
      const host = new URL(filled(entry.baseUrl)).hostname;
      expect(host === 'localhost', entry.id).toBe(entry.local === true);
    }
  });

  it('names environment variables in UPPER_SNAKE case', () => {
    for (const entry of CATALOG) {
      for (const name of entry.apiKeyEnv) expect(name, entry.id).toMatch(ENV_NAME);
      if (entry.baseUrlEnv) expect(entry.baseUrlEnv, entry.id).toMatch(ENV_NAME);
      if (entry.credentialsEnv) expect(entry.credentialsEnv, entry.id).toMatch(ENV_NAME);
    }
  });

  it('links every entry to its documentation over https', () => {
    for (const entry of CATALOG) expect(new URL(entry.docs).protocol, entry.id).toBe('https:');
  });

  it('states every capability for every entry, and every entry streams', () => {
    for (const entry of CATALOG) {
      expect(Object.keys(entry.capabilities).sort(), entry.id).toEqual([...CAPABILITIES].sort());
      expect(entry.capabilities.streaming, entry.id).toBe(true);
    }
  });

  it('pairs each protocol with the credential style its adapter sends', () => {
    const styles: Record<string, string[]> = {
      openai: ['bearer', 'none'],
      azure_openai: ['api-key'],
      anthropic: ['x-api-key'],
      gemini: ['x-goog-api-key'],
      vertex: ['oauth-service-account'],
      bedrock: ['sigv4'],
      cohere: ['bearer'],
    };
    for (const entry of CATALOG) expect(styles[entry.protocol], entry.id).toContain(entry.auth);
    for (const entry of CATALOG.filter((e) => e.auth === 'none')) {
      expect(entry.apiKeyEnv, entry.id).toEqual([]);
    }
  });

  it('gives hosted key-based entries a key variable', () => {
    for (const entry of CATALOG.filter((e) => e.auth === 'bearer' && !e.local)) {
      expect(entry.apiKeyEnv.length, entry.id).toBeGreaterThan(0);
    }
  });

  it('points every alternate at an entry that exists and is not itself an alternate', () => {
    for (const entry of CATALOG.filter((e) => e.alternateOf !== undefined)) {
      const main = catalogEntry(entry.alternateOf!);
      expect(main, entry.id).toBeDefined();
      expect(main!.alternateOf, entry.id).toBeUndefined();
    }
  });

  it('agrees with the adapters on where each native protocol lives', () => {
    for (const entry of CATALOG.filter((e) => e.protocol !== 'openai')) {
      if (entry.protocol === 'azure_openai') continue; // the resource is always the operator's
      const protocol = PROTOCOL_OF[entry.protocol];
      const region = entry.baseUrl.includes('{region}') ? 'eu-west-3' : '';
      expect(entry.baseUrl.replace('{region}', region), entry.id).toBe(
        defaultBaseUrl(protocol, region),
      );
    }
  });

  it('keeps the endpoints of the vendors the sidecar already served by key', () => {
    const before: Record<string, [string, string]> = {
      openai: ['https://api.openai.com/v1', 'OPENAI_API_KEY'],
      groq: ['https://api.groq.com/openai/v1', 'GROQ_API_KEY'],
      mistral: ['https://api.mistral.ai/v1', 'MISTRAL_API_KEY'],
      deepseek: ['https://api.deepseek.com/v1', 'DEEPSEEK_API_KEY'],
      together: ['https://api.together.xyz/v1', 'TOGETHER_API_KEY'],
      fireworks: ['https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY'],
      openrouter: ['https://openrouter.ai/api/v1', 'OPENROUTER_API_KEY'],
      xai: ['https://api.x.ai/v1', 'XAI_API_KEY'],
      perplexity: ['https://api.perplexity.ai', 'PERPLEXITY_API_KEY'],
    };
    for (const [id, [url, env]] of Object.entries(before)) {
      expect(catalogEntry(id), id).toMatchObject({ protocol: 'openai', baseUrl: url });
      expect(catalogEntry(id)!.apiKeyEnv[0], id).toBe(env);
      expect(autoEnables(catalogEntry(id)!), id).toBe(true);
    }
  });

  it('switches on by key only hosted entries with a fixed URL of their own', () => {
    expect(autoEnables(catalogEntry('ollama')!)).toBe(false);
    expect(autoEnables(catalogEntry('gemini-openai')!)).toBe(false);
    expect(autoEnables(catalogEntry('github-models')!)).toBe(false);
    expect(autoEnables(catalogEntry('databricks')!)).toBe(false);
    expect(autoEnables(catalogEntry('bedrock')!)).toBe(false);
    expect(autoEnables(catalogEntry('anthropic')!)).toBe(true);
    expect(PROTOCOL_OF.cohere).toBe(Protocol.COHERE);
  });

  it('knows the vendor by the entry a provider names, else by its documented endpoint', () => {
    expect(vendorOf({ catalog: 'mistral' }, 'http://127.0.0.1:9/v1')?.id).toBe('mistral');
    expect(vendorOf({ catalog: '' }, 'https://api.mistral.ai/v1/')?.id).toBe('mistral');
    expect(vendorOf({ catalog: '' }, 'https://codestral.mistral.ai/v1')?.id).toBe('codestral');
    expect(vendorOf({ catalog: '' }, 'https://mistral-proxy.example/v1')).toBeUndefined();

    const defaults = embeddedDefaults({ MISTRAL_API_KEY: 'k' });
    const mistral = defaults.providers.find((p) => p.id === 'mistral')!;
    expect(vendorOf(mistral, mistral.baseUrl)?.streamUsageUnasked).toBe(true);
  });

  // Five local servers document http://localhost:8080/v1: a Map of URLs kept the last of them
  // (mlx-lm), so a quirk set on llama-cpp would be applied to a config spelling that URL out
  // only if it reached mlx-lm, and mlx-lm's to every one of the five.
  it('knows no vendor by an endpoint several catalog entries document', () => {
    const shared = CATALOG.filter((entry) => entry.baseUrl === 'http://localhost:8080/v1');
    expect(shared.length).toBeGreaterThan(1);
    expect(vendorOf({ catalog: '' }, 'http://localhost:8080/v1')).toBeUndefined();
    expect(vendorOf({ catalog: 'llama-cpp' }, 'http://localhost:8080/v1')?.id).toBe('llama-cpp');
  });

  it('marks only the Mistral platform as metering streams unasked', () => {
    const marked = CATALOG.filter((entry) => entry.streamUsageUnasked).map((entry) => entry.id);
    expect(marked).toEqual(['mistral', 'codestral']);
  });
});
