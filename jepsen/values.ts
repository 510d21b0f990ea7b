// Values in histories are plain JSON (numbers, strings, booleans, null, arrays, objects).
// The checker compares them by a canonical text, so that {"a":1,"b":2} equals {"b":2,"a":1}.

/** A string equal for equal values: JSON with object keys sorted. `undefined` reads as null. */
export function valueKey(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : `"${String(v)}"#n`;
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${valueKey((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(String(v));
}

export const NULL_KEY = 'null';

/** Short human text for a value in explanations. */
export function showValue(v: unknown): string {
  if (v === undefined || v === null) return 'nothing (absent)';
  return valueKey(v);
}
