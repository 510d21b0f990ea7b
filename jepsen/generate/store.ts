// The real thing the generated histories are recorded against: an atomic key-value store.
// Every operation takes effect at one instant, as a single step on a Map, so whatever the
// clients saw is linearizable by construction.

/** Equality of stored values: generated values are primitives or JSON; compare structurally. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

// A single-register history has key null; the Map needs a string, and no generated key is empty.
const REGISTER_KEY = '';

export class AtomicStore {
  private readonly data = new Map<string, unknown>();

  /** The current value, or null when the key is absent. */
  read(key: string | null): unknown {
    const v = this.data.get(key ?? REGISTER_KEY);
    return v === undefined ? null : v;
  }

  write(key: string | null, value: unknown): void {
    if (value === null || value === undefined) throw new RangeError('write of null: use delete to remove a key');
    this.data.set(key ?? REGISTER_KEY, value);
  }

  /** Compare-and-swap: sets `next` only when the current value equals `expected`. */
  cas(key: string | null, expected: unknown, next: unknown): boolean {
    if (!sameValue(this.read(key), expected)) return false;
    this.write(key, next);
    return true;
  }

  delete(key: string | null): void {
    this.data.delete(key ?? REGISTER_KEY);
  }
}
