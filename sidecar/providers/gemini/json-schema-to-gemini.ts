// Reduces a JSON Schema (OpenAI tool parameters, response_format schemas) to the subset of
// the OpenAPI 3.0 Schema object that Gemini accepts (ai.google.dev/api/caching#Schema;
// cloud.google.com/vertex-ai/docs/reference/rest/v1/Schema). Gemini answers 400 to keys
// it does not know, so everything outside the subset is dropped; what cannot be expressed
// without changing the meaning ($ref cycles, external refs) is refused before any call.

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

/** Keys copied as they are: Gemini's Schema fields that mean what JSON Schema means. */
const COPIED = [
  'title',
  'description',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'pattern',
  'minimum',
  'maximum',
  'propertyOrdering',
] as const;

const TYPES: Record<string, string> = {
  string: 'STRING',
  number: 'NUMBER',
  integer: 'INTEGER',
  boolean: 'BOOLEAN',
  array: 'ARRAY',
  object: 'OBJECT',
};

// Formats Gemini acts on, per type; others ("email", "uri", ...) are dropped because the
// Developer API refuses string formats other than enum and date-time.
const FORMATS: Record<string, ReadonlySet<string>> = {
  STRING: new Set(['enum', 'date-time']),
  NUMBER: new Set(['float', 'double']),
  INTEGER: new Set(['int32', 'int64']),
};

/** `$ref` inlining depth beyond which a schema is treated as too complex to inline. */
const MAX_REF_DEPTH = 32;

interface Walk {
  root: JsonObject;
  /** Where the schema sits in the client's request, for error messages. */
  param: string;
  /** The `$ref`s being expanded above this node: seeing one again means a cycle. */
  expanding: string[];
}

/** The Gemini form of `schema`; `param` names it in the client's request. */
export function toGeminiSchema(schema: JsonObject, param: string): JsonObject {
  return reduce(schema, { root: schema, param, expanding: [] });
}

function reduce(node: JsonObject, walk: Walk): JsonObject {
  if (typeof node.$ref === 'string') return reduce(resolveRef(node, walk), refWalk(node, walk));
  const optional = optionalOf(node);
  if (optional !== undefined) return reduce(optional, walk);

  const out: JsonObject = {};
  let nullable = node.nullable === true;
  let type: string | undefined;

  const declared = Array.isArray(node.type)
    ? node.type
    : node.type === undefined
      ? []
      : [node.type];
  const types = declared.filter((t): t is string => typeof t === 'string' && t !== 'null');
  if (declared.includes('null')) nullable = true;
  if (types.length === 1) type = TYPES[types[0]];
  else if (types.length > 1) {
    // ["string","integer"]: Gemini has no type unions, but anyOf says the same.
    out.anyOf = types.map((t) => reduce({ ...node, type: t }, walk));
    if (nullable) out.nullable = true;
    return out;
  }
  type ??= impliedType(node);
  if (type !== undefined) out.type = type;

  for (const key of COPIED) {
    if (node[key] !== undefined) out[key] = node[key];
  }
  if (typeof node.format === 'string' && type !== undefined && FORMATS[type]?.has(node.format)) {
    out.format = node.format;
  }
  if (nullable) out.nullable = true;

  const values = Array.isArray(node.enum) ? node.enum : 'const' in node ? [node.const] : undefined;
  // Gemini's enum holds strings only; a numeric enum is dropped rather than re-typed.
  if (values !== undefined && values.every((v) => typeof v === 'string')) {
    out.enum = values.filter((v) => v !== null);
    if (out.type === undefined) out.type = 'STRING';
  }

  if (isObject(node.properties)) {
    const properties: JsonObject = {};
    for (const [name, sub] of Object.entries(node.properties)) {
      if (isObject(sub)) properties[name] = reduce(sub, child(walk, `properties.${name}`));
    }
    // Gemini refuses an OBJECT with an empty properties map; a free-form object says it all.
    if (Object.keys(properties).length > 0) out.properties = properties;
    if (Array.isArray(node.required)) {
      const required = node.required.filter((r) => typeof r === 'string' && r in properties);
      if (required.length > 0) out.required = required;
    }
  }
  const items = arrayItems(node);
  if (items !== undefined) out.items = reduce(items, child(walk, 'items'));

  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : node.oneOf;
  if (Array.isArray(alternatives)) {
    // oneOf ("exactly one") becomes anyOf ("at least one"): the closest Gemini can say.
    out.anyOf = alternatives
      .filter(isObject)
      .map((sub, i) => reduce(sub, child(walk, `anyOf[${i}]`)));
  }
  if (Array.isArray(node.allOf)) return mergeAllOf(out, node.allOf, walk);
  return out;
}

