// Partition shapes as data: who can reach whom under each, and the same seed giving the same shape.
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { bridge, componentsCuts, isolate, majorityMinority, oneWay, PartitionError, reachableFrom, shapeCuts } from '../../jepsen/harness/partitions.js';

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
const rng = (seed: number) => seedrandom.alea(String(seed));

describe('partition shapes', () => {
  it('majority/minority: 2 | 3 of five, cut both ways between the sides only', () => {
    const { minority, majority, cuts } = majorityMinority(five, rng(1));
    expect(minority).toHaveLength(2);
    expect(majority).toHaveLength(3);
    expect([...minority, ...majority].sort()).toEqual(five);
    expect(cuts).toHaveLength(2 * 2 * 3);
    for (const m of minority) expect(reachableFrom(five, cuts, m).sort()).toEqual(minority.filter((x) => x !== m));
    for (const m of majority) expect(reachableFrom(five, cuts, m).sort()).toEqual(majority.filter((x) => x !== m));
  });

  it('the same seed draws the same shape; different seeds can differ', () => {
    expect(majorityMinority(five, rng(7))).toEqual(majorityMinority(five, rng(7)));
    const drawn = new Set(Array.from({ length: 20 }, (_, s) => majorityMinority(five, rng(s)).minority.join(',')));
    expect(drawn.size).toBeGreaterThan(1);
  });

  it('isolate: one node reaches no one and no one reaches it', () => {
    const { isolated, cuts } = isolate(five, rng(3), 'n4');
    expect(isolated).toBe('n4');
    expect(reachableFrom(five, cuts, 'n4')).toEqual([]);
    for (const n of five.filter((x) => x !== 'n4')) expect(reachableFrom(five, cuts, n)).not.toContain('n4');
    expect(() => isolate(five, rng(3), 'n9')).toThrow(PartitionError);
  });

  it('bridge: the bridge node reaches everyone, each side reaches itself and the bridge', () => {
    const { bridge: b, sides, cuts } = bridge(five, rng(5));
    expect(reachableFrom(five, cuts, b)).toHaveLength(4);
    const [left, right] = sides;
    expect(left.length + right.length).toBe(4);
    for (const n of left) expect(reachableFrom(five, cuts, n).sort()).toEqual([...left.filter((x) => x !== n), b].sort());
    for (const n of right) expect(reachableFrom(five, cuts, n).sort()).toEqual([...right.filter((x) => x !== n), b].sort());
    expect(() => bridge(['a', 'b'], rng(1))).toThrow(/at least 3/);
  });

  it('one-way: the sender reaches no one, everyone still reaches it', () => {
    const { from, cuts } = oneWay(five, rng(9));
    expect(from).toHaveLength(1);
    const s = from[0]!;
    expect(reachableFrom(five, cuts, s)).toEqual([]);
    for (const n of five.filter((x) => x !== s)) expect(reachableFrom(five, cuts, n)).toContain(s);
    expect(oneWay(five, rng(1), ['n1'], ['n2']).cuts).toEqual([['n1', 'n2']]);
  });

  it('components: nodes named in no group are alone; bad groups are refused', () => {
    const cuts = componentsCuts(['a', 'b', 'c'], [['a', 'b']]);
    expect(reachableFrom(['a', 'b', 'c'], cuts, 'c')).toEqual([]);
    expect(reachableFrom(['a', 'b', 'c'], cuts, 'a')).toEqual(['b']);
    expect(() => componentsCuts(['a', 'b'], [['a'], ['a', 'b']])).toThrow(/two groups/);
    expect(() => shapeCuts(['a'], { kind: 'isolate' }, rng(1))).toThrow(/at least 2 nodes/);
    expect(() => shapeCuts(['a', 'a'], { kind: 'isolate' }, rng(1))).toThrow(/duplicate/);
  });
});
