// Same seed, same world, bit for bit; and the seed really matters.
import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../../sim/options.js';
import { runSimulation } from '../../sim/world.js';

const opts = (seed: number) => defaultOptions(seed, { durationMs: 8000, trace: true, checkLinearizability: false });

describe('determinism', () => {
  it('the same seed gives the same traceHash, trace, history and stats (wall time aside)', () => {
    const a = runSimulation(opts(11));
    const b = runSimulation(opts(11));
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.traceLines).toEqual(b.traceLines);
    expect(a.history).toEqual(b.history);
    expect({ ...a.stats, wallMs: 0 }).toEqual({ ...b.stats, wallMs: 0 });
    expect(a.stats.clientOps).toBeGreaterThan(0);
  });

  it('different seeds give different worlds', () => {
    const hashes = new Set([1, 2, 3].map((s) => runSimulation(opts(s)).traceHash));
    expect(hashes.size).toBe(3);
  });

  it('the trace is readable: virtual time, nodes, roles, messages, client ops, faults', () => {
    const r = runSimulation(defaultOptions(4, { durationMs: 8000, trace: true, checkLinearizability: false }));
    const text = (r.traceLines ?? []).join('\n');
    expect(text).toMatch(/ms n\d p0 becomes leader in term \d+/);
    expect(text).toMatch(/send p0 n\d->n\d append t\d+ prev \d+\/\d+ n=\d+ commit \d+/);
    expect(text).toMatch(/client p\d+ -> n\d (read|write|cas|delete) k\d/);
    expect(text).toMatch(/all faults heal/);
  });
});
