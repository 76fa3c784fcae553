import {
  PolicySchema,
  Protocol,
  ProtocolSchema,
  type ApiKey,
  type Listen,
  type Model,
  type ModelClass,
  type Policy,
  type Price,
  type Provider,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { modelNameProblem } from '../model-name.js';
import {
  CATALOG,
  PROTOCOL_OF,
  catalogEntry,
  placeholdersOf,
  type CatalogEntry,
} from '../providers/catalog.js';
import {
  MAX_PORT,
  closest,
  decodeMessage,
  describe,
  enumNames,
  isMapping,
  show,
} from './decode-document.js';
import { checkClasses, checkModelClass, checkRouting } from './validate-classes.js';
import { writtenZeros } from './written-zeros.js';
import { copyMessage } from './message.js';

/** One thing wrong with a config: where (`providers[1].base_url`) and why. */
export interface Problem {
  readonly path: string;
  readonly reason: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ValidateOptions {
  /** Where api_key_env names are looked up; defaults to process.env. */
  readonly env?: Env;
}

/** Every problem found in one config, thrown once at startup. */
export class ConfigError extends Error {
  readonly source: string;
  readonly problems: readonly Problem[];

  constructor(source: string, problems: readonly Problem[]) {
    const lines = problems.map((p) => `  ${p.path === '' ? '' : `${p.path}: `}${p.reason}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${source}: ${count} in the config:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

/**
 * Turns a parsed YAML/JSON document (snake_case, as in the file) into a Policy. Shape problems
 * (unknown fields, wrong types) and rule problems are collected together and thrown as one
 * ConfigError, so a broken file is fixed in one round trip.
 */
export function policyFromDocument(
  doc: unknown,
  source: string,
  options?: ValidateOptions,
): Policy {
  if (doc !== null && doc !== undefined && !isMapping(doc)) {
    const sections = PolicySchema.fields.map((f) => f.name).join(', ');
    const reason = `the config must be a mapping of sections (${sections}), got ${describe(doc)}`;
    throw new ConfigError(source, [{ path: '', reason }]);
  }

  const shape: Problem[] = [];
  const policy = decodeMessage(PolicySchema, doc ?? {}, '', shape) as Policy;
  shape.push(...writtenZeros(doc ?? {}, policy));
  applyCatalog(policy, options?.env ?? process.env);

  // A field that failed to decode was left empty; its "required" complaint would be noise.
  const rules = validatePolicy(policy, options).filter((p) => !shape.some((s) => covers(s, p)));
  const problems = [...shape, ...rules];
  if (problems.length > 0) throw new ConfigError(source, problems);
  return policy;
}

/** Throws a ConfigError when the policy breaks any rule; for policies not read from a file. */
export function assertValidPolicy(policy: Policy, source: string, options?: ValidateOptions): void {
  const problems = validatePolicy(policy, options);
  if (problems.length > 0) throw new ConfigError(source, problems);
}

/** The rules a Policy must satisfy, whatever produced it. Paths use the file's snake_case. */
export function validatePolicy(policy: Policy, options: ValidateOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const report: Report = (path, reason) => problems.push({ path, reason });
  const env = options.env ?? process.env;

  // Rules apply to what the sidecar will run: catalog entries filled in, as loading does.
  const filled = copyMessage(PolicySchema, policy);
  applyCatalog(filled, env);

  if (filled.listen) checkListen(filled.listen, report);
  checkProviders(filled.providers, env, report);
  checkModels(filled.models, filled.providers, filled.classes, report);
  checkClasses(filled.classes, filled.providers, report);
  if (filled.routing) checkRouting(filled.routing, report);
  checkApiKeys(filled.apiKeys, report);
  return problems;
}

/**
 * Fills what a provider naming a catalog entry (`catalog: groq`) left empty: protocol,
 * base_url (when the entry's URL needs no placeholder filled) and api_key_env (the first of
 * the entry's variables that is set, else its conventional one; for local servers only a
 * set one, their key being optional). Unknown entries are left for validatePolicy to report.
 */
export function applyCatalog(policy: Policy, env: Env = process.env): void {
  for (const p of policy.providers) {
    const entry = p.catalog === '' ? undefined : catalogEntry(p.catalog);
    if (entry === undefined) continue;
    const protocol = PROTOCOL_OF[entry.protocol];
    if (p.protocol === Protocol.UNSPECIFIED) p.protocol = protocol;
    if (p.protocol !== protocol) continue;

    if (p.baseUrl === '' && placeholdersOf(entry.baseUrl).length === 0) p.baseUrl = entry.baseUrl;
    if (p.apiKeyEnv === '') {
      const set = entry.apiKeyEnv.find((name) => env[name]);
      const chosen = set ?? (entry.local ? undefined : entry.apiKeyEnv[0]);
      if (chosen !== undefined) p.apiKeyEnv = chosen;
    }
  }
}

type Report = (path: string, reason: string) => void;

function covers(decoded: Problem, rule: Problem): boolean {
  const p = decoded.path;
  return rule.path === p || rule.path.startsWith(`${p}.`) || rule.path.startsWith(`${p}[`);
}

// ---- rules -------------------------------------------------------------------------------

const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// POSIX names for utility environment variables: upper case, digits, underscore. Being strict
// here also means a pasted key (sk-..., gsk_...) is refused without being echoed back.
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 section 5.6.2 token
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
]);
/** Headers the gateway sets; accept-encoding is identity, as the sidecar decodes no coding. */
const GATEWAY_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'accept-encoding',
]);
/** Headers about one connection (undici refuses the first three outright). */
const HOP_HEADERS = new Set(['expect', 'upgrade', 'keep-alive', 'te', 'trailer']);
const SHA256_HEX = /^[0-9a-f]{64}$/;

function checkListen(listen: Listen, report: Report) {
  if (/[\s/]/.test(listen.host)) {
    report('listen.host', `must be a host name or IP address, got ${show(listen.host)}`);
  }
  if (listen.port > MAX_PORT) {
    report('listen.port', `must be from 0 to ${MAX_PORT} (0 means 4100), got ${listen.port}`);
  }
}

function checkProviders(providers: readonly Provider[], env: Env, report: Report) {
  const seen = new Map<string, number>();

  providers.forEach((p, i) => {
    const at = `providers[${i}]`;
    if (p.id === '') report(`${at}.id`, 'required');
    else if (!PROVIDER_ID.test(p.id)) {
      report(`${at}.id`, `must be letters, digits, ".", "_" or "-", got ${show(p.id)}`);
    } else if (seen.has(p.id)) {
      report(`${at}.id`, `duplicate id "${p.id}" (also providers[${seen.get(p.id)}])`);
    } else seen.set(p.id, i);

    const entry = checkCatalog(p, at, report);
    checkProtocolFields(p, entry, at, report);
    checkCloudFields(p, at, env, report);
    if (p.apiKeyEnv !== '') checkApiKeyEnv(p, `${at}.api_key_env`, env, report);
    for (const [name, value] of Object.entries(p.headers)) {
      checkHeader(name, value, `${at}.headers`, report);
    }
  });
}

/** The catalog entry a provider names, when it names a known one of its own protocol. */
function checkCatalog(p: Provider, at: string, report: Report): CatalogEntry | undefined {
  if (p.catalog === '') return undefined;
  const entry = catalogEntry(p.catalog);
  if (entry === undefined) {
    const guess = closest(
      p.catalog,
      CATALOG.map((e) => e.id),
    );
    const hint = guess ? `did you mean ${guess}?` : '"modelgate providers" lists them';
    report(`${at}.catalog`, `no catalog entry ${show(p.catalog)} (${hint})`);
    return undefined;
  }
  if (p.protocol !== Protocol.UNSPECIFIED && p.protocol !== PROTOCOL_OF[entry.protocol]) {
    report(
      `${at}.protocol`,
      `catalog entry "${entry.id}" speaks ${entry.protocol}, not ${protocolName(p.protocol)}`,
    );
    return undefined;
  }
  return entry;
}

/** Protocols whose adapter knows its provider's address (see providers/factories.ts). */
const NATIVE = new Set([
  Protocol.ANTHROPIC,
  Protocol.GEMINI,
  Protocol.VERTEX,
  Protocol.BEDROCK,
  Protocol.COHERE,
]);
/** Protocols that authenticate with api_key_env and nothing else. */
const KEYED = new Set([Protocol.ANTHROPIC, Protocol.GEMINI, Protocol.COHERE]);

function checkProtocolFields(
  p: Provider,
  entry: CatalogEntry | undefined,
  at: string,
  report: Report,
) {
  if (p.protocol === Protocol.UNSPECIFIED) {
    // An unknown catalog entry was reported already; guessing a protocol would be noise.
    if (p.catalog !== '' && catalogEntry(p.catalog) === undefined) return;
    const names = [...protocolNames().keys()].join(', ');
    report(`${at}.protocol`, `required: one of ${names} (or name a catalog entry)`);
    return;
  }

  const name = protocolName(p.protocol);
  const azure = p.protocol === Protocol.AZURE_OPENAI;
  if (p.protocol === Protocol.DEMO) {
    // The demo provider answers in-process; a URL or key here means the author expected traffic.
    if (p.baseUrl !== '') report(`${at}.base_url`, 'not used by protocol demo (no network)');
    if (p.apiKeyEnv !== '') report(`${at}.api_key_env`, 'not used by protocol demo (no network)');
  } else if (p.baseUrl !== '') {
    checkBaseUrl(p.baseUrl, `${at}.base_url`, report);
  } else if (!NATIVE.has(p.protocol)) {
    report(`${at}.base_url`, missingBaseUrl(name, entry));
  }

  if (azure && p.apiVersion === '') {
    report(`${at}.api_version`, 'required for protocol azure_openai (e.g. 2024-10-21)');
  }
  if (!azure && p.apiVersion !== '') {
    report(`${at}.api_version`, `only used by protocol azure_openai, not ${name}`);
  }
  if (azure && p.apiKeyEnv === '') {
    report(`${at}.api_key_env`, 'required for protocol azure_openai (it sends an api-key header)');
  }
  if (KEYED.has(p.protocol) && p.apiKeyEnv === '') {
    report(`${at}.api_key_env`, `required for protocol ${name} (the variable holding its API key)`);
  }
}

/** Why base_url is needed: the protocol has no default, or the catalog URL needs filling. */
function missingBaseUrl(protocol: string, entry: CatalogEntry | undefined): string {
  const parts = entry === undefined ? [] : placeholdersOf(entry.baseUrl);
  if (entry === undefined || parts.length === 0) return `required for protocol ${protocol}`;
  const holes = parts.map((part) => `{${part}}`).join(' and ');
  return (
    `required: catalog entry "${entry.id}" has no fixed URL; ` +
    `give ${entry.baseUrl} with ${holes} filled in`
  );
}

const REGION = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;
const VERTEX_KEY_FILE_ENV = 'GOOGLE_APPLICATION_CREDENTIALS';
const AWS_PREFIX = 'AWS_';

/** region, project and credentials_env: where they belong, and what they must hold. */
function checkCloudFields(p: Provider, at: string, env: Env, report: Report) {
  const name = protocolName(p.protocol);
  const vertex = p.protocol === Protocol.VERTEX;
  const bedrock = p.protocol === Protocol.BEDROCK;

  if (p.region !== '' && !vertex && !bedrock) {
    report(`${at}.region`, `only used by protocols vertex and bedrock, not ${name}`);
  } else if (p.region !== '' && !REGION.test(p.region)) {
    // It becomes part of a host name: nothing but a plain region name may go there.
    report(`${at}.region`, `must be a region name such as us-east-1, got ${show(p.region)}`);
  } else if (p.region === '' && vertex) {
    report(`${at}.region`, 'required for protocol vertex (e.g. us-central1, or global)');
  } else if (p.region === '' && bedrock) {
    report(`${at}.region`, 'required for protocol bedrock (e.g. us-east-1)');
  }

  if (p.project !== '' && !vertex) {
    report(`${at}.project`, `only used by protocol vertex, not ${name}`);
  } else if (p.project !== '' && !PROJECT.test(p.project)) {
    report(`${at}.project`, `must be a Google Cloud project id, got ${show(p.project)}`);
  } else if (p.project === '' && vertex) {
    report(`${at}.project`, 'required for protocol vertex (the Google Cloud project id)');
  }

  if (p.credentialsEnv !== '' && !vertex && !bedrock) {
    report(`${at}.credentials_env`, `only used by protocols vertex and bedrock, not ${name}`);
    return;
  }
  if (p.credentialsEnv !== '' && !ENV_NAME.test(p.credentialsEnv)) {
    report(`${at}.credentials_env`, 'must name an environment variable (A-Z, 0-9, _)');
    return;
  }
  if (vertex) {
    const variable = p.credentialsEnv || VERTEX_KEY_FILE_ENV;
    if (!env[variable]) {
      report(
        `${at}.credentials_env`,
        `environment variable ${variable} is not set: "${p.id}" has no service-account key file`,
      );
    }
  }
  if (bedrock && p.apiKeyEnv === '') {
    const prefix = p.credentialsEnv || AWS_PREFIX;
    const missing = [`${prefix}ACCESS_KEY_ID`, `${prefix}SECRET_ACCESS_KEY`].filter((v) => !env[v]);
    if (missing.length > 0) {
      report(
        `${at}.credentials_env`,
        `environment variable${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} ` +
          `${missing.length > 1 ? 'are' : 'is'} not set and there is no api_key_env: ` +
          `"${p.id}" cannot sign requests`,
      );
    }
  }
}

function checkBaseUrl(value: string, path: string, report: Report) {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report(path, `must be an http:// or https:// URL, got ${show(value)}`);
    return;
  }

  // Checked before anything echoes the value: user:password@ is a secret in the wrong place.
  if (url.username !== '' || url.password !== '') {
    report(path, 'must not contain credentials (user:password@); use api_key_env');
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    report(path, `must be an http:// or https:// URL, got ${show(value)}`);
  } else if (/[?#]/.test(value)) {
    // Adapters send to base_url's origin and path, so a query or fragment would be dropped
    // without a word. Past the scheme, ? and # can only begin those two (an empty one too,
    // which URL.search and URL.hash do not show). Not echoed: a query may hold a key.
    const azure = url.searchParams.has('api-version')
      ? "; Azure's api-version has its own field, api_version (protocol azure_openai)"
      : '';
    report(path, `must not have a query string or fragment: they would be dropped${azure}`);
  }
}

function checkApiKeyEnv(p: Provider, path: string, env: Env, report: Report) {
  if (!ENV_NAME.test(p.apiKeyEnv)) {
    report(path, 'must name an environment variable (A-Z, 0-9, _), not hold the key itself');
    return;
  }

  // Never echo the value: it is the provider's secret.
  const value = env[p.apiKeyEnv];
  if (value === undefined || value === '') {
    report(path, `environment variable ${p.apiKeyEnv} is not set: "${p.id}" cannot authenticate`);
  } else if (/[\s\x00-\x1f\x7f]/.test(value)) {
    report(path, `environment variable ${p.apiKeyEnv} contains whitespace or control characters`);
  } else if (/[^\x21-\x7e]/.test(value)) {
    // A pasted "…" or curly quote: undici refuses it in a header, so every request would
    // fail as if the provider could not be reached.
    report(
      path,
      `environment variable ${p.apiKeyEnv} contains a character outside printable ASCII, ` +
        'which no provider key has',
    );
  }
}

function checkHeader(name: string, value: string, at: string, report: Report) {
  const path = HEADER_NAME.test(name) ? `${at}.${name}` : `${at}[${JSON.stringify(name)}]`;
  const lower = name.toLowerCase();

  // Header values are never echoed: some people put tokens in them.
  if (!HEADER_NAME.test(name)) report(path, 'is not a valid HTTP header name');
  else if (CREDENTIAL_HEADERS.has(lower)) {
    report(path, 'would carry a credential; secrets belong in api_key_env, never in the config');
  } else if (GATEWAY_HEADERS.has(lower)) report(path, 'is set by the gateway itself');
  else if (HOP_HEADERS.has(lower)) {
    report(path, 'is about one connection (hop-by-hop), never a header to send to a provider');
  }

  if (/[\r\n\0]/.test(value)) report(path, 'value must not contain CR, LF or NUL');
  // undici refuses other controls and characters past one byte: every request would fail as
  // if the provider could not be reached. Latin-1 would go as bytes no provider reads right.
  else if (/[^\t\x20-\x7e]/.test(value)) {
    report(path, 'value must be printable ASCII (percent-encode other text)');
  }
}

function checkModels(
  models: readonly Model[],
  providers: readonly Provider[],
  classes: readonly ModelClass[],
  report: Report,
) {
  const ids = providers.map((p) => p.id).filter((id) => id !== '');
  const known = ids.length > 0 ? `known: ${ids.join(', ')}` : 'no providers are defined';
  const seen = new Map<string, number>();
  if (models.length === 0) report('models', 'must list at least one model');

  models.forEach((m, i) => {
    const at = `models[${i}]`;
    const star = m.name.indexOf('*');
    // Requests are held to this rule: a name that breaks it could never be asked for.
    const nameProblem = modelNameProblem(m.name);
    if (m.name === '') report(`${at}.name`, 'required');
    else if (nameProblem !== undefined) report(`${at}.name`, nameProblem);
    else if (star !== -1 && star !== m.name.length - 1) {
      report(
        `${at}.name`,
        `"*" is allowed only at the end (a prefix pattern), got ${show(m.name)}`,
      );
    } else if (seen.has(m.name)) {
      report(`${at}.name`, `duplicate name "${m.name}" (also models[${seen.get(m.name)}])`);
    } else seen.set(m.name, i);

    if (m.price) checkPrice(m.price, `${at}.price`, report);
    if (m.class !== '') return checkModelClass(m, at, classes, report);
    if (m.provider === '') report(`${at}.provider`, 'required');
    else if (!ids.includes(m.provider)) {
      report(`${at}.provider`, `no provider with id ${show(m.provider)} (${known})`);
    }

    const targetStars = m.target.split('*').length - 1;
    // A target goes into URLs escaped, but it is half of the endpoint id (provider/target)
    // that log lines, metrics labels and the x-modelgate-endpoint header carry.
    const targetProblem = modelNameProblem(m.target);
    if (m.target === '') report(`${at}.target`, 'required: the model name the provider knows');
    else if (targetProblem !== undefined) report(`${at}.target`, targetProblem);
    else if (targetStars > 0 && star === -1) {
      report(`${at}.target`, `may contain "*" only when name ends in "*", got ${show(m.target)}`);
    } else if (targetStars > 1) {
      report(`${at}.target`, `may contain "*" at most once, got ${show(m.target)}`);
    }
  });
}

const PRICE_FIELDS = [
  ['inputPerMtok', 'input_per_mtok'],
  ['outputPerMtok', 'output_per_mtok'],
  ['cacheReadPerMtok', 'cache_read_per_mtok'],
  ['cacheWritePerMtok', 'cache_write_per_mtok'],
  ['cacheWrite1hPerMtok', 'cache_write_1h_per_mtok'],
] as const;

/** Costs are computed from these; a negative or infinite price would corrupt every report. */
function checkPrice(price: Price, at: string, report: Report) {
  for (const [field, name] of PRICE_FIELDS) {
    const value = price[field];
    if (!Number.isFinite(value) || value < 0) report(`${at}.${name}`, 'must be a number ≥ 0');
  }
}

function checkApiKeys(keys: readonly ApiKey[], report: Report) {
  const ids = new Map<string, number>();
  const hashes = new Map<string, number>();

  keys.forEach((k, i) => {
    const at = `api_keys[${i}]`;
    if (k.id === '') report(`${at}.id`, 'required');
    else if (ids.has(k.id)) {
      report(`${at}.id`, `duplicate id "${k.id}" (also api_keys[${ids.get(k.id)}])`);
    } else ids.set(k.id, i);

    // Not echoed: the usual mistake is pasting the key itself here.
    const first = hashes.get(k.sha256);
    if (!SHA256_HEX.test(k.sha256)) {
      report(
        `${at}.sha256`,
        'must be 64 lowercase hex characters (the SHA-256 of the key, see "modelgate keys hash")',
      );
    } else if (first !== undefined) {
      report(`${at}.sha256`, `same hash as api_keys[${first}]: one key listed twice`);
    } else hashes.set(k.sha256, i);
  });
}

function protocolNames() {
  return enumNames(ProtocolSchema);
}

function protocolName(protocol: Protocol): string {
  return [...protocolNames()].find(([, n]) => n === protocol)?.[0] ?? String(protocol);
}
