// The shape of a catalog entry. The entries themselves are data, one file per group of
// vendors, assembled in providers/catalog.ts.

/** The native protocol an entry speaks: a folder under providers/ with an adapter. */
export type CatalogProtocol =
  'openai' | 'azure_openai' | 'anthropic' | 'gemini' | 'vertex' | 'bedrock' | 'cohere';

/** How the credential travels. */
export type AuthStyle =
  | 'bearer'
  | 'x-api-key'
  | 'api-key'
  | 'x-goog-api-key'
  | 'sigv4'
  | 'oauth-service-account'
  | 'none';

export const CAPABILITIES = [
  'streaming',
  'tools',
  'vision',
  'json_schema',
  'embeddings',
  'rerank',
  'images',
  'audio',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export type Capabilities = Readonly<Record<Capability, boolean>>;

export interface CatalogEntry {
  /** Stable id, used as `catalog: <id>` in a config and as the `<id>/*` model prefix. */
  readonly id: string;
  readonly name: string;
  readonly protocol: CatalogProtocol;
  /**
   * The documented endpoint, as the adapter wants it: for OpenAI-protocol entries up to the
   * segment before `/chat/completions`. `{region}`, `{resource}` and `{account}` mark parts
   * only the operator knows (a region fills from the provider's `region`; the others need an
   * explicit base_url).
   */
  readonly baseUrl: string;
  readonly auth: AuthStyle;
  /** Environment variables that may hold the key, the conventional one first; may be empty. */
  readonly apiKeyEnv: readonly string[];
  /** An environment variable the vendor documents for overriding the base URL. */
  readonly baseUrlEnv?: string;
  /** Vertex: the variable naming the key file; Bedrock: the AWS variable prefix. */
  readonly credentialsEnv?: string;
  readonly capabilities: Capabilities;
  readonly docs: string;
  /** A server on the operator's own machine: never switched on by a key in the environment. */
  readonly local?: boolean;
  /** Another door into a vendor listed under this id: not switched on by its key alone. */
  readonly alternateOf?: string;
  /**
   * The key variable is a general-purpose credential (GITHUB_TOKEN, HF_TOKEN) that is often
   * set for other reasons, so its presence alone does not switch the vendor on.
   */
  readonly sharedKey?: boolean;
  /** Bare model-name patterns the embedded defaults route here (OpenAI's own families). */
  readonly barePatterns?: readonly string[];
  /**
   * OpenAI protocol: the service reports a stream's usage in its last chunk unasked and
   * refuses `stream_options` as an unknown field, so the field is never sent to it.
   */
  readonly streamUsageUnasked?: boolean;
}

/** Capabilities from the names of those that hold; the rest are false. */
export function caps(...names: Capability[]): Capabilities {
  const out = Object.fromEntries(CAPABILITIES.map((c) => [c, false])) as Record<
    Capability,
    boolean
  >;
  for (const name of names) out[name] = true;
  return out;
}

/** An OpenAI-protocol service that takes a bearer key. */
export function openaiCompatible(
  init: Omit<CatalogEntry, 'protocol' | 'auth'> & { auth?: AuthStyle },
): CatalogEntry {
  return { protocol: 'openai', auth: 'bearer', ...init };
}

/** Fields shared by every server on localhost (keyless unless it documents a key). */
export function localServer(init: {
  id: string;
  name: string;
  baseUrl: string;
  docs: string;
  capabilities: Capabilities;
  /** Some servers accept an optional key; the variable they document for it. */
  apiKeyEnv?: readonly string[];
}): CatalogEntry {
  return {
    protocol: 'openai',
    auth: init.apiKeyEnv ? 'bearer' : 'none',
    local: true,
    ...init,
    apiKeyEnv: init.apiKeyEnv ?? [],
  };
}
