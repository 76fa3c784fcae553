import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

// Conformance checks against OpenAI's published OpenAPI document. Parsing the 87k-line YAML
// takes 1.1-1.8 s, and vitest runs each test file in its own process, so the parsed schemas are
// also kept as JSON in the OS temp folder, keyed by the file's hash (~0.1 s to reload). Compiled
// validators are cached per process (~20-90 ms per schema name on first use).

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEFAULT_SPEC = '../shared/spec/openai-openapi.yaml';

/** Absolute path of the spec: MODELGATE_OPENAPI_SPEC (relative paths from the repo root). */
export const specPath = resolve(REPO_ROOT, process.env.MODELGATE_OPENAPI_SPEC || DEFAULT_SPEC);

/** False when the spec file is absent: spec-based tests must then report skipped. */
export const specAvailable = existsSync(specPath);

const SPEC_FROM = process.env.MODELGATE_OPENAPI_SPEC
  ? `MODELGATE_OPENAPI_SPEC=${process.env.MODELGATE_OPENAPI_SPEC}`
  : `MODELGATE_OPENAPI_SPEC unset, default ${DEFAULT_SPEC}`;

/** Why the spec-based checks are skipped: the missing file, and where its path came from. */
export const SPEC_MISSING_REASON = `no OpenAI OpenAPI spec at ${specPath} (${SPEC_FROM})`;

/**
 * A suite title that states why it is skipped when the spec is absent, for
 * `describe.skipIf(!specAvailable)(specSuite('...'), ...)`.
 */
export function specSuite(title: string): string {
  return specAvailable ? title : `${title} [skipped: ${SPEC_MISSING_REASON}]`;
}

const ROOT_ID = 'https://modelgate.invalid/openai-openapi.json';

// Keywords with no validation meaning that ajv is told to accept and ignore. Everything else
// must be a keyword ajv implements, so a new keyword in a future spec fails the compile loudly
// instead of being skipped (strictSchema stays on).
const ANNOTATION_KEYWORDS = [
  'discriminator', // OpenAPI hint; the oneOf/anyOf beside it carries the actual rule
  'example',
  'externalDocs',
  'xml',
  // Stray non-keywords in OpenAI's document (misspelt minItems/maxItems, an 'optional' flag).
  'optional',
  'min_items',
  'max_items',
];

export interface SpecStats {
  openapi: string;
  /** Time to read the schemas: a YAML parse, or a JSON reload when `fromCache`. */
  parseMs: number;
  fromCache: boolean;
  prepareMs: number;
  schemaCount: number;
  ignoredKeywords: readonly string[];
  /** How many 3.0 idioms and spec defects normalize() rewrote, by kind. */
  repairs: Readonly<Record<string, number>>;
}

interface Loaded {
  ajv: Ajv2020;
  stats: SpecStats;
  validators: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;

/** Loads, normalizes and registers the spec once per process. */
export function loadSpec(): SpecStats {
  return load().stats;
}

/** The compiled validator for `#/components/schemas/<schemaName>` (cached). */
export function validator(schemaName: string): ValidateFunction {
  const spec = load();
  const cached = spec.validators.get(schemaName);
  if (cached) return cached;

  if (!spec.ajv.getSchema(`${ROOT_ID}#/$defs/${schemaName}`)) {
    throw new Error(`no schema #/components/schemas/${schemaName} in ${specPath}`);
  }
  const validate = spec.ajv.compile({ $ref: `${ROOT_ID}#/$defs/${schemaName}` });
  spec.validators.set(schemaName, validate);
  return validate;
}

/** Each violation as "<instance path> <message>"; empty when the value conforms. */
export function conformanceErrors(schemaName: string, value: unknown): string[] {
  const validate = validator(schemaName);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeError);
}

/** Throws, listing every violation, unless `value` conforms to the named schema. */
export function assertConforms(schemaName: string, value: unknown): void {
  const errors = conformanceErrors(schemaName, value);
  if (errors.length === 0) return;

  const shown = errors.slice(0, 25).map((e) => `  ${e}`);
  if (errors.length > shown.length) shown.push(`  ... ${errors.length - shown.length} more`);
  throw new Error(
    `value does not conform to ${schemaName} (${errors.length} errors):\n${shown.join('\n')}`,
  );
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum') {
    return `${where} ${error.message} ${JSON.stringify(params.allowedValues)}`;
  }
  if (error.keyword === 'additionalProperties') {
    return `${where} ${error.message}: ${String(params.additionalProperty)}`;
  }
  return `${where} ${error.message}`;
}

