// A 0 written in a config file for a field whose 0 stands for a default. A policy cannot tell
// unset from 0 (proto3), but a file can: there a 0 most likely means "never", "off" or "at
// once", and would silently get 30 s, 5 failures or 4 MiB, so it is refused, naming what it
// would have stood for. Policies that do not come from a file keep 0 as "unset".

import type { DescField, DescMessage } from '@bufbuild/protobuf';
import {
  LimitsSchema,
  RoutingSchema,
  TimeoutsSchema,
  type Policy,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { MAX_ATTEMPTS } from '../routing/model-table.js';
import { UINT32_MAX, isMapping } from './decode-document.js';
import { DEFAULT_LIMITS, withDefaultLimits } from './limits.js';
import { DEFAULT_ROUTING, TIMEOUT_LIMITS } from './routing-defaults.js';
import { SHORTEST_HEALTH_WINDOW_MS } from './validate-classes.js';
import type { Problem } from './validate.js';

/** A refused 0: what the field takes, what the user likely meant, what 0 gives instead. */
interface Zero {
  readonly range: readonly [number, number];
  readonly meant: string;
  readonly standsFor: string;
}

/** Routing fields whose 0 stands for a default, by what a 0 written there likely meant. */
const ROUTING_ZEROS = new Map<DescField, { min: number; meant: string }>([
  [RoutingSchema.field.breakerFailures, { min: 1, meant: '"never open the circuit"' }],
  [RoutingSchema.field.breakerCooldownMs, { min: 1, meant: '"probe at once"' }],
  [RoutingSchema.field.healthWindowMs, { min: SHORTEST_HEALTH_WINDOW_MS, meant: '"no window"' }],
]);

/**
 * Every such 0 in `doc` (the parsed file), section by section. `policy` is what the file
 * decoded to: it gives the limit a class timeout falls back to, and each class's chain.
 */
export function writtenZeros(doc: Record<string, unknown>, policy: Policy): Problem[] {
  const zeros: [string, Zero][] = [];

  for (const field of zerosIn(doc.limits, LimitsSchema)) {
    const standsFor = `the default (${DEFAULT_LIMITS[field.localName as LimitName]})`;
    zeros.push([`limits.${field.name}`, { range: [1, UINT32_MAX], meant: NO_LIMIT, standsFor }]);
  }

  for (const field of zerosIn(doc.routing, RoutingSchema)) {
    // explore_share is not here: it has presence, and a 0 written there is a real 0.
    const rule = ROUTING_ZEROS.get(field);
    if (rule === undefined) continue;
    const standsFor = `the default (${DEFAULT_ROUTING[field.localName as RoutingName]})`;
    const range = [rule.min, UINT32_MAX] as const;
    zeros.push([`routing.${field.name}`, { range, meant: rule.meant, standsFor }]);
  }

  const classes = Array.isArray(doc.classes) ? doc.classes : [];
  classes.forEach((c: unknown, i) => {
    if (isMapping(c)) zeros.push(...classZeros(c, i, policy));
  });
  return zeros.map(([path, zero]) => ({ path, reason: reasonFor(zero) }));
}

function classZeros(c: Record<string, unknown>, i: number, policy: Policy): [string, Zero][] {
  const at = `classes[${i}]`;
  const zeros: [string, Zero][] = [];
  if (c.max_attempts === 0) {
    // The decoder keeps a broken class at its index, so policy.classes[i] is this one.
    const length = policy.classes[i]?.chain.length ?? 0;
    const here = length > 0 ? ` (here ${Math.min(length, MAX_ATTEMPTS)})` : '';
    const standsFor = `the chain's length, at most ${MAX_ATTEMPTS}${here}`;
    zeros.push([`${at}.max_attempts`, { range: [1, MAX_ATTEMPTS], meant: NO_RETRY, standsFor }]);
  }

  const limits = withDefaultLimits(policy.limits);
  for (const field of zerosIn(c.timeouts, TimeoutsSchema)) {
    const limit = TIMEOUT_LIMITS[field.localName as TimeoutName];
    const whence = (policy.limits?.[limit] ?? 0) !== 0 ? 'as this file sets it' : 'its default';
    const standsFor = `limits.${LIMIT_NAMES[limit]} (${limits[limit]}, ${whence})`;
    const zero = { range: [1, UINT32_MAX] as const, meant: NO_TIMEOUT, standsFor };
    zeros.push([`${at}.timeouts.${field.name}`, zero]);
  }
  return zeros;
}

type LimitName = keyof typeof DEFAULT_LIMITS;
type RoutingName = keyof typeof DEFAULT_ROUTING;
type TimeoutName = keyof typeof TIMEOUT_LIMITS;

const NO_LIMIT = '"no limit" or "at once"';
const NO_RETRY = '"no retries" or "no limit"';
const NO_TIMEOUT = '"no timeout"';

/** The file's snake_case name of each limit, for messages. */
const LIMIT_NAMES = Object.fromEntries(LimitsSchema.fields.map((f) => [f.localName, f.name]));

function reasonFor({ range, meant, standsFor }: Zero): string {
  return (
    `must be from ${range[0]} to ${range[1]}: 0 would not mean ${meant} here but ` +
    `${standsFor}, so leave the field out for that`
  );
}

/** The fields of `desc` that a mapping from the file writes as 0, in the order written. */
function zerosIn(section: unknown, desc: DescMessage): DescField[] {
  if (!isMapping(section)) return [];
  return Object.entries(section).flatMap(([name, value]) => {
    const field = value === 0 ? desc.fields.find((f) => f.name === name) : undefined;
    return field === undefined ? [] : [field];
  });
}
