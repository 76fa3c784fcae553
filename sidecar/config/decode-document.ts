// The shape half of loading a config: a parsed YAML/JSON document (snake_case, as in the
// file) read into a Policy message field by field, each problem recorded with its path
// (unknown fields, wrong types, values a field's type cannot hold). The rules a Policy
// must then satisfy are in validate.ts.

import type { DescEnum, DescField, DescMessage, Message, ScalarType } from '@bufbuild/protobuf';
import {
  LimitsSchema,
  ListenSchema,
  ModelClassSchema,
  RoutingSchema,
  TimeoutsSchema,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { describeCharAt } from '../model-name.js';
import { Scalar, newMessage, scalarName } from './message.js';
import { MAX_ATTEMPTS } from '../routing/model-table.js';
import { FAILOVER_STATUSES, SHORTEST_HEALTH_WINDOW_MS } from './validate-classes.js';
import type { Problem } from './validate.js';

/** The largest TCP port: what listen.port may hold, in a message and in its rule. */
export const MAX_PORT = 65535;

/** Reads a mapping into a message by proto field names; records problems, never throws. */
export function decodeMessage(
  desc: DescMessage,
  value: unknown,
  path: string,
  problems: Problem[],
): Message {
  const init: Record<string, unknown> = {};
  if (!isMapping(value)) {
    problems.push({ path, reason: `must be a mapping, got ${describe(value)}` });
    return newMessage(desc) as Message;
  }

  for (const [key, raw] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    const field = desc.fields.find((f) => f.name === key);
    if (field === undefined) {
      const names = desc.fields.map((f) => f.name);
      const guess = closest(key, names);
      const hint = guess ? `did you mean ${guess}?` : `known: ${names.join(', ')}`;
      problems.push({ path: at, reason: `unknown field (${hint})` });
      continue;
    }

    // YAML `key:` with nothing after it reads as null: treat it as not set, like proto JSON.
    if (raw === null) continue;
    const decoded = decodeField(field, raw, at, problems);
    if (decoded !== undefined) init[field.localName] = decoded;
  }
  return newMessage(desc, init) as Message;
}

function decodeField(field: DescField, raw: unknown, path: string, problems: Problem[]): unknown {
  switch (field.fieldKind) {
    case 'scalar':
      return decodeScalar(field.scalar, raw, path, problems, RULE_RANGES.get(field));
    case 'enum':
      return decodeEnum(field.enum, raw, path, problems);
    case 'message':
      return decodeMessage(field.message, raw, path, problems);
    case 'list': {
      if (!Array.isArray(raw)) return mismatch(path, 'a list', raw, problems);
      // Message items keep their index even when broken, so later paths stay right.
      const items = raw.map((item, i) => {
        const at = `${path}[${i}]`;
        if (field.listKind === 'message') return decodeMessage(field.message, item, at, problems);
        if (field.listKind === 'enum') return decodeEnum(field.enum, item, at, problems);
        return decodeScalar(field.scalar, item, at, problems, RULE_RANGES.get(field));
      });
      return items.filter((item) => item !== undefined);
    }
    case 'map': {
      if (!isMapping(raw)) return mismatch(path, 'a mapping', raw, problems);
      // Keys are taken as written: the Policy only has string-keyed maps.
      const entries = Object.entries(raw).map(([key, item]) => {
        const surrogate = LONE_SURROGATE.exec(key);
        if (surrogate !== null) {
          // JSON.stringify escapes a lone surrogate, so the path stays printable.
          const reason = `must be well-formed text; it has ${describeCharAt(key, surrogate.index)}`;
          problems.push({ path: `${path}[${JSON.stringify(key)}]`, reason });
          return [key, undefined];
        }
        const at = `${path}.${key}`;
        if (key === '__proto__') {
          // Kept by a spread but dropped by Object.assign and copyMessage() (which validation works
          // on), so such an entry would be sent by some requests, unchecked, and not others.
          problems.push({ path: at, reason: PROTO_KEY });
          return [key, undefined];
        }
        if (field.mapKind === 'message')
          return [key, decodeMessage(field.message, item, at, problems)];
        if (field.mapKind === 'enum') return [key, decodeEnum(field.enum, item, at, problems)];
        return [key, decodeScalar(field.scalar, item, at, problems)];
      });
      return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
    }
  }
}

/**
 * JSON can spell a lone surrogate ("\ud800") and YAML can too, but a proto string is UTF-8,
 * which has no encoding for one. protobuf's clone refused it with a stack trace and no path;
 * copyMessage copies it as it is, so this check is the only one.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a map key `__proto__` is refused. */
const PROTO_KEY = 'is a key JavaScript objects cannot hold as data: use another name';

export const UINT32_MAX = 0xffff_ffff;

const INTEGER_RANGES: Partial<Record<ScalarType, readonly [number, number]>> = {
  [Scalar.UINT32]: [0, UINT32_MAX],
  [Scalar.FIXED32]: [0, UINT32_MAX],
  [Scalar.INT32]: [-0x8000_0000, 0x7fff_ffff],
  [Scalar.SINT32]: [-0x8000_0000, 0x7fff_ffff],
  [Scalar.SFIXED32]: [-0x8000_0000, 0x7fff_ffff],
};

/**
 * Whole-number fields whose rules allow less than their proto type. A value the type
 * refuses ("4100", -1) is described by the rule's range, which is the one the user must
 * meet; a value the type takes but the rule does not is left to the rules, which the
 * control plane's policies go through too. Fields whose 0 stands for a default start at 1:
 * a 0 written for one in a file is refused in written-zeros.ts, with what it stood for.
 */
const RULE_RANGES = new Map<DescField, readonly [number, number]>([
  [ListenSchema.field.port, [0, MAX_PORT]],
  [ModelClassSchema.field.maxAttempts, [1, MAX_ATTEMPTS]],
  [ModelClassSchema.field.failoverOnStatus, FAILOVER_STATUSES],
  ...LimitsSchema.fields.map((f) => [f, [1, UINT32_MAX]] as const),
  ...TimeoutsSchema.fields.map((f) => [f, [1, UINT32_MAX]] as const),
  [RoutingSchema.field.breakerFailures, [1, UINT32_MAX]],
  [RoutingSchema.field.breakerCooldownMs, [1, UINT32_MAX]],
  [RoutingSchema.field.healthWindowMs, [SHORTEST_HEALTH_WINDOW_MS, UINT32_MAX]],
]);

function decodeScalar(
  type: ScalarType,
  raw: unknown,
  path: string,
  problems: Problem[],
  ruleRange?: readonly [number, number],
) {
  const range = INTEGER_RANGES[type];
  if (range) {
    const [min, max] = range;
    if (Number.isInteger(raw) && (raw as number) >= min && (raw as number) <= max) return raw;
    const [low, high] = ruleRange ?? range;
    return mismatch(path, `a whole number from ${low} to ${high}`, raw, problems);
  }

  switch (type) {
    case Scalar.STRING: {
      if (typeof raw !== 'string') return mismatch(path, 'a string', raw, problems);
      const surrogate = LONE_SURROGATE.exec(raw);
      if (surrogate === null) return raw;
      const reason = `must be well-formed text; it has ${describeCharAt(raw, surrogate.index)}`;
      problems.push({ path, reason });
      return undefined;
    }
    case Scalar.BOOL:
      return typeof raw === 'boolean' ? raw : mismatch(path, 'true or false', raw, problems);
    case Scalar.DOUBLE:
    case Scalar.FLOAT:
      return typeof raw === 'number' ? raw : mismatch(path, 'a number', raw, problems);
    default:
      // 64-bit integers and bytes have no field in the Policy yet; add them here when one does.
      throw new Error(`config files cannot express ${scalarName(type)} fields (${path})`);
  }
}

function decodeEnum(desc: DescEnum, raw: unknown, path: string, problems: Problem[]) {
  const names = enumNames(desc);
  const number = typeof raw === 'string' ? names.get(raw) : undefined;
  if (number !== undefined) return number;

  const guess = typeof raw === 'string' ? closest(raw, [...names.keys()]) : undefined;
  const hint = guess ? ` (did you mean ${guess}?)` : '';
  const reason = `must be one of ${[...names.keys()].join(', ')}, got ${describe(raw)}${hint}`;
  problems.push({ path, reason });
  return undefined;
}

/** File spelling of enum values: `PROTOCOL_AZURE_OPENAI` is written `azure_openai`. */
export function enumNames(desc: DescEnum): Map<string, number> {
  const values = desc.values.filter((v) => v.number !== 0);
  return new Map(values.map((v) => [v.localName.toLowerCase(), v.number]));
}

function mismatch(path: string, expected: string, raw: unknown, problems: Problem[]): undefined {
  problems.push({ path, reason: `must be ${expected}, got ${describe(raw)}` });
  return undefined;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  if (typeof value === 'string') return show(value);
  return String(value);
}

/** A config value quoted for a message, cut short so one bad line stays one line. */
export function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

// ---- did you mean ------------------------------------------------------------------------

/** The candidate a typo most likely meant: same letters ignoring case and _/-, or 1-2 edits. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;

  for (const candidate of candidates) {
    const distance = squash(candidate) === squash(word) ? 0 : editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.min(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus swapping two neighbours. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;

  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}