/**
 * `anyOf: [X, {type: "null"}]` (Pydantic's and zod's Optional) as X made nullable, the node's
 * own keys winning. Gemini requires a type on every schema and any_of alone on its node, so
 * the null member cannot be sent as it is; one schema marked nullable means the same.
 */
function optionalOf(node: JsonObject): JsonObject | undefined {
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : node.oneOf;
  if (!Array.isArray(alternatives) || alternatives.length !== 2) return undefined;
  const [first, second] = alternatives as unknown[];
  const member = isNullSchema(first) ? second : isNullSchema(second) ? first : undefined;
  if (!isObject(member)) return undefined;

  const { anyOf: _anyOf, oneOf: _oneOf, ...own } = node;
  return { ...member, ...own, nullable: true };
}

function isNullSchema(value: unknown): boolean {
  return isObject(value) && value.type === 'null' && Object.keys(value).length === 1;
}

function impliedType(node: JsonObject): string | undefined {
  if (isObject(node.properties)) return 'OBJECT';
  if (node.items !== undefined || node.prefixItems !== undefined) return 'ARRAY';
  return undefined;
}

/** `items`; a tuple (`prefixItems` or an items array) becomes "any of these". */
function arrayItems(node: JsonObject): JsonObject | undefined {
  if (isObject(node.items)) return node.items;
  const tuple = Array.isArray(node.prefixItems) ? node.prefixItems : node.items;
  if (!Array.isArray(tuple)) return undefined;
  const members = tuple.filter(isObject);
  if (members.length === 0) return undefined;
  return members.length === 1 ? members[0] : { anyOf: members };
}

/**
 * allOf of object schemas (what Pydantic emits for a described `$ref`) merges into one
 * object; anything else cannot be said in Gemini's subset. The node's own keys win.
 */
function mergeAllOf(base: JsonObject, parts: unknown[], walk: Walk): JsonObject {
  const merged: JsonObject = { ...base };
  const properties: JsonObject = { ...(base.properties as JsonObject | undefined) };
  const required = new Set((base.required as string[] | undefined) ?? []);

  parts.forEach((part, i) => {
    if (!isObject(part)) return;
    const sub = reduce(part, child(walk, `allOf[${i}]`));
    if (parts.length > 1 && sub.type !== undefined && sub.type !== 'OBJECT') {
      throw unsupported(walk.param, 'allOf over schemas that are not objects');
    }
    const { properties: subProperties, required: subRequired, ...rest } = sub;
    for (const [key, value] of Object.entries(rest)) if (!(key in merged)) merged[key] = value;
    Object.assign(properties, subProperties);
    for (const name of (subRequired as string[] | undefined) ?? []) required.add(name);
  });

  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function resolveRef(node: JsonObject, walk: Walk): JsonObject {
  const ref = node.$ref as string;
  if (walk.expanding.includes(ref)) {
    throw unsupported(walk.param, `a recursive $ref (${ref})`);
  }
  if (walk.expanding.length >= MAX_REF_DEPTH) throw unsupported(walk.param, '$refs nested so deep');

  const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  const defs = match ? walk.root[match[1]] : undefined;
  const target = isObject(defs) ? defs[decodePointer(match![2])] : undefined;
  if (!isObject(target)) throw unsupported(walk.param, `the $ref ${ref}`);

  // Sibling keywords (a description beside the $ref) override the definition's own.
  const { $ref: _ref, ...siblings } = node;
  return { ...target, ...siblings };
}

function refWalk(node: JsonObject, walk: Walk): Walk {
  return { ...walk, expanding: [...walk.expanding, node.$ref as string] };
}

function decodePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function child(walk: Walk, suffix: string): Walk {
  return { ...walk, param: `${walk.param}.${suffix}` };
}

function unsupported(param: string, what: string): GatewayError {
  return new GatewayError(
    'GW_ERR_REQ_UNSUPPORTED_PARAM',
    `'${param}' uses ${what}, which Gemini's schema subset cannot express; inline it.`,
    { param },
  );
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
