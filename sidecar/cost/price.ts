import type { Price } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { Usage } from '../providers/adapter.js';

/**
 * The cost of one request in integer micro-dollars. Prices are dollars per million tokens,
 * so tokens x price is already micro-dollars; we round once, at the end.
 *
 * Usage is in OpenAI semantics (promptTokens includes cache reads and writes), so each
 * token is priced exactly once: cache reads and writes at their own rates, the rest of the
 * prompt at the input rate. A cache rate left at 0 falls back to the input rate, never to
 * free, so a forgotten price under-bills nothing.
 */
export function costMicroUsd(usage: Usage, price: Price | undefined): number | undefined {
  if (price === undefined || (price.inputPerMtok === 0 && price.outputPerMtok === 0)) {
    return undefined;
  }
  const cacheRead = usage.cachedTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const cacheWrite1h = usage.cacheWrite1hTokens ?? 0;
  const plainInput = Math.max(0, usage.promptTokens - cacheRead - cacheWrite - cacheWrite1h);
  const rate = (value: number): number => value || price.inputPerMtok;

  const micro =
    plainInput * price.inputPerMtok +
    cacheRead * rate(price.cacheReadPerMtok) +
    cacheWrite * rate(price.cacheWritePerMtok) +
    cacheWrite1h * rate(price.cacheWrite1hPerMtok) +
    usage.completionTokens * price.outputPerMtok;
  return Math.round(micro);
}
