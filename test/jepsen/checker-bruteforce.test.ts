// The checker against plain brute force on thousands of small random histories: every
// verdict must agree, every linearization it returns must replay, and every counterexample
// must itself be non-linearizable. Histories come from a simulated atomic register (so many
// are linearizable), some with one read corrupted.
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../jepsen/check.js';
import { pairOperations } from '../../jepsen/history.js';
import { registerStep } from '../../jepsen/models.js';
import { searchLinearization } from '../../jepsen/wgl.js';
import { casRegister } from '../../jepsen/models.js';
import type { HistoryEvent, Operation } from '../../jepsen/types.js';
import { NULL_KEY } from '../../jepsen/values.js';
import { resultKey } from '../../jepsen/prune.js';
import { neededKey } from '../../jepsen/shrink.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  readonly cas: boolean;
  readonly deletes: boolean;
  readonly uniqueValues: boolean;
}

/** A random history of a real atomic register, maybe with one read made wrong. */
function randomHistory(seed: number, shape: Shape): HistoryEvent[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const processes = 2 + Math.floor(r() * 3);
  const total = 3 + Math.floor(r() * 5);
  let state: unknown = null;
  let nextValue = 1;
  const events: HistoryEvent[] = [];
  interface Open { f: string; value: unknown; effectAt: number; applied: boolean; result: unknown; outcome: 'ok' | 'fail' | 'info'; }
  const open = new Map<number, Open>();
  const dead = new Set<number>();
  let started = 0;
  let procCounter = processes;
  const live = Array.from({ length: processes }, (_, i) => i);
  const emit = (process: number, type: HistoryEvent['type'], f: string, value: unknown): void => {
    events.push({ process, type, f, key: null, value, line: events.length + 1 });
  };
  for (let tick = 0; tick < 200 && (started < total || open.size > 0); tick++) {
    const p = pick(live);
    const o = open.get(p);
    if (o === undefined) {
      if (started >= total || dead.has(p)) continue;
      started++;
      const fs = ['read', 'read', 'write', ...(shape.cas ? ['cas'] : []), ...(shape.deletes ? ['delete'] : [])];
      const f = pick(fs);
      const v = shape.uniqueValues ? nextValue++ : 1 + Math.floor(r() * 2);
      const value = f === 'write' ? v : f === 'cas' ? [r() < 0.6 ? state : pick([null, 1, 2]), v] : null;
      open.set(p, { f, value, effectAt: 0, applied: false, result: null, outcome: r() < 0.15 ? 'info' : 'ok' });
      emit(p, 'invoke', f, value);
      continue;
    }
    if (!o.applied && r() < 0.5) {
      // The linearization point, unless an info op never takes effect.
      o.applied = true;
      if (o.outcome === 'info' && r() < 0.5) continue;
      switch (o.f) {
        case 'read': o.result = state; break;
        case 'write': state = o.value; break;
        case 'delete': state = null; break;
        case 'cas': {
          const [e, n] = o.value as [unknown, unknown];
          if (JSON.stringify(e) === JSON.stringify(state)) state = n;
          else o.outcome = o.outcome === 'info' ? 'info' : 'fail';
          break;
        }
      }
      continue;
    }
    if (!o.applied) continue;
    open.delete(p);
    const value = o.f === 'read' ? (o.outcome === 'ok' ? o.result : null) : o.value;
    emit(p, o.outcome, o.f, value);
    if (o.outcome === 'info') {
      dead.add(p);
      live[live.indexOf(p)] = procCounter++;
    }
  }
  // Corrupt one ok read half the time.
  const reads = events.filter((e) => e.type === 'ok' && e.f === 'read');
  if (reads.length > 0 && r() < 0.5) {
    const victim = pick(reads);
    const i = events.indexOf(victim);
    events[i] = { ...victim, value: pick([null, 1, 2, 3, nextValue - 1]) };
  }
  return events;
}

