// Reading text out of bytes without decoding it, shared by the byte-level readers (the
// usage scan, the request-body edit, response header names): JSON whitespace skipping, and
// a table that recognises a few known names. Each reader keeps its own byte constants
// (QUOTE and the like): an imported constant is read from its module at every use, and in
// the usage scan's loops that cost 30% (810 against 620 ns a scan, timed over a million).

/** Past the JSON whitespace (space, LF, CR, tab) from `i`. */
export function skipSpace(b: Uint8Array, i: number): number {
  while (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09) i++;
  return i;
}

/**
 * Known ASCII names, each with a value, found from the bytes of a name: only the names of
 * the same length are compared, byte by byte. (Decoding every name to look it up, or
 * comparing it with every known name, was a measurable share of the readers using this.)
 */
export class NameTable<T> {
  private readonly byLength: (readonly [Uint8Array, T])[][] = [];

  constructor(entries: Iterable<readonly [string, T]>) {
    for (const [name, value] of entries) {
      (this.byLength[name.length] ??= []).push([Buffer.from(name, 'latin1'), value]);
    }
  }

  /**
   * The value of the name spelled by `b[start, end)`, or undefined. With `foldCase`, an
   * upper-case ASCII letter in `b` also matches (the table's names are then lower case).
   */
  find(b: Uint8Array, start: number, end: number, foldCase = false): T | undefined {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return undefined;
    for (let c = 0; c < candidates.length; c++) {
      const entry = candidates[c];
      if (foldCase ? sameFolded(b, start, entry[0]) : same(b, start, entry[0])) return entry[1];
    }
    return undefined;
  }
}

function same(b: Uint8Array, start: number, name: Uint8Array): boolean {
  for (let j = 0; j < name.length; j++) if (b[start + j] !== name[j]) return false;
  return true;
}

/** `name` is in lower case; an upper-case ASCII letter in `b` matches its lower case. */
function sameFolded(b: Uint8Array, start: number, name: Uint8Array): boolean {
  for (let j = 0; j < name.length; j++) {
    const x = b[start + j];
    if (x !== name[j] && !(x >= 0x41 && x <= 0x5a && x + 0x20 === name[j])) return false;
  }
  return true;
}
