// Intervals over the typed-value order. Range locks are intervals on one key's values; a
// writer's point is the degenerate interval [v, v]. The order itself is injected (the records
// engine's value comparison), so this file knows nothing about value types.

/** A total order on values: negative, zero or positive, like Array.prototype.sort's. */
export type Compare<V> = (a: V, b: V) => number;

export interface Bound<V> {
  readonly value: V;
  readonly inclusive: boolean;
}

/** An interval of values; a missing bound is unbounded on that side. */
export interface ValueRange<V> {
  readonly lo?: Bound<V>;
  readonly hi?: Bound<V>;
}

export const ALL_VALUES: ValueRange<never> = {};

export function point<V>(value: V): ValueRange<V> {
  return { lo: { value, inclusive: true }, hi: { value, inclusive: true } };
}

/** True when no value can lie in the range (e.g. (3, 3) or [5, 2]). */
export function isEmptyRange<V>(r: ValueRange<V>, compare: Compare<V>): boolean {
  if (r.lo === undefined || r.hi === undefined) return false;
  const c = compare(r.lo.value, r.hi.value);
  if (c > 0) return true;
  return c === 0 && !(r.lo.inclusive && r.hi.inclusive);
}

/** Whether the lower end `lo` lies at or below the upper end `hi` so the two touch. */
function loBelowHi<V>(lo: Bound<V> | undefined, hi: Bound<V> | undefined, compare: Compare<V>): boolean {
  if (lo === undefined || hi === undefined) return true;
  const c = compare(lo.value, hi.value);
  return c < 0 || (c === 0 && lo.inclusive && hi.inclusive);
}

/** Whether some value lies in both ranges. */
export function rangesOverlap<V>(a: ValueRange<V>, b: ValueRange<V>, compare: Compare<V>): boolean {
  if (isEmptyRange(a, compare) || isEmptyRange(b, compare)) return false;
  return loBelowHi(a.lo, b.hi, compare) && loBelowHi(b.lo, a.hi, compare);
}

/** Whether every value of `inner` lies in `outer`. */
export function rangeContains<V>(outer: ValueRange<V>, inner: ValueRange<V>, compare: Compare<V>): boolean {
  if (isEmptyRange(inner, compare)) return true;
  if (outer.lo !== undefined) {
    if (inner.lo === undefined) return false;
    const c = compare(outer.lo.value, inner.lo.value);
    if (c > 0 || (c === 0 && !outer.lo.inclusive && inner.lo.inclusive)) return false;
  }
  if (outer.hi !== undefined) {
    if (inner.hi === undefined) return false;
    const c = compare(outer.hi.value, inner.hi.value);
    if (c < 0 || (c === 0 && !outer.hi.inclusive && inner.hi.inclusive)) return false;
  }
  return true;
}

export function rangeContainsValue<V>(r: ValueRange<V>, value: V, compare: Compare<V>): boolean {
  return rangeContains(r, point(value), compare);
}
