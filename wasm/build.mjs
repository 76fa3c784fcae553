// Compiles every AssemblyScript kernel in wasm/ to wasm/build/<name>.wasm with the local asc, so
// it runs offline. Each top-level wasm/*.ts file is one kernel; shared helpers, if any appear,
// belong in a subfolder so that they are not compiled on their own.
//
// Exits non-zero, naming the kernel, on the first compiler diagnostic or missing output.

import { readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const WASM_DIR = dirname(fileURLToPath(import.meta.url));
const OUT_DIR = join(WASM_DIR, 'build');

// Speed over size: kernels run on the request path. The stub runtime never frees memory, which
// is fine because the kernels place their data themselves and allocate nothing through it.
const FLAGS = [
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '--noColors',
];

async function listKernels() {
  const names = await readdir(WASM_DIR);
  return names.filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts')).sort();
}

async function compile(source) {
  const name = source.slice(0, -'.ts'.length);
  const outFile = join(OUT_DIR, `${name}.wasm`);

  // A stale file must not survive a failed build and pass for a fresh one.
  await rm(outFile, { force: true });

  const args = [source, '--baseDir', WASM_DIR, '--outFile', outFile, ...FLAGS];
  const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) throw new Error(`asc failed on wasm/${source}: ${error.message}`);

  // asc's default file writer reports a failed write only through its return value.
  const written = await stat(outFile).catch(() => null);
  if (!written?.size) throw new Error(`asc wrote no output for wasm/${source}: ${outFile}`);

  return { name, bytes: written.size };
}

async function main() {
  const kernels = await listKernels();
  if (kernels.length === 0) throw new Error(`no kernels (*.ts) in ${WASM_DIR}`);

  for (const source of kernels) {
    const { name, bytes } = await compile(source);
    process.stdout.write(`wasm/build/${name}.wasm  ${bytes} bytes\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`wasm build failed: ${error.message}\n`);
  process.exitCode = 1;
});
