// Proposes a failover chain for a model configured without one: the catalog models closest
// to it, among the providers this sidecar can reach. "Closest" is a cosine over a small
// feature vector (tier, context window and prices on log scales); a candidate must also
// offer every capability the original has, since a chain that drops tool calling would
// turn an outage into wrong answers.

import { MODEL_CATALOG, type CatalogModel } from './model-catalog.js';

export interface Proposal {
  readonly provider: string;
  readonly model: string;
  readonly contextWindow: number;
  readonly similarity: number;
}

/** At most this many endpoints are added after the original. */
const ALTERNATES = 2;
/** A candidate's blended price must be within this factor of the original's. */
const PRICE_BAND = 4;

export function findCatalogModel(provider: string, model: string): CatalogModel | undefined {
  return MODEL_CATALOG.find((c) => c.provider === provider && c.model === model);
}

export function proposeChain(
  original: CatalogModel,
  reachable: ReadonlySet<string>,
  catalog: readonly CatalogModel[] = MODEL_CATALOG,
): Proposal[] {
  const base = features(original);
  return catalog
    .filter((c) => c !== original && reachable.has(c.provider) && c.provider !== original.provider)
    .filter((c) => covers(c, original) && withinBand(c, original))
    .map((c) => ({
      provider: c.provider,
      model: c.model,
      contextWindow: c.contextWindow,
      similarity: cosine(base, features(c)),
    }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, ALTERNATES);
}

function covers(candidate: CatalogModel, original: CatalogModel): boolean {
  return (
    (!original.tools || candidate.tools) &&
    (!original.vision || candidate.vision) &&
    candidate.contextWindow >= original.contextWindow / 2
  );
}

function blended(c: CatalogModel): number {
  // Typical chat traffic reads about three tokens for each one it writes.
  return (3 * c.inputPerMtok + c.outputPerMtok) / 4;
}

function withinBand(candidate: CatalogModel, original: CatalogModel): boolean {
  const ratio = blended(candidate) / blended(original);
  return ratio <= PRICE_BAND && ratio >= 1 / PRICE_BAND;
}

function features(c: CatalogModel): number[] {
  return [
    c.tier === 'frontier' ? 1 : 0,
    c.tier === 'mid' ? 1 : 0,
    c.tier === 'small' ? 1 : 0,
    Math.log10(c.contextWindow) / 6,
    Math.log10(1 + c.inputPerMtok),
    Math.log10(1 + c.outputPerMtok),
    c.reasoning ? 0.5 : 0,
  ];
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
