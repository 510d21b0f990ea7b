// The in-memory OrderedKV: a B+tree over byte-string keys. Used by the simulator and by tests,
// and as the reference the LMDB adapter must agree with. Deterministic by construction (no
// randomness, no clock); every operation is O(log n) and range scans walk linked leaves.
//
// Keys are searched as "byte strings": one UTF-16 code unit per byte (0..255). JavaScript
// compares strings by code unit, which for such strings is exactly unsigned byte order, and a
// string compare runs natively over inline characters; comparing Uint8Arrays in a JS loop
// chases a pointer per key and was 3-4x slower at 200,000 keys. The byte string is also the
// stored copy of the key (callers may reuse their buffers); scans convert it back to bytes,
// which measured cheaper overall than keeping a second, byte-array copy in every leaf.
//
// Values live in a hash map (byte string -> value) beside the tree, which holds only keys: a
// point read is one hash probe instead of a descent of ~18 string compares (each a likely cache
// miss), and overwriting an existing key never touches the tree. The tree is the source of
// order; scans fetch each value from the map (the key string caches its hash). Both are
// updated in the same step, and checkInvariants verifies that they agree.
import { assert } from '../types.js';
import { type Bytes, type KeyValue, type OrderedKV, type RangeOptions, type WriteOp } from './port.js';

/** Most keys a node holds before it splits. 64 keeps nodes cache-friendly and the tree shallow. */
export const MEMSTORE_NODE_KEYS_MAX = 64;
/** A node (other than the root) with fewer keys than this borrows from or merges with a sibling. */
const NODE_KEYS_MIN = MEMSTORE_NODE_KEYS_MAX / 2;

class Leaf {
  readonly keys: string[] = [];
  next: Leaf | null = null;
  prev: Leaf | null = null;
}

/** children[i] holds keys k with keys[i-1] <= k < keys[i]; keys.length === children.length - 1. */
class Inner {
  constructor(
    readonly keys: string[],
    readonly children: Node[],
  ) {}
}

type Node = Leaf | Inner;

