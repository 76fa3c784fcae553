import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../sidecar/api/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('makes version 4 UUIDs, distinct across several refills of its random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newRequestId();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  it('returns a string of its own, not a view of the buffer the next id is written into', () => {
    const first = newRequestId();
    const copy = `${first}`;
    newRequestId();
    expect(first).toBe(copy);
  });

  it('spreads its random bits over every hex digit that is not fixed by the format', () => {
    // Per position, the digits seen over 4000 ids: a stuck or constant digit shows as one.
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 4000; i++) {
      const id = newRequestId();
      for (let p = 0; p < 36; p++) digits[p].add(id[p]);
    }
    const fixed = new Map([
      [8, '-'],
      [13, '-'],
      [14, '4'],
      [18, '-'],
      [23, '-'],
    ]);
    for (let p = 0; p < 36; p++) {
      if (fixed.has(p)) expect([...digits[p]]).toEqual([fixed.get(p)]);
      else if (p === 19) expect(digits[p]).toEqual(new Set(['8', '9', 'a', 'b']));
      else expect(digits[p].size).toBe(16);
    }
  });
});
