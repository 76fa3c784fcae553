import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadSimilarityKernel,
  VectorIndex,
  type SearchHit,
  type SimilarityExports,
  type SimilarityKernel,
} from '../../sidecar/cache/similarity-kernel.js';

// The error bounds stated in wasm/similarity.ts, checked against plain-JS f64 references.
const U = 2 ** -24;
const unit = (dim: number) => (dim / 16 + 16) * U;

const DIMS = [1, 3, 4, 15, 16, 17, 384, 1536];

let kernel: SimilarityKernel;
beforeAll(async () => {
  kernel = await loadSimilarityKernel();
});

// xorshift32: deterministic, so a failure reproduces with the same vectors.
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function randomVector(dim: number, next: () => number): Float32Array {
  const vec = new Float32Array(dim);
  for (let i = 0; i < dim; i++) vec[i] = next() * 2 - 1;
  return vec;
}

function refDot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function refAbsDot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] * b[i]);
  return sum;
}

function refCosine(a: Float32Array, b: Float32Array): number {
  const norms = Math.sqrt(refDot(a, a) * refDot(b, b));
  return norms === 0 ? 0 : refDot(a, b) / norms;
}

/** Copies vectors into the scratch area of a raw instance and returns their addresses. */
function place(wasm: SimilarityExports, ...vectors: Float32Array[]): number[] {
  const stride = Math.ceil(vectors[0].length / 4) * 16;
  const base = wasm.scratchReserve(stride * vectors.length) >>> 0;
  const f32 = new Float32Array(wasm.memory.buffer);
  return vectors.map((vec, i) => {
    f32.set(vec, (base + i * stride) / 4);
    return base + i * stride;
  });
}

function expectBestFirst(hits: SearchHit[]): void {
  for (let i = 1; i < hits.length; i++) {
    const [prev, hit] = [hits[i - 1], hits[i]];
    expect(prev.score > hit.score || (prev.score === hit.score && prev.index < hit.index)).toBe(
      true,
    );
  }
}

describe.each(DIMS)('kernels at dim %i', (dim) => {
  const pairs = Array.from({ length: 20 }, (_, i) => {
    const next = rng(dim * 1000 + i);
    return [randomVector(dim, next), randomVector(dim, next)] as const;
  });

  it('dot matches the f64 reference within (dim/16 + 16) * 2^-24 * sum|a_i * b_i|', () => {
    const wasm = kernel.instantiate();
    for (const [a, b] of pairs) {
      const [aPtr, bPtr] = place(wasm, a, b);
      const error = Math.abs(wasm.dot(aPtr, bPtr, dim) - refDot(a, b));
      expect(error).toBeLessThanOrEqual(unit(dim) * refAbsDot(a, b));
    }
  });

  it('cosine matches the f64 reference within 2 * (dim/16 + 16) * 2^-24', () => {
    for (const [a, b] of pairs) {
      const error = Math.abs(kernel.cosine(a, b) - refCosine(a, b));
      expect(error).toBeLessThanOrEqual(2 * unit(dim));
    }
  });

  it('normalize matches the f64 reference within (dim/16 + 16) * 2^-24 per component', () => {
    const wasm = kernel.instantiate();
    for (const [a] of pairs) {
      const [ptr] = place(wasm, a);
      const length = wasm.normalize(ptr, dim);
      const refLength = Math.sqrt(refDot(a, a));
      expect(Math.abs(length - refLength)).toBeLessThanOrEqual(unit(dim) * refLength);

      const out = new Float32Array(wasm.memory.buffer, ptr, dim);
      for (let i = 0; i < dim; i++) {
        const ref = a[i] / refLength;
        expect(Math.abs(out[i] - ref)).toBeLessThanOrEqual(unit(dim) * Math.abs(ref));
      }
    }
  });
});

