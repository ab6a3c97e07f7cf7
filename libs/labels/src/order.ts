// Code-point string order, the order Python's sorted() gives str values. Vocabularies and file
// listings are sorted with it so ids and splits agree with fastai's sorted() and across machines.

/**
 * Compares two strings by Unicode code point. JavaScript's default `<` compares UTF-16 code units,
 * which puts astral characters (surrogate pairs, U+D800–DFFF) before U+E000–FFFF; Python and
 * UTF-8 byte order put them after. Shifting the code units fixes that without allocating.
 */
export function compareCodepoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

// Surrogates move above every other BMP unit; U+E000–FFFF move down to make room.
function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
