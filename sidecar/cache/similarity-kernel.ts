import { compileKernel, instantiateKernel, kernelPath } from '../wasm-kernel.js';

/** The exports of wasm/build/similarity.wasm; pointers are byte offsets into `memory`. */
export interface SimilarityExports {
  readonly memory: WebAssembly.Memory;
  arenaReserve(capacity: number, dim: number): number;
  arenaCapacity(): number;
  scratchReserve(bytes: number): number;
  dot(aPtr: number, bPtr: number, dim: number): number;
  cosine(aPtr: number, bPtr: number, dim: number): number;
  normalize(ptr: number, dim: number): number;
  topK(
    queryPtr: number,
    count: number,
    dim: number,
    k: number,
    outIdxPtr: number,
    outScorePtr: number,
    minScore: number,
  ): number;
}

export interface SearchHit {
  /** The value `add` returned for the vector. */
  index: number;
  /** Cosine similarity, within 3 * (dim/16 + 16) * 2^-24 of exact (see wasm/similarity.ts). */
  score: number;
}

export interface VectorIndexOptions {
  dim: number;
  /** Vectors to make room for up front; the arena doubles when it fills. */
  initialCapacity?: number;
}

// f32 and i32 alike.
const VALUE_BYTES = 4;

/** Loads and compiles the similarity kernel. Call once at startup and pass the result on. */
export async function loadSimilarityKernel(
  wasmPath = defaultSimilarityWasmPath(),
): Promise<SimilarityKernel> {
  return new SimilarityKernel(await compileKernel(wasmPath));
}

/** wasm/build/similarity.wasm under the package root, from source (vitest) or from dist/. */
export function defaultSimilarityWasmPath(): string {
  return kernelPath('similarity');
}

/**
 * The compiled kernel, compiled once. Every VectorIndex instantiates it for itself, because an
 * instance's memory holds exactly one arena; `cosine` uses one more instance, made on first use.
 */
export class SimilarityKernel {
  readonly #module: WebAssembly.Module;
  #shared: KernelInstance | undefined;

  constructor(module: WebAssembly.Module) {
    this.#module = module;
  }

  /** A fresh instance with its own memory, for callers that drive the exports directly. */
  instantiate(): SimilarityExports {
    return instantiateKernel<SimilarityExports>(this.#module, 'similarity kernel');
  }

  /** Cosine similarity of two vectors of equal length; 0 when either is all zeros. */
  cosine(a: Float32Array, b: Float32Array): number {
    if (a.length !== b.length) {
      throw new RangeError(`cosine of vectors with ${a.length} and ${b.length} dimensions`);
    }
    if (a.length === 0) throw new RangeError('cosine of vectors with no dimensions');

    const shared = (this.#shared ??= new KernelInstance(this.instantiate()));
    const stride = alignedBytes(a.length);
    const aPtr = shared.wasm.scratchReserve(2 * stride) >>> 0;
    const bPtr = aPtr + stride;
    const f32 = shared.sharedF32View();
    f32.set(a, aPtr / VALUE_BYTES);
    f32.set(b, bPtr / VALUE_BYTES);
    return shared.wasm.cosine(aPtr, bPtr, a.length);
  }
}

/**
 * Unit-length vectors in a kernel arena, searched by cosine similarity. Vectors are normalized
 * on the way in, so a search is one dot product per stored vector.
 */
export class VectorIndex {
  readonly dim: number;
  readonly #kernel: KernelInstance;
  readonly #arenaPtr: number;
  #size = 0;

  constructor(kernel: SimilarityKernel, options: VectorIndexOptions) {
    const { dim, initialCapacity = 0 } = options;
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be >= 1, got ${dim}`);

    this.dim = dim;
    this.#kernel = new KernelInstance(kernel.instantiate());
    this.#arenaPtr = this.#kernel.wasm.arenaReserve(initialCapacity, dim) >>> 0;
  }

  get size(): number {
    return this.#size;
  }

  /** Vectors the arena holds before it next grows. */
  get capacity(): number {
    return this.#kernel.wasm.arenaCapacity();
  }

  /** Stores a unit-length copy of `vec` and returns its index. Throws on NaN or Infinity. */
  add(vec: Float32Array): number {
    this.#checkLength(vec, 'vector');

    const index = this.#size;
    const { wasm } = this.#kernel;
    if (index === wasm.arenaCapacity()) wasm.arenaReserve(index + 1, this.dim);

    const ptr = this.#arenaPtr + index * this.dim * VALUE_BYTES;
    this.#kernel.sharedF32View().set(vec, ptr / VALUE_BYTES);
    wasm.normalize(ptr, this.dim);
    this.#size = index + 1;
    return index;
  }

  /** The `k` stored vectors most similar to `query` with score >= `minScore`, best first. */
  search(query: Float32Array, k: number, minScore: number): SearchHit[] {
    this.#checkLength(query, 'query');
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be an integer >= 0, got ${k}`);
    if (Number.isNaN(minScore)) throw new RangeError('minScore is NaN');

    const n = Math.min(k, this.#size);
    if (n === 0) return [];

    // Scratch layout: [query, 16-byte aligned][n indexes (i32)][n scores (f32)].
    const { wasm } = this.#kernel;
    const queryPtr = wasm.scratchReserve(alignedBytes(this.dim) + 2 * n * VALUE_BYTES) >>> 0;
    const idxPtr = queryPtr + alignedBytes(this.dim);
    const scorePtr = idxPtr + n * VALUE_BYTES;

    this.#kernel.sharedF32View().set(query, queryPtr / VALUE_BYTES);
    wasm.normalize(queryPtr, this.dim);
    const found = wasm.topK(queryPtr, this.#size, this.dim, n, idxPtr, scorePtr, minScore);

    const f32 = this.#kernel.sharedF32View();
    const i32 = this.#kernel.sharedI32View();
    const hits: SearchHit[] = new Array(found);
    for (let i = 0; i < found; i++) {
      hits[i] = {
        index: i32[idxPtr / VALUE_BYTES + i],
        score: f32[scorePtr / VALUE_BYTES + i],
      };
    }
    return hits;
  }

  #checkLength(vec: Float32Array, what: string): void {
    if (vec.length !== this.dim) {
      throw new RangeError(`${what} has ${vec.length} dimensions; this index holds ${this.dim}`);
    }
  }
}

/**
 * One kernel instance and typed-array views over its memory. memory.grow detaches the old
 * ArrayBuffer, so the views are re-derived whenever `memory.buffer` is a different object, and
 * only then.
 */
class KernelInstance {
  readonly wasm: SimilarityExports;
  #buffer: ArrayBuffer | undefined;
  #f32 = new Float32Array(0);
  #i32 = new Int32Array(0);

  constructor(wasm: SimilarityExports) {
    this.wasm = wasm;
  }

  /** A view over all of memory, shared and reused until the next memory.grow. */
  sharedF32View(): Float32Array {
    this.#refresh();
    return this.#f32;
  }

  /** A view over all of memory, shared and reused until the next memory.grow. */
  sharedI32View(): Int32Array {
    this.#refresh();
    return this.#i32;
  }

  #refresh(): void {
    const buffer = this.wasm.memory.buffer;
    if (buffer === this.#buffer) return;

    this.#buffer = buffer;
    this.#f32 = new Float32Array(buffer);
    this.#i32 = new Int32Array(buffer);
  }
}

// Vectors in scratch start on 16-byte boundaries so that SIMD loads do not straddle lines.
function alignedBytes(dim: number): number {
  return (dim * VALUE_BYTES + 15) & ~15;
}
