// What a zero in Routing and in a class's Timeouts stands for (proto3 cannot tell unset from
// 0); config/limits.ts does the same for Limits.

import type { Message } from '@bufbuild/protobuf';
import type { Limits, Routing, Timeouts } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { RouteTimeouts } from '../routing/model-table.js';
import type { DEFAULT_LIMITS } from './limits.js';

type LimitName = keyof typeof DEFAULT_LIMITS;

/** What a zero in these Routing fields stands for. Keys match the Routing message fields. */
export const DEFAULT_ROUTING = {
  breakerFailures: 5,
  breakerCooldownMs: 30_000,
  healthWindowMs: 60_000,
} as const satisfies Partial<{ [K in keyof Omit<Routing, keyof Message>]: number }>;

/** The limit a class timeout left at zero falls back to. Keys match the Timeouts fields. */
export const TIMEOUT_LIMITS = {
  connectMs: 'connectTimeoutMs',
  firstByteMs: 'firstByteTimeoutMs',
  // Reasoning models may think for minutes before the first token: by default only the idle
  // gap and the total deadline bound that wait; a class can set a tighter one.
  firstTokenMs: 'requestTimeoutMs',
  idleMs: 'idleTimeoutMs',
  totalMs: 'requestTimeoutMs',
} as const satisfies { [K in keyof Omit<Timeouts, keyof Message>]: LimitName };

/** The timeouts of a route whose class sets none, from limits with their defaults filled. */
export function defaultTimeouts(limits: Limits): RouteTimeouts {
  return {
    connectMs: limits[TIMEOUT_LIMITS.connectMs],
    firstByteMs: limits[TIMEOUT_LIMITS.firstByteMs],
    firstTokenMs: limits[TIMEOUT_LIMITS.firstTokenMs],
    idleMs: limits[TIMEOUT_LIMITS.idleMs],
    totalMs: limits[TIMEOUT_LIMITS.totalMs],
  };
}
