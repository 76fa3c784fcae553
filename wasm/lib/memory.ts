// Linear memory helpers every kernel shares: wasm/build.mjs compiles only the top-level files
// of wasm/, so this one is compiled into each kernel that imports it.

export const PAGE_SHIFT: u64 = 16;
export const PAGE_BYTES: u64 = 0x1_0000;
/** The wasm32 limit. */
export const MAX_MEMORY_BYTES: u64 = 0x1_0000_0000;

/** Bytes of linear memory held now. */
export function memoryBytes(): u64 {
  return (<u64>memory.size()) << PAGE_SHIFT;
}

/** Grows linear memory to hold `endBytes`; aborts past 4 GiB or when the host refuses. */
export function ensureMemory(endBytes: u64): void {
  if (endBytes > MAX_MEMORY_BYTES) abort('linear memory would exceed 4 GiB');
  const pagesNeeded = <i32>((endBytes + PAGE_BYTES - 1) >> PAGE_SHIFT);
  const pagesHeld = memory.size();
  if (pagesNeeded <= pagesHeld) return;
  if (memory.grow(pagesNeeded - pagesHeld) < 0) abort('memory.grow failed: out of memory');
}