/** The byte string of `b`: code unit i is byte i. */
export function byteString(b: Bytes): string {
  if (b.length <= 4096) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/** The bytes of a byte string (the inverse of byteString). */
export function stringBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** First index i with keys[i] > key (keys sorted ascending). */
function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with keys[i] >= key. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A split reported upward: `right` must be inserted after the split node, separated by `key`. */
interface Split {
  readonly key: string;
  readonly right: Node;
}

function checkBytes(x: unknown, what: string): asserts x is Bytes {
  if (!(x instanceof Uint8Array)) throw new TypeError(`MemStore: ${what} must be a Uint8Array, got ${typeof x}`);
}

/** A position in the leaf chain. */
interface Cursor {
  leaf: Leaf;
  index: number;
}

export class MemStore implements OrderedKV {
  private root: Node = new Leaf();
  private count = 0;
  private readonly index = new Map<string, Bytes>();
  /** Bumped by every write so a running range scan knows to re-seek (it never walks a stale leaf). */
  private modCount = 0;

  /** The stored value itself, not a copy (as LMDB hands out its pages): do not modify it. */
  get(key: Bytes): Bytes | undefined {
    checkBytes(key, 'key');
    return this.index.get(byteString(key));
  }

  size(): number {
    return this.count;
  }

  /**
   * Validation happens for the whole batch before anything changes, and nothing after it can
   * fail, so a batch is applied entirely or not at all. Keys and values are copied: a caller
   * reusing its buffers cannot change what is stored. Empty keys are refused, as LMDB does.
   */
  write(batch: readonly WriteOp[]): void {
    if (!Array.isArray(batch)) throw new TypeError('MemStore.write: batch must be an array of ops');
    for (let i = 0; i < batch.length; i++) {
      const op = batch[i] as WriteOp | undefined;
      if (op === null || typeof op !== 'object') throw new TypeError(`MemStore.write: op ${i} is not an object`);
      checkBytes(op.key, `op ${i} key`);
      if (op.key.length === 0) throw new RangeError(`MemStore.write: op ${i} has an empty key`);
      switch (op.type) {
        case 'put':
          checkBytes(op.value, `op ${i} value`);
          break;
        case 'delete':
          break;
        default:
          throw new TypeError(`MemStore.write: op ${i} has unknown type ${String((op as { type: unknown }).type)}`);
      }
    }
    for (const op of batch) {
      if (op.type === 'put') this.put(byteString(op.key), new Uint8Array(op.value));
      else this.delete(byteString(op.key));
    }
  }

  range(options: RangeOptions = {}): Iterable<KeyValue> {
    const { start, end, reverse = false, limit } = options;
    if (start !== undefined) checkBytes(start, 'range start');
    if (end !== undefined) checkBytes(end, 'range end');
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
      throw new RangeError(`MemStore.range: limit must be a non-negative integer, got ${limit}`);
    }
    const s = start === undefined ? undefined : byteString(start);
    const e = end === undefined ? undefined : byteString(end);
    return reverse ? this.scanBackward(s, e, limit) : this.scanForward(s, e, limit);
  }

  // ---- scans -------------------------------------------------------------------------------

  /** The first position with key >= key (or strictly > key when `after`), possibly past a leaf's end. */
  private seekForward(key: string | undefined, after: boolean): Cursor {
    let node = this.root;
    if (key === undefined) {
      while (node instanceof Inner) node = node.children[0]!;
      return { leaf: node, index: 0 };
    }
    while (node instanceof Inner) node = node.children[upperBound(node.keys, key)]!;
    return { leaf: node, index: after ? upperBound(node.keys, key) : lowerBound(node.keys, key) };
  }

  /** The last position with key < key (or <= key when `inclusive`); index -1 means "before this leaf". */
  private seekBackward(key: string | undefined, inclusive: boolean): Cursor {
    let node = this.root;
    if (key === undefined) {
      while (node instanceof Inner) node = node.children[node.children.length - 1]!;
      return { leaf: node, index: node.keys.length - 1 };
    }
    while (node instanceof Inner) node = node.children[upperBound(node.keys, key)]!;
    return { leaf: node, index: (inclusive ? upperBound(node.keys, key) : lowerBound(node.keys, key)) - 1 };
  }

  private *scanForward(start: string | undefined, end: string | undefined, limit: number | undefined): Generator<KeyValue> {
    let remaining = limit ?? Infinity;
    if (remaining === 0) return;
    let cur = this.seekForward(start, false);
    let seen = this.modCount;
    let lastKey: string | undefined;
    for (;;) {
      if (seen !== this.modCount) {
        // The caller wrote while scanning: continue after the last key yielded, in the new tree.
        cur = lastKey === undefined ? this.seekForward(start, false) : this.seekForward(lastKey, true);
        seen = this.modCount;
      }
      let leaf: Leaf | null = cur.leaf;
      while (leaf !== null && cur.index >= leaf.keys.length) {
        leaf = leaf.next;
        cur = leaf === null ? cur : { leaf, index: 0 };
      }
      if (leaf === null) return;
      const key = leaf.keys[cur.index]!;
      if (end !== undefined && key >= end) return;
      const value = this.index.get(key)!;
      cur.index++;
      lastKey = key;
      yield { key: stringBytes(key), value };
      if (--remaining === 0) return;
    }
  }

  private *scanBackward(start: string | undefined, end: string | undefined, limit: number | undefined): Generator<KeyValue> {
    let remaining = limit ?? Infinity;
    if (remaining === 0) return;
    let cur = this.seekBackward(end, false);
    let seen = this.modCount;
    let lastKey: string | undefined;
    for (;;) {
      if (seen !== this.modCount) {
        cur = lastKey === undefined ? this.seekBackward(end, false) : this.seekBackward(lastKey, false);
        seen = this.modCount;
      }
      let leaf: Leaf | null = cur.leaf;
      while (leaf !== null && cur.index < 0) {
        leaf = leaf.prev;
        cur = leaf === null ? cur : { leaf, index: leaf.keys.length - 1 };
      }
      if (leaf === null) return;
      const key = leaf.keys[cur.index]!;
      if (start !== undefined && key < start) return;
      const value = this.index.get(key)!;
      cur.index--;
      lastKey = key;
      yield { key: stringBytes(key), value };
      if (--remaining === 0) return;
    }
  }

  // ---- insertion ---------------------------------------------------------------------------

  private put(key: string, value: Bytes): void {
    this.modCount++;
    // One hash operation instead of has + set: the size tells whether the key was new.
    const before = this.index.size;
    this.index.set(key, value);
    if (this.index.size === before) return;
    const split = this.insertInto(this.root, key);
    if (split !== null) this.root = new Inner([split.key], [this.root, split.right]);
  }

  /** Inserts a key known to be absent. */
  private insertInto(node: Node, key: string): Split | null {
    if (node instanceof Leaf) {
      const i = lowerBound(node.keys, key);
      assert(node.keys[i] !== key, 'MemStore: inserting a key the tree already holds');
      insertAt(node.keys, i, key);
      this.count++;
      return node.keys.length > MEMSTORE_NODE_KEYS_MAX ? splitLeaf(node) : null;
    }
    const ci = upperBound(node.keys, key);
    const split = this.insertInto(node.children[ci]!, key);
    if (split === null) return null;
    node.keys.splice(ci, 0, split.key);
    node.children.splice(ci + 1, 0, split.right);
    return node.keys.length > MEMSTORE_NODE_KEYS_MAX ? splitInner(node) : null;
  }

  // ---- deletion ----------------------------------------------------------------------------

  private delete(key: string): void {
    if (!this.index.delete(key)) return;
    const removed = this.removeFrom(this.root, key);
    assert(removed, 'MemStore: the hash index held a key the tree did not');
    this.modCount++;
    const root = this.root;
    if (root instanceof Inner && root.children.length === 1) this.root = root.children[0]!;
  }

  /** Removes key below `node`; repairs any child left under-full. Returns whether a key was removed. */
  private removeFrom(node: Node, key: string): boolean {
    if (node instanceof Leaf) {
      const i = lowerBound(node.keys, key);
      if (node.keys[i] !== key) return false;
      node.keys.splice(i, 1);
      this.count--;
      return true;
    }
    const ci = upperBound(node.keys, key);
    const child = node.children[ci]!;
    if (!this.removeFrom(child, key)) return false;
    if (child.keys.length < (child instanceof Leaf ? NODE_KEYS_MIN : NODE_KEYS_MIN - 1)) rebalance(node, ci);
    return true;
  }

  /** Checks every structural invariant; for tests. Throws AssertionError on the first breach. */
  checkInvariants(): void {
    let leaves = 0;
    const depthOf = (n: Node): number => (n instanceof Inner ? 1 + depthOf(n.children[0]!) : 0);
    const depth = depthOf(this.root);
    const walk = (n: Node, lo: string | undefined, hi: string | undefined, d: number, isRoot: boolean): number => {
      if (!isRoot) assert(n.keys.length >= (n instanceof Leaf ? NODE_KEYS_MIN : NODE_KEYS_MIN - 1), 'under-full node');
      assert(n.keys.length <= MEMSTORE_NODE_KEYS_MAX, 'over-full node');
      for (let i = 1; i < n.keys.length; i++) assert(n.keys[i - 1]! < n.keys[i]!, 'keys out of order');
      for (const k of n.keys) {
        assert(lo === undefined || k >= lo, 'key below its separator');
        assert(hi === undefined || k < hi, 'key above its separator');
      }
      if (n instanceof Leaf) {
        n.keys.forEach((k) => assert(this.index.has(k), 'a leaf key has no value in the hash map'));
        assert(d === depth, 'leaves at different depths');
        leaves++;
        return n.keys.length;
      }
      assert(n.children.length === n.keys.length + 1, 'children/keys mismatch');
      let total = 0;
      for (let i = 0; i < n.children.length; i++) {
        total += walk(n.children[i]!, i === 0 ? lo : n.keys[i - 1], i === n.keys.length ? hi : n.keys[i], d + 1, false);
      }
      return total;
    };
    assert(walk(this.root, undefined, undefined, 0, true) === this.count, 'count mismatch');
    assert(this.index.size === this.count, 'hash index size differs from the tree');
    let chained = 0;
    let prev: Leaf | null = null;
    for (let l: Leaf | null = this.seekForward(undefined, false).leaf; l !== null; l = l.next) {
      assert(l.prev === prev, 'broken prev link');
      chained++;
      prev = l;
    }
    assert(chained === leaves, 'leaf chain misses leaves');
  }
}

