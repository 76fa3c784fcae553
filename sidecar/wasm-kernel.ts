// What every AssemblyScript kernel host needs: find wasm/build/<name>.wasm from source
// (vitest) or from dist/, compile it once, and instantiate it with an abort handler that
// turns the kernel's failed checks into RangeErrors carrying its message.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** wasm/build/<name>.wasm under the package root. */
export function kernelPath(name: string): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'wasm', 'build', `${name}.wasm`);
    if (dirname(dir) === dir) throw new Error(`no package.json in ${start} or above`);
  }
}

export async function compileKernel(wasmPath: string): Promise<WebAssembly.Module> {
  let bytes: Buffer;
  try {
    bytes = await readFile(wasmPath);
  } catch (cause) {
    throw new Error(`cannot read ${wasmPath}; run \`npm run build:wasm\` first`, { cause });
  }
  // The copy (a few KiB, once) gives the plain ArrayBuffer that WebAssembly.compile is typed
  // to take; a Buffer may sit on a pooled or shared one.
  return WebAssembly.compile(new Uint8Array(bytes));
}

/** A fresh instance with its own memory; `label` prefixes the kernel's abort messages. */
export function instantiateKernel<T extends { memory: WebAssembly.Memory }>(
  module: WebAssembly.Module,
  label: string,
): T {
  let memory: WebAssembly.Memory | undefined;
  const abort = (messagePtr: number): never => {
    const message = memory ? readKernelString(memory, messagePtr) : 'aborted';
    throw new RangeError(`${label}: ${message}`);
  };
  const instance = new WebAssembly.Instance(module, { env: { abort } });
  const wasm = instance.exports as unknown as T;
  memory = wasm.memory;
  return wasm;
}

// AssemblyScript strings are UTF-16LE with their byte length in the 4 bytes before them.
function readKernelString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return 'aborted';
  const byteLength = new DataView(memory.buffer).getUint32(ptr - 4, true);
  return Buffer.from(memory.buffer, ptr, byteLength).toString('utf16le');
}