describe('zero vectors', () => {
  it('have cosine 0 with anything, including another zero vector, and never NaN', () => {
    const zero = new Float32Array(17);
    const other = randomVector(17, rng(7));
    expect(kernel.cosine(zero, other)).toBe(0);
    expect(kernel.cosine(other, zero)).toBe(0);
    expect(kernel.cosine(zero, zero)).toBe(0);
  });

  it('are left as they are by normalize, which reports length 0', () => {
    const wasm = kernel.instantiate();
    const [ptr] = place(wasm, new Float32Array(15));
    expect(wasm.normalize(ptr, 15)).toBe(0);
    expect([...new Float32Array(wasm.memory.buffer, ptr, 15)].every((x) => x === 0)).toBe(true);
  });

  it('score 0 in a search, whether stored or used as the query', () => {
    const index = new VectorIndex(kernel, { dim: 4 });
    index.add(new Float32Array([1, 2, 3, 4]));
    index.add(new Float32Array(4));

    const hits = index.search(new Float32Array([1, 0, 0, 0]), 2, -1);
    expect(hits.map((hit) => hit.index)).toEqual([0, 1]);
    expect(hits[1].score).toBe(0);
    expect(index.search(new Float32Array(4), 2, -1)).toEqual([
      { index: 0, score: 0 },
      { index: 1, score: 0 },
    ]);
  });
});

describe('VectorIndex.search', () => {
  it.each([17, 384])('returns the reference top-k, best first, at dim %i', (dim) => {
    const next = rng(dim);
    const vectors = Array.from({ length: 500 }, () => randomVector(dim, next));
    const index = new VectorIndex(kernel, { dim });
    for (const vec of vectors) index.add(vec);

    for (let q = 0; q < 5; q++) {
      const query = randomVector(dim, next);
      const ref = vectors.map((vec) => refCosine(query, vec));
      const hits = index.search(query, 10, -1);

      expect(hits).toHaveLength(10);
      expectBestFirst(hits);
      for (const hit of hits) {
        expect(Math.abs(hit.score - ref[hit.index])).toBeLessThanOrEqual(3 * unit(dim));
      }

      // Anything left out scores no better than the last hit, up to both their errors.
      const returned = new Set(hits.map((hit) => hit.index));
      const floor = ref[hits[9].index] + 6 * unit(dim);
      ref.forEach((score, i) => returned.has(i) || expect(score).toBeLessThanOrEqual(floor));
    }
  });

  it('orders equal scores by index, earliest first', () => {
    const index = new VectorIndex(kernel, { dim: 3 });
    const same = new Float32Array([0.3, -0.2, 0.9]);
    index.add(new Float32Array([-1, 0, 0]));
    index.add(same);
    index.add(new Float32Array([0, 1, 0]));
    index.add(same);
    index.add(same);

    const hits = index.search(same, 3, -1);
    expect(hits.map((hit) => hit.index)).toEqual([1, 3, 4]);
    expect(new Set(hits.map((hit) => hit.score)).size).toBe(1);

    // With k below the number of ties, the earliest ones win.
    expect(index.search(same, 2, -1).map((hit) => hit.index)).toEqual([1, 3]);
  });

  it('drops hits below minScore and keeps those at or above it', () => {
    const index = new VectorIndex(kernel, { dim: 4 });
    index.add(new Float32Array([0, 1, 0, 0])); // cosine 0
    index.add(new Float32Array([0.8, 0.6, 0, 0])); // cosine 0.8
    index.add(new Float32Array([-1, 0, 0, 0])); // cosine -1
    index.add(new Float32Array([2, 0, 0, 0])); // cosine 1
    const query = new Float32Array([3, 0, 0, 0]);

    expect(index.search(query, 10, 0.5).map((hit) => hit.index)).toEqual([3, 1]);
    expect(index.search(query, 10, 0).map((hit) => hit.index)).toEqual([3, 1, 0]);
    expect(index.search(query, 10, 1.5)).toEqual([]);
    expect(index.search(query, 10, -Infinity)).toHaveLength(4);
  });

  it('returns at most size hits, and none for k = 0 or an empty index', () => {
    const index = new VectorIndex(kernel, { dim: 16 });
    const query = randomVector(16, rng(3));
    expect(index.search(query, 5, -1)).toEqual([]);

    index.add(randomVector(16, rng(4)));
    index.add(randomVector(16, rng(5)));
    expect(index.search(query, 5, -1)).toHaveLength(2);
    expect(index.search(query, 0, -1)).toEqual([]);
  });
});