/** arr.splice(i, 0, x) without allocating the (empty) array splice returns. */
function insertAt<T>(arr: T[], i: number, x: T): void {
  let j = arr.length;
  arr.push(x);
  for (; j > i; j--) arr[j] = arr[j - 1]!;
  arr[i] = x;
}

function splitLeaf(leaf: Leaf): Split {
  const mid = leaf.keys.length >>> 1;
  const right = new Leaf();
  right.keys.push(...leaf.keys.splice(mid));
  right.next = leaf.next;
  if (right.next !== null) right.next.prev = right;
  right.prev = leaf;
  leaf.next = right;
  return { key: right.keys[0]!, right };
}

function splitInner(node: Inner): Split {
  const mid = node.keys.length >>> 1;
  const sep = node.keys[mid]!;
  const rightKeys = node.keys.splice(mid);
  rightKeys.shift();
  const rightChildren = node.children.splice(mid + 1);
  return { key: sep, right: new Inner(rightKeys, rightChildren) };
}

/** parent.children[ci] is under-full: borrow one entry from a sibling, or merge with one. */
function rebalance(parent: Inner, ci: number): void {
  const child = parent.children[ci]!;
  const left = ci > 0 ? parent.children[ci - 1]! : undefined;
  const right = ci + 1 < parent.children.length ? parent.children[ci + 1]! : undefined;
  if (child instanceof Leaf) {
    const l = left as Leaf | undefined;
    const r = right as Leaf | undefined;
    if (l !== undefined && l.keys.length > NODE_KEYS_MIN) {
      child.keys.unshift(l.keys.pop()!);
      parent.keys[ci - 1] = child.keys[0]!;
    } else if (r !== undefined && r.keys.length > NODE_KEYS_MIN) {
      child.keys.push(r.keys.shift()!);
      parent.keys[ci] = r.keys[0]!;
    } else if (l !== undefined) {
      mergeLeaves(parent, ci - 1);
    } else if (r !== undefined) {
      mergeLeaves(parent, ci);
    }
    return;
  }
  const inner = child as Inner;
  const l = left as Inner | undefined;
  const r = right as Inner | undefined;
  if (l !== undefined && l.keys.length > NODE_KEYS_MIN - 1) {
    inner.keys.unshift(parent.keys[ci - 1]!);
    inner.children.unshift(l.children.pop()!);
    parent.keys[ci - 1] = l.keys.pop()!;
  } else if (r !== undefined && r.keys.length > NODE_KEYS_MIN - 1) {
    inner.keys.push(parent.keys[ci]!);
    inner.children.push(r.children.shift()!);
    parent.keys[ci] = r.keys.shift()!;
  } else if (l !== undefined) {
    mergeInners(parent, ci - 1);
  } else if (r !== undefined) {
    mergeInners(parent, ci);
  }
}

/** Folds parent.children[i + 1] into parent.children[i]. */
function mergeLeaves(parent: Inner, i: number): void {
  const a = parent.children[i] as Leaf;
  const b = parent.children[i + 1] as Leaf;
  for (let j = 0; j < b.keys.length; j++) {
    a.keys.push(b.keys[j]!);
  }
  a.next = b.next;
  if (b.next !== null) b.next.prev = a;
  parent.keys.splice(i, 1);
  parent.children.splice(i + 1, 1);
}

function mergeInners(parent: Inner, i: number): void {
  const a = parent.children[i] as Inner;
  const b = parent.children[i + 1] as Inner;
  a.keys.push(parent.keys[i]!, ...b.keys);
  a.children.push(...b.children);
  parent.keys.splice(i, 1);
  parent.children.splice(i + 1, 1);
}