function load(): Loaded {
  if (loaded) return loaded;
  if (!specAvailable) throw new Error(SPEC_MISSING_REASON);

  const parseStart = performance.now();
  const { doc, fromCache } = readSpec();
  const parseMs = performance.now() - parseStart;

  const prepareStart = performance.now();
  const schemas = doc.components?.schemas;
  if (!schemas) throw new Error(`${specPath} has no components.schemas`);
  const defs: Record<string, unknown> = {};
  const ignored = new Set(ANNOTATION_KEYWORDS);
  const repairs: Record<string, number> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    defs[name] = normalize(schema, { component: name, extensions: ignored, repairs });
  }

  const ajv = new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    // The document is checked against the 2020-12 meta-schema as it is added; that costs
    // ~0.3 s but catches any 3.0 leftover normalize() does not yet translate.
    validateSchema: true,
  });
  addFormatsModule.default(ajv);
  // OpenAI's own format for Unix seconds; `type: integer` beside it already does the check.
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) });

  for (const keyword of ignored) ajv.addKeyword({ keyword });
  ajv.addSchema({ $id: ROOT_ID, $defs: defs });

  const stats: SpecStats = {
    openapi: String(doc.openapi),
    parseMs,
    fromCache,
    prepareMs: performance.now() - prepareStart,
    schemaCount: Object.keys(defs).length,
    ignoredKeywords: [...ignored].sort(),
    repairs,
  };
  loaded = { ajv, stats, validators: new Map() };
  return loaded;
}

interface OpenApiDocument {
  openapi?: unknown;
  components?: { schemas?: Record<string, unknown> };
}

/** The spec's version and schemas, from the temp-folder copy when one matches its hash. */
function readSpec(): { doc: OpenApiDocument; fromCache: boolean } {
  const bytes = readFileSync(specPath);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const cachePath = join(tmpdir(), `modelgate-openapi-${hash}.json`);
  try {
    return { doc: JSON.parse(readFileSync(cachePath, 'utf8')) as OpenApiDocument, fromCache: true };
  } catch {
    // Absent or unreadable: parse the YAML and (re)write the copy below.
  }

  const full = parse(bytes.toString('utf8'), { maxAliasCount: -1 }) as OpenApiDocument;
  const doc = { openapi: full.openapi, components: { schemas: full.components?.schemas } };
  try {
    // Write-then-rename, so a test process running in parallel never reads half a file.
    const partial = `${cachePath}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(doc));
    renameSync(partial, cachePath);
  } catch {
    // A read-only temp folder only costs the next process another parse.
  }
  return { doc, fromCache: false };
}

// Where JSON Schema 2020-12 nests subschemas; every other key holds data (enum, default, ...).
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_SINGLES = [
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'contains',
  'not',
  'if',
  'then',
  'else',
];

interface NormalizeContext {
  component: string;
  extensions: Set<string>;
  repairs: Record<string, number>;
}

/**
 * Rewrites one component schema into plain JSON Schema 2020-12. The file declares OpenAPI
 * 3.1 but still carries 3.0 idioms that 2020-12 would silently misread:
 * - `nullable: true` (ignored by 2020-12, so `finish_reason: null` would fail `type: string`)
 *   becomes `anyOf: [<schema>, {type: 'null'}]`, which also works beside a `$ref`;
 * - boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 form;
 * - 2019-09 `$recursiveRef: '#'` (self-reference) becomes a `$ref` to the enclosing component;
 * - `#/components/schemas/X` references become `#/$defs/X` of the registered root;
 * - duplicate names in `required` (a meta-schema violation, same meaning) are removed.
 * Each rewrite is counted in `ctx.repairs` so the load statistics show what was changed.
 * `x-*` keys met at schema positions are collected so ajv can be told they are annotations.
 */
function normalize(schema: unknown, ctx: NormalizeContext): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;

  const out: Record<string, unknown> = { ...schema };
  for (const key of Object.keys(out)) {
    const value = out[key];
    if (key.startsWith('x-')) ctx.extensions.add(key);
    else if (SCHEMA_SINGLES.includes(key)) out[key] = normalize(value, ctx);
    else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((item) => normalize(item, ctx));
    } else if (SCHEMA_MAPS.includes(key) && typeof value === 'object' && value !== null) {
      const map: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) map[name] = normalize(sub, ctx);
      out[key] = map;
    }
  }

  if (typeof out.$ref === 'string') {
    out.$ref = out.$ref.replace('#/components/schemas/', '#/$defs/');
  }
  if (out.$recursiveRef === '#') {
    delete out.$recursiveRef;
    out.$ref = `#/$defs/${ctx.component}`;
    count(ctx, '$recursiveRef');
  }
  if (out.$recursiveAnchor !== undefined) delete out.$recursiveAnchor;
  toNumericExclusive(out, 'exclusiveMinimum', 'minimum', ctx);
  toNumericExclusive(out, 'exclusiveMaximum', 'maximum', ctx);
  if (Array.isArray(out.required) && new Set(out.required).size !== out.required.length) {
    out.required = [...new Set(out.required)];
    count(ctx, 'duplicate required');
  }

  if (out.nullable === undefined) return out;
  const nullable = out.nullable === true;
  delete out.nullable;
  count(ctx, 'nullable');
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

function toNumericExclusive(
  schema: Record<string, unknown>,
  exclusive: string,
  bound: string,
  ctx: NormalizeContext,
) {
  if (typeof schema[exclusive] !== 'boolean') return;
  if (schema[exclusive] === true) schema[exclusive] = schema[bound];
  else delete schema[exclusive];
  if (schema[exclusive] !== undefined) delete schema[bound];
  count(ctx, `boolean ${exclusive}`);
}

function count(ctx: NormalizeContext, repair: string): void {
  ctx.repairs[repair] = (ctx.repairs[repair] ?? 0) + 1;
}