/** Brute force: depth-first over every order that respects real time; info ops optional. */
function bruteForce(ops: readonly Operation[]): boolean {
  const placed = new Set<number>();
  const mustPlace = ops.filter((o) => o.status === 'ok').length;
  const go = (state: string, okPlaced: number): boolean => {
    if (okPlaced === mustPlace) return true;
    for (const o of ops) {
      if (placed.has(o.id)) continue;
      // Every op that returned before o was called must already be placed.
      if (ops.some((p) => !placed.has(p.id) && p.ret < o.call)) continue;
      for (const s of registerStep(state, o)) {
        placed.add(o.id);
        if (go(s, okPlaced + (o.status === 'ok' ? 1 : 0))) return true;
        placed.delete(o.id);
      }
    }
    return false;
  };
  return go(NULL_KEY, 0);
}

/** Replays a claimed linearization: real-time order and model steps. */
function replays(ops: readonly Operation[], order: readonly number[]): boolean {
  const byId = new Map(ops.map((o) => [o.id, o]));
  const pos = new Map(order.map((id, i) => [id, i]));
  for (const o of ops) if (o.status === 'ok' && !pos.has(o.id)) return false;
  for (const a of ops) for (const b of ops) {
    if (a.ret < b.call && pos.has(a.id) && pos.has(b.id) && (pos.get(a.id) as number) > (pos.get(b.id) as number)) return false;
  }
  let state = NULL_KEY;
  for (const id of order) {
    const o = byId.get(id) as Operation;
    const next = registerStep(state, o);
    if (next.length === 0) return false;
    state = next[0] as string;
  }
  return true;
}

const SHAPES: ReadonlyArray<readonly [string, Shape]> = [
  ['unique values, reads and writes (the fast path)', { cas: false, deletes: false, uniqueValues: true }],
  ['repeated values', { cas: false, deletes: false, uniqueValues: false }],
  ['cas and deletes', { cas: true, deletes: true, uniqueValues: false }],
  ['cas with unique values', { cas: true, deletes: false, uniqueValues: true }],
];

describe('checker vs brute force', () => {
  for (const [name, shape] of SHAPES) {
    it(`agrees on 600 random histories: ${name}`, () => {
      let invalid = 0;
      for (let seed = 1; seed <= 600; seed++) {
        const h = randomHistory(seed * 7919 + name.length, shape);
        const ops = pairOperations(h);
        const truth = bruteForce(ops);
        const r = checkHistory(h, 'cas-register');
        expect({ seed, valid: r.valid }).toEqual({ seed, valid: truth });
        // The plain WGL search, without pruning, the fast path or the frontier heuristics, must agree too.
        expect({ seed, wgl: searchLinearization(casRegister, ops).valid }).toEqual({ seed, wgl: truth });
        const p = r.partitions[0];
        if (p === undefined) continue;
        if (truth) {
          // The linearization must replay (dropped info ops simply never happened).
          expect({ seed, replays: replays(ops, p.linearized) }).toEqual({ seed, replays: true });
        } else {
          invalid++;
          const ce = new Set(p.counterexample);
          const cx = ops.filter((o) => ce.has(o.id));
          expect({ seed, counterexampleLinearizable: bruteForce(cx) }).toEqual({ seed, counterexampleLinearizable: false });
          // No trivial counterexamples: a value an op of it needs, if the history sets it, is set in it.
          const setIn = (xs: readonly Operation[]): Set<string> => new Set(xs.map(resultKey).filter((k): k is string => k !== null));
          const inHistory = setIn(ops);
          const inCx = setIn(cx);
          const orphans = cx.filter((o) => {
            const need = neededKey(o);
            return need !== null && need !== NULL_KEY && inHistory.has(need) && !inCx.has(need);
          });
          expect({ seed, orphans: orphans.map((o) => o.id) }).toEqual({ seed, orphans: [] });
        }
      }
      // The generator must produce both kinds, or the test proves little.
      expect(invalid).toBeGreaterThan(50);
      expect(invalid).toBeLessThan(550);
    });
  }
});
