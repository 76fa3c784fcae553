// The limits a policy leaves at zero (unset, in proto3) and what the sidecar uses instead.

import type { Message } from '@bufbuild/protobuf';
import { LimitsSchema, type Limits } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { newMessage } from './message.js';

/** What a zero in Limits stands for. Keys match the Limits message fields. */
export const DEFAULT_LIMITS = {
  // Long chats with a few inline images fit; a runaway client does not exhaust memory.
  maxBodyBytes: 4 * 1024 * 1024,
  // Reasoning models can think for minutes before the last token.
  requestTimeoutMs: 600_000,
  connectTimeoutMs: 10_000,
  // Time to the first response byte: covers queueing and prompt processing upstream.
  firstByteTimeoutMs: 60_000,
  // Longest silence allowed between two stream events once the stream has started.
  idleTimeoutMs: 60_000,
  // How long in-flight requests may finish after SIGTERM. Kubernetes kills the pod 30 s after
  // SIGTERM by default (terminationGracePeriodSeconds); raise the two together.
  drainTimeoutMs: 30_000,
  // One SSE event (a whole tool-call argument can arrive in one) before the stream is cut.
  maxStreamEventBytes: 8 * 1024 * 1024,
} as const satisfies { [K in keyof Omit<Limits, keyof Message>]: number };

/** A copy of `limits` with every zero (unset) field taken from DEFAULT_LIMITS. */
export function withDefaultLimits(limits?: Limits): Limits {
  const filled = newMessage(LimitsSchema, DEFAULT_LIMITS);
  if (limits === undefined) return filled;

  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof typeof DEFAULT_LIMITS)[]) {
    if (limits[key] !== 0) filled[key] = limits[key];
  }
  return filled;
}
