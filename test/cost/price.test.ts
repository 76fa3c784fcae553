import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { PriceSchema } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { costMicroUsd } from '../../sidecar/cost/price.js';

describe('costMicroUsd', () => {
  it('G30: prices Anthropic cache writes once, at 1.25x input', () => {
    // Claude 3.7 Sonnet at $3/M input, $15/M output; 5-minute cache writes at $3.75/M.
    const price = create(PriceSchema, {
      inputPerMtok: 3,
      outputPerMtok: 15,
      cacheWritePerMtok: 3.75,
      cacheReadPerMtok: 0.3,
    });
    const usage = {
      promptTokens: 12307,
      completionTokens: 550,
      totalTokens: 12857,
      cacheWriteTokens: 12304,
      cachedTokens: 0,
    };
    expect(costMicroUsd(usage, price)).toBe(54399); // $0.054399
  });

  it('G31: prices cache reads at the cache-read rate', () => {
    const price = create(PriceSchema, {
      inputPerMtok: 0.8,
      outputPerMtok: 4,
      cacheReadPerMtok: 0.08,
    });
    const usage = {
      promptTokens: 2459,
      completionTokens: 23,
      totalTokens: 2482,
      cachedTokens: 2455,
    };
    expect(costMicroUsd(usage, price)).toBe(292); // $0.0002916, rounded to the micro-dollar
  });

  it('charges reasoning tokens as output, once', () => {
    const price = create(PriceSchema, { inputPerMtok: 1.25, outputPerMtok: 10 });
    const usage = {
      promptTokens: 20,
      completionTokens: 533,
      totalTokens: 553,
      reasoningTokens: 382,
    };
    expect(costMicroUsd(usage, price)).toBe(Math.round(20 * 1.25 + 533 * 10));
  });

  it('falls back to the input rate when a cache rate is not configured', () => {
    const price = create(PriceSchema, { inputPerMtok: 2, outputPerMtok: 8 });
    const usage = { promptTokens: 100, completionTokens: 0, totalTokens: 100, cachedTokens: 40 };
    expect(costMicroUsd(usage, price)).toBe(200);
  });

  it('is unknown, not zero, for a model without a price', () => {
    expect(
      costMicroUsd({ promptTokens: 1, completionTokens: 1, totalTokens: 2 }, undefined),
    ).toBeUndefined();
  });
});
