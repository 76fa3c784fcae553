import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Pool } from '../../sidecar/providers/undici-pool.js';

describe('undici-pool', () => {
  it('is the Pool class undici itself exports, not a copy or another version', () => {
    const require = createRequire(import.meta.url);
    const undici = require('undici') as { Pool: unknown };
    expect(Pool).toBe(undici.Pool);
  });
});
