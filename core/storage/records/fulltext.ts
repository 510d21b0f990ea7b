// Full-text infix search, Concourse-style but with bounded memory: instead of indexing every
// substring of every word (O(n²) postings per value), each string value posts its distinct
// trigrams (O(n)), a query looks up its own trigrams, intersects their record sets and then
// VERIFIES each candidate against the record's current values, so there are no false hits.
// Case folding is per code point (context-free), so "value contains query" implies "folded
// value contains folded query" and the trigram filter never loses a true match.

export const GRAM_LENGTH = 3;

const foldCache = new Map<number, string>();

/** Lower-cases one code point at a time (no context rules such as Greek final sigma). */
export function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out += cp >= 0x41 && cp <= 0x5a ? String.fromCharCode(cp + 32) : ch;
      continue;
    }
    let f = foldCache.get(cp);
    if (f === undefined) {
      f = ch.toLowerCase();
      if (foldCache.size < 65536) foldCache.set(cp, f);
    }
    out += f;
  }
  return out;
}

/** The distinct trigrams of an already folded string, in first-occurrence order. */
export function grams(folded: string): string[] {
  const cps = Array.from(folded);
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i + GRAM_LENGTH <= cps.length; i++) {
    const g = cps[i]! + cps[i + 1]! + cps[i + 2]!;
    if (!seen.has(g)) {
      seen.add(g);
      out.push(g);
    }
  }
  return out;
}

/** The match rule of search: case-insensitive (folded) substring. */
export function searchMatches(value: string, foldedQuery: string): boolean {
  return fold(value).includes(foldedQuery);
}
