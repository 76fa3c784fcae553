import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../sidecar/config/load.js';
import { buildProviders } from '../../sidecar/providers/registry.js';
import { ModelTable } from '../../sidecar/routing/model-table.js';

const TIMEOUTS = { connectMs: 1, firstByteMs: 1, firstTokenMs: 1, idleMs: 1, totalMs: 1 };

function table(yaml: string): ModelTable {
  const policy = parseConfig(yaml, 'yaml', 'test.yaml', { env: {} });
  const providers = buildProviders(policy, {
    env: {},
    connectTimeoutMs: 1,
    maxStreamEventBytes: 1024,
  });
  return new ModelTable(policy, providers, TIMEOUTS);
}

const PATTERNS = `
providers:
  - { id: local, protocol: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  - { name: "local/*", provider: local, target: "*" }
  - { name: "local/fixed", provider: local, target: "pinned" }
`;

describe('ModelTable', () => {
  it('routes a pattern match to the named target, and reuses the route it made', () => {
    const models = table(PATTERNS);
    const first = models.resolve('local/llama-3');
    expect(first?.chain.map((e) => e.id)).toEqual(['local/llama-3']);
    expect(first?.dynamic).toBe(true);
    expect(models.resolve('local/llama-3')).toBe(first);
    expect(models.resolve('local/fixed')?.chain.map((e) => e.target)).toEqual(['pinned']);
    expect(models.resolve('local/')).toBeUndefined();
    expect(models.resolve('other/llama-3')).toBeUndefined();
  });

  it('keeps answering correctly past the bound of its cache of matched names', () => {
    const models = table(PATTERNS);
    for (let i = 0; i < 10_000; i++) {
      expect(models.resolve(`local/m${i}`)?.chain[0].target).toBe(`m${i}`);
    }
    expect(models.resolve('local/m3')?.chain[0].target).toBe('m3');
  });

  // Found by the breaker: with only OPENAI_API_KEY set, "o1" and "o3" (OpenAI model ids in
  // their own right) answered 404 GW_ERR_MODEL_NOT_FOUND, while README promises the bare
  // names o1*, o3*: a pattern needed at least one character after its prefix.
  it('routes a name equal to the prefix of a pattern that maps names to themselves', () => {
    const models = table(`
providers:
  - { id: openai, protocol: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  - { name: "o1*", provider: openai, target: "o1*" }
  - { name: "o3*", provider: openai, target: "o3*" }
  - { name: "gpt-*", provider: openai, target: "gpt-*" }
  - { name: "openai/*", provider: openai, target: "*" }
  - { name: "fixed-*", provider: openai, target: "pinned-*" }
`);
    expect(models.resolve('o1')?.chain.map((e) => e.target)).toEqual(['o1']);
    expect(models.resolve('o3')?.chain.map((e) => e.target)).toEqual(['o3']);
    expect(models.resolve('o3-mini')?.chain.map((e) => e.target)).toEqual(['o3-mini']);
    // Nothing after the prefix names no model where the target is not the name itself.
    expect(models.resolve('openai/')).toBeUndefined();
    expect(models.resolve('fixed-')).toBeUndefined();
  });

  // "gpt-*" and "chatgpt-*" map names to themselves too, but "gpt-" is a family's prefix, not
  // a model: routed, it cost a provider round trip and came back as the provider's 404
  // instead of the gateway's own GW_ERR_MODEL_NOT_FOUND.
  it('routes no bare prefix that ends in a separator, even where names map to themselves', () => {
    const models = table(`
providers:
  - { id: openai, protocol: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  - { name: "o1*", provider: openai, target: "o1*" }
  - { name: "gpt-*", provider: openai, target: "gpt-*" }
  - { name: "chatgpt-*", provider: openai, target: "chatgpt-*" }
`);
    expect(models.resolve('gpt-')).toBeUndefined();
    expect(models.resolve('chatgpt-')).toBeUndefined();
    expect(models.resolve('gpt-4o')?.chain.map((e) => e.target)).toEqual(['gpt-4o']);
    expect(models.resolve('o1')?.chain.map((e) => e.target)).toEqual(['o1']);
  });
});
