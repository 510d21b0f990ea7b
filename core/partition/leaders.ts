// Preferred leaders: which replica of each partition should lead when all are healthy. Taking
// the first-ranked replica everywhere would leave leaderships as uneven as the hash. Instead:
// a greedy pass gives each partition (in order) to the replica with the fewest leaderships so
// far, then a repair pass moves a leadership from a node to another replica of the same
// partition while that narrows the gap (each move lowers the sum of squared counts, so it
// ends). Deterministic: partitions and replicas are walked in a fixed order.
import type { NodeId } from '../types.js';

/** For each partition (by index) its preferred leader, one of `replicaSets[p]`. */
export function assignPreferredLeaders(nodes: readonly NodeId[], replicaSets: readonly (readonly NodeId[])[]): NodeId[] {
  const count = new Map<NodeId, number>(nodes.map((n) => [n, 0]));
  const out: NodeId[] = [];
  for (const replicas of replicaSets) {
    let best: NodeId | null = null;
    let bestCount = Infinity;
    for (const r of replicas) {
      const c = count.get(r) ?? 0;
      if (c < bestCount) {
        best = r;
        bestCount = c;
      }
    }
    if (best === null) throw new RangeError('assignPreferredLeaders: a partition with no replicas');
    count.set(best, bestCount + 1);
    out.push(best);
  }
  // Repair: bounded by the drop in sum of squares (at most P * P moves; in practice a handful).
  let moved = true;
  while (moved) {
    moved = false;
    for (let p = 0; p < replicaSets.length; p++) {
      const cur = out[p]!;
      const curCount = count.get(cur)!;
      let target: NodeId | null = null;
      let targetCount = curCount - 1; // a move must leave the target strictly below the source's old count
      for (const r of replicaSets[p]!) {
        const c = count.get(r)!;
        if (r !== cur && c < targetCount) {
          target = r;
          targetCount = c;
        }
      }
      if (target !== null) {
        count.set(cur, curCount - 1);
        count.set(target, targetCount + 1);
        out[p] = target;
        moved = true;
      }
    }
  }
  return out;
}
