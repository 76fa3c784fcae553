import { describe, expect, it } from 'vitest';
import { MODEL_CATALOG } from '../../sidecar/routing/model-catalog.js';
import { findCatalogModel, proposeChain } from '../../sidecar/routing/propose-chain.js';

describe('proposeChain', () => {
  const reachable = new Set(['openai', 'anthropic', 'gemini', 'mistral', 'groq']);

  it('proposes frontier models with the same capabilities from other providers for a frontier model', () => {
    const sonnet = findCatalogModel('anthropic', 'claude-3-7-sonnet-latest')!;
    const chain = proposeChain(sonnet, reachable);
    expect(chain.length).toBe(2);
    for (const p of chain) {
      const model = findCatalogModel(p.provider, p.model)!;
      expect(p.provider).not.toBe('anthropic');
      expect(model.tools && model.vision).toBe(true);
      expect(model.tier).not.toBe('small');
    }
    expect(chain[0].similarity).toBeGreaterThanOrEqual(chain[1].similarity);
  });

  it('proposes small models for a small model, never a price band away', () => {
    const mini = findCatalogModel('openai', 'gpt-4o-mini')!;
    const chain = proposeChain(mini, reachable);
    expect(chain.map((p) => `${p.provider}/${p.model}`)).not.toContain('anthropic/claude-opus-4-0');
    for (const p of chain) expect(findCatalogModel(p.provider, p.model)!.vision).toBe(true);
    expect(chain.length).toBeGreaterThan(0);
  });

  it('proposes nothing when no other provider is reachable', () => {
    const mini = findCatalogModel('openai', 'gpt-4o-mini')!;
    expect(proposeChain(mini, new Set(['openai']))).toEqual([]);
  });

  it('never drops tool calling from a chain', () => {
    const withTools = MODEL_CATALOG.filter((c) => c.tools);
    for (const original of withTools) {
      for (const p of proposeChain(original, reachable)) {
        expect(
          findCatalogModel(p.provider, p.model)!.tools,
          `${original.model} -> ${p.model}`,
        ).toBe(true);
      }
    }
  });
});
