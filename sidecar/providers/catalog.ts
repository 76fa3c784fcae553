// The provider catalog: every vendor modelgate knows how to reach, as data. Adding a vendor
// that speaks a known protocol is one entry in a file under catalog/; `modelgate providers`
// prints the list, and a config may say `catalog: <id>` instead of spelling out the endpoint.

import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { GATEWAYS } from './catalog/gateways.js';
import { HOSTED } from './catalog/hosted.js';
import { LOCAL } from './catalog/local.js';
import { NATIVE } from './catalog/native.js';
import { PLATFORMS } from './catalog/platforms.js';
import { REGIONAL } from './catalog/regional.js';
import type { CatalogEntry, CatalogProtocol } from './catalog/types.js';

export {
  CAPABILITIES,
  type AuthStyle,
  type Capabilities,
  type Capability,
  type CatalogEntry,
  type CatalogProtocol,
} from './catalog/types.js';

export const CATALOG: readonly CatalogEntry[] = [
  ...NATIVE,
  ...HOSTED,
  ...GATEWAYS,
  ...REGIONAL,
  ...PLATFORMS,
  ...LOCAL,
];

const BY_ID = new Map(CATALOG.map((entry) => [entry.id, entry]));

export function catalogEntry(id: string): CatalogEntry | undefined {
  return BY_ID.get(id);
}

/**
 * Fixed endpoints to the one entry that documents each. An endpoint several entries share
 * (local servers on http://localhost:8080/v1) names no vendor: the URL cannot say which
 * server answers there.
 */
const BY_URL = new Map<string, CatalogEntry | undefined>();
for (const entry of CATALOG) {
  if (placeholdersOf(entry.baseUrl).length > 0) continue;
  const url = trimSlashes(entry.baseUrl);
  BY_URL.set(url, BY_URL.has(url) ? undefined : entry);
}

/**
 * The vendor a provider reaches: the entry it names (`catalog: mistral`), else the entry whose
 * documented endpoint its base URL is, so that a config spelling out Mistral's URL gets
 * Mistral's quirks too. A proxy in front of a vendor is matched only by naming the entry.
 */
export function vendorOf(provider: { catalog: string }, baseUrl: string): CatalogEntry | undefined {
  if (provider.catalog !== '') return BY_ID.get(provider.catalog);
  return BY_URL.get(trimSlashes(baseUrl));
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The Policy enum value for each catalog protocol name. */
export const PROTOCOL_OF: Readonly<Record<CatalogProtocol, Protocol>> = {
  openai: Protocol.OPENAI,
  azure_openai: Protocol.AZURE_OPENAI,
  anthropic: Protocol.ANTHROPIC,
  gemini: Protocol.GEMINI,
  vertex: Protocol.VERTEX,
  bedrock: Protocol.BEDROCK,
  cohere: Protocol.COHERE,
};

/** The only `{...}` parts a catalog base URL may hold. */
export const PLACEHOLDERS = ['region', 'resource', 'account'] as const;

/** The `{name}` placeholders in a URL template, in order. */
export function placeholdersOf(url: string): string[] {
  return [...url.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
}

/**
 * Whether the embedded defaults may switch this entry on because its key is set: not for
 * local servers, alternate doors, shared tokens, or endpoints whose URL needs the operator.
 */
export function autoEnables(entry: CatalogEntry): boolean {
  return (
    !entry.local &&
    entry.alternateOf === undefined &&
    !entry.sharedKey &&
    entry.apiKeyEnv.length > 0 &&
    placeholdersOf(entry.baseUrl).length === 0
  );
}
