import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { LimitsSchema } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { DEFAULT_LIMITS, withDefaultLimits } from '../../sidecar/config/limits.js';

describe('DEFAULT_LIMITS', () => {
  it('holds the documented values', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxBodyBytes: 4194304,
      requestTimeoutMs: 600000,
      connectTimeoutMs: 10000,
      firstByteTimeoutMs: 60000,
      idleTimeoutMs: 60000,
      drainTimeoutMs: 30000,
      maxStreamEventBytes: 8388608,
    });
  });
});

describe('withDefaultLimits', () => {
  it('fills only the zero fields and leaves the input untouched', () => {
    const limits = create(LimitsSchema, { maxBodyBytes: 1024, idleTimeoutMs: 5 });
    const filled = withDefaultLimits(limits);

    expect(filled).toMatchObject({ ...DEFAULT_LIMITS, maxBodyBytes: 1024, idleTimeoutMs: 5 });
    expect(limits.requestTimeoutMs).toBe(0);
  });

  it('gives every default when there are no limits at all', () => {
    expect(withDefaultLimits(undefined)).toMatchObject(DEFAULT_LIMITS);
  });
});
