// The host of wasm/build/sse-scan.wasm: finds the end of a run of template-shaped events in
// an ASCII read without turning the read into a string, and reads a non-streamed answer's
// usage without parsing it. One instance serves every request of the process: JavaScript
// runs one at a time, and each call lays its own bytes (and template) in the kernel's memory
// before it asks.

import { compileKernel, instantiateKernel, kernelPath } from '../../wasm-kernel.js';
import type { Usage } from '../adapter.js';
import type { TemplateBytes } from './chunk-template.js';
import { UNSCANNED, usageOf } from './usage.js';

interface SseScanExports {
  readonly memory: WebAssembly.Memory;
  templateBase(): number;
  templateCapacity(): number;
  inputReserve(bytes: number): number;
  setTemplate(count: number, a: number, b: number, c: number): void;
  matchRun(at: number, end: number, maxEventBytes: number): number;
  figuresBase(): number;
  scanCompletion(len: number): number;
}

const MAX_I32 = 0x7fff_ffff;

export async function loadSseScanKernel(wasmPath = kernelPath('sse-scan')): Promise<SseScanKernel> {
  return new SseScanKernel(await compileKernel(wasmPath));
}

export class SseScanKernel {
  readonly #wasm: SseScanExports;
  #bytes: Uint8Array;
  /** The five usage figures scanCompletion writes. */
  #figures: Float64Array;

  /** Templates up to this many bytes fit; a larger one (a huge constant field) does not. */
  readonly templateCapacity: number;

  constructor(module: WebAssembly.Module) {
    this.#wasm = instantiateKernel<SseScanExports>(module, 'sse-scan kernel');
    this.#bytes = new Uint8Array(this.#wasm.memory.buffer);
    this.#figures = this.figuresView();
    this.templateCapacity = this.#wasm.templateCapacity();
  }

  /**
   * Copies `read` into the kernel with `template`, for matchRun calls until the next load.
   * The caller must make its matchRun calls before any other load or readCompletion, which
   * write the same memory (synchronously, then).
   */
  load(read: Uint8Array, template: TemplateBytes): void {
    const wasm = this.#wasm;
    const input = wasm.inputReserve(read.length) >>> 0;
    // Growing the memory detaches the old view.
    if (this.#bytes.buffer !== wasm.memory.buffer) this.#bytes = new Uint8Array(wasm.memory.buffer);
    this.#bytes.set(template.all, wasm.templateBase() >>> 0);
    this.#bytes.set(read, input);
    const [a, b, c = 0] = template.lengths;
    wasm.setTemplate(template.lengths.length, a, b, c);
  }

  /**
   * The usage of a non-streamed answer, read from its bytes, when they are one JSON object
   * whose `choices` is an array: undefined when it has no usage (or a null one); UNSCANNED
   * when the answer must be parsed to know (an error body, a usage written unusually, an
   * escaped key, malformed JSON anywhere in it). Replaces any loaded read.
   */
  readCompletion(body: Uint8Array): Usage | undefined | typeof UNSCANNED {
    const wasm = this.#wasm;
    const input = wasm.inputReserve(body.length) >>> 0;
    if (this.#bytes.buffer !== wasm.memory.buffer) this.#bytes = new Uint8Array(wasm.memory.buffer);
    this.#bytes.set(body, input);
    if (wasm.scanCompletion(body.length) !== 1) return UNSCANNED;
    // Growing the memory detaches the old view.
    if (this.#figures.buffer !== wasm.memory.buffer) this.#figures = this.figuresView();
    const figures = this.#figures;
    return usageOf(
      figure(figures[0]),
      figure(figures[1]),
      figure(figures[2]),
      figure(figures[3]),
      figure(figures[4]),
    );
  }

  private figuresView(): Float64Array {
    return new Float64Array(this.#wasm.memory.buffer, this.#wasm.figuresBase() >>> 0, 5);
  }

  /** Where the run of matching events from `at` ends in the loaded read (`at` when none). */
  matchRun(at: number, end: number, maxEventBytes: number): number {
    // The kernel's limit is an i32: a larger configured limit (a uint32) must not wrap to a
    // negative one, which no event would fit. No read comes near 2 GiB anyway.
    return this.#wasm.matchRun(at, end, Math.min(maxEventBytes, MAX_I32));
  }
}

/** NaN is the kernel's absent figure. */
function figure(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
