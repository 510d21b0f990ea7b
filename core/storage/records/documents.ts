// JSON documents → typed values, for insert. Rules (Concourse's, plus explicit type tags):
// a top-level object's members are keys; a JSON boolean is a boolean; a number is an integer
// when it is a 32-bit integer, a long when it is another safe integer, else a double; a bigint
// is a long; a string is a string; an array adds each element (arrays inside arrays are an
// error); a tagged object {"$link": id} / {"$timestamp": µs} / {"$long": n} / {"$integer": n} /
// {"$double": n} / {"$string": s} / {"$boolean": b} gives that exact type; any other object is
// a nested document, inserted as a new record that the key links to. null is an error.
import { fail } from './errors.js';
import { bool, checkKey, describeRaw, double, integer, INT32_MAX, INT32_MIN, link, long, str, timestampMicros, type Value } from './values.js';

export const DOCUMENT_DEPTH_MAX = 16;

/** One record's worth of a document: its own (key, value) pairs and nested documents by key. */
export interface DocumentPlan {
  readonly entries: ReadonlyArray<readonly [string, Value]>;
  readonly children: ReadonlyArray<{ readonly key: string; readonly plan: DocumentPlan }>;
}

export function planDocument(doc: unknown, depth = 0): DocumentPlan {
  if (depth > DOCUMENT_DEPTH_MAX) fail('bad-document', `document nested deeper than ${DOCUMENT_DEPTH_MAX}`);
  if (!isPlainObject(doc)) fail('bad-document', `a document must be a JSON object, got ${describeRaw(doc)}`);
  const entries: Array<readonly [string, Value]> = [];
  const children: Array<{ key: string; plan: DocumentPlan }> = [];
  for (const rawKey of Object.keys(doc)) {
    let key: string;
    try {
      key = checkKey(rawKey);
    } catch (e) {
      return fail('bad-document', `document key ${JSON.stringify(rawKey)}: ${(e as Error).message}`);
    }
    const member = doc[rawKey];
    const items = Array.isArray(member) ? member : [member];
    for (const item of items) {
      if (Array.isArray(item)) fail('bad-document', `key '${key}': arrays inside arrays are not supported`);
      if (isPlainObject(item) && !isTagged(item)) children.push({ key, plan: planDocument(item, depth + 1) });
      else {
        const v = toValue(key, item);
        if (!entries.some(([k, x]) => k === key && x.type === v.type && x.value === v.value)) entries.push([key, v]);
      }
    }
  }
  return { entries, children };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const TAGS = ['$link', '$timestamp', '$long', '$integer', '$double', '$string', '$boolean'] as const;

function isTagged(o: Record<string, unknown>): boolean {
  const ks = Object.keys(o);
  return ks.length === 1 && (TAGS as readonly string[]).includes(ks[0]!);
}

function asBigint(key: string, x: unknown): bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
  if (typeof x === 'string' && /^-?[0-9]{1,19}$/.test(x)) return BigInt(x);
  return fail('bad-document', `key '${key}': an integer (number, bigint or decimal string) expected, got ${describeRaw(x)}`);
}

function toValue(key: string, x: unknown): Value {
  try {
    if (typeof x === 'boolean') return bool(x);
    if (typeof x === 'string') return str(x);
    if (typeof x === 'bigint') return long(x);
    if (typeof x === 'number') {
      if (Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX) return integer(x);
      if (Number.isSafeInteger(x)) return long(x);
      return double(x);
    }
    if (isPlainObject(x) && isTagged(x)) {
      const tag = Object.keys(x)[0]!;
      const v = x[tag];
      switch (tag) {
        case '$link':
          return link(asBigint(key, v));
        case '$timestamp':
          return timestampMicros(asBigint(key, v));
        case '$long':
          return long(asBigint(key, v));
        case '$integer':
          return integer(v as number);
        case '$double':
          return double(v as number);
        case '$string':
          return str(v as string);
        case '$boolean':
          return bool(v as boolean);
      }
    }
  } catch (e) {
    return fail('bad-document', `key '${key}': ${(e as Error).message}`);
  }
  return fail('bad-document', `key '${key}': ${x === null ? 'null' : describeRaw(x)} is not a storable value`);
}
