/**
 * A token count as a provider's usage may hold one: a whole number from 0 up, exact as a
 * double. Anything else (a fraction, a negative, 1e30, text) is no figure at all: it would
 * bill nonsense.
 */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