describe('arena growth', () => {
  it('keeps earlier vectors intact as memory grows past the initial capacity', () => {
    const dim = 384;
    const next = rng(99);
    const vectors = Array.from({ length: 300 }, () => randomVector(dim, next));
    const index = new VectorIndex(kernel, { dim, initialCapacity: 1 });
    const initialCapacity = index.capacity;

    // Search before growing, so that views over the old memory have been created and used.
    for (const vec of vectors.slice(0, 8)) index.add(vec);
    expect(index.search(vectors[3], 1, -1)[0].index).toBe(3);

    for (const vec of vectors.slice(8)) index.add(vec);
    expect(index.size).toBe(300);
    expect(index.capacity).toBeGreaterThan(initialCapacity);
    // Geometric growth: far fewer than one growth per vector.
    expect(index.capacity).toBeLessThan(2 * 300);

    for (const i of [0, 1, 7, 8, 150, 299]) {
      const [hit] = index.search(vectors[i], 1, -1);
      expect(hit.index).toBe(i);
      expect(hit.score).toBeGreaterThanOrEqual(1 - 3 * unit(dim));
    }
  });

  it('keeps cosine correct when its shared scratch grows to a larger dimension', () => {
    const small = [randomVector(3, rng(1)), randomVector(3, rng(2))] as const;
    const large = [randomVector(20_000, rng(3)), randomVector(20_000, rng(4))] as const;
    const tol = 2 * unit(20_000);

    expect(Math.abs(kernel.cosine(...small) - refCosine(...small))).toBeLessThanOrEqual(tol);
    expect(Math.abs(kernel.cosine(...large) - refCosine(...large))).toBeLessThanOrEqual(tol);
    expect(Math.abs(kernel.cosine(...small) - refCosine(...small))).toBeLessThanOrEqual(tol);
  });
});

describe('bad input', () => {
  it('rejects vectors and queries whose dimension differs from the index', () => {
    const index = new VectorIndex(kernel, { dim: 384 });
    expect(() => index.add(new Float32Array(383))).toThrow(
      'vector has 383 dimensions; this index holds 384',
    );
    expect(() => index.search(new Float32Array(385), 1, 0)).toThrow(
      'query has 385 dimensions; this index holds 384',
    );
    expect(() => kernel.cosine(new Float32Array(3), new Float32Array(4))).toThrow(RangeError);
    expect(() => kernel.cosine(new Float32Array(0), new Float32Array(0))).toThrow(RangeError);
  });

  it('rejects a bad k or minScore', () => {
    const index = new VectorIndex(kernel, { dim: 2 });
    index.add(new Float32Array([1, 0]));
    expect(() => index.search(new Float32Array([1, 0]), -1, 0)).toThrow('k must be');
    expect(() => index.search(new Float32Array([1, 0]), 1.5, 0)).toThrow('k must be');
    expect(() => index.search(new Float32Array([1, 0]), 1, NaN)).toThrow('minScore is NaN');
  });

  it('refuses a non-finite vector and stays usable', () => {
    const index = new VectorIndex(kernel, { dim: 2 });
    expect(() => index.add(new Float32Array([NaN, 1]))).toThrow(
      'similarity kernel: vector length is not finite',
    );
    expect(index.size).toBe(0);
    expect(index.add(new Float32Array([0, 1]))).toBe(0);
  });

  it('turns out-of-range pointers and mismatched dimensions in raw calls into errors', () => {
    const wasm = kernel.instantiate();
    const [ptr] = place(wasm, new Float32Array(4));
    const pastEnd = wasm.memory.buffer.byteLength - 8;

    expect(() => wasm.dot(ptr, pastEnd, 4)).toThrow('similarity kernel: b_ptr is outside');
    expect(() => wasm.dot(ptr + 2, ptr, 1)).toThrow('a_ptr is outside');
    expect(() => wasm.normalize(0, 4)).toThrow('ptr is outside');
    expect(() => wasm.dot(ptr, ptr, 0)).toThrow('dim must be between 1 and 65536');

    wasm.arenaReserve(4, 8);
    expect(() => wasm.arenaReserve(4, 9)).toThrow("dim differs from the arena's dimension");
    expect(() => wasm.topK(ptr, 1, 4, 1, ptr, ptr, 0)).toThrow("differs from the arena's");
    const tooMany = wasm.arenaCapacity() + 1;
    expect(() => wasm.topK(ptr, tooMany, 8, 1, ptr, ptr, 0)).toThrow('beyond the arena');
  });
});
