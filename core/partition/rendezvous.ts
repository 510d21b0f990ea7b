// Rendezvous (highest-random-weight) hashing: every node gets a score for a partition, and the
// partition's replicas are the nodes with the highest scores. Adding or removing a node moves
// only the partitions whose top-RF set that node enters or leaves.
//
// Plain rendezvous leaves replica counts as uneven as the hash (at 64 partitions on 7 nodes,
// one node may hold 17 replicas and another 35). `boundedReplicaSets` caps each node's load
// ("rendezvous with bounded loads"): partitions are placed in order, each taking its best-ranked
// nodes that are still under the cap. Most partitions keep their plain rendezvous set; the
// ones that hit a full node take the next in rank.
import { partitionId, type NodeId, type PartitionId } from '../types.js';
import { fmix32, fnv1a32 } from './hash.js';

const utf8 = new TextEncoder();

/** How far above the mean replica count a node may go before partitions pass it by. */
export const REPLICA_LOAD_SLACK = 1.0;

/** The score of `node` for `partition`; ties (vanishingly rare) fall back to node id order. */
export function rendezvousScore(node: NodeId, partition: PartitionId): number {
  const h = fnv1a32(utf8.encode(node));
  // Mix the partition in after the node's bytes, then finalize twice so scores of one node
  // for consecutive partitions are unrelated.
  return fmix32(fmix32(h ^ Math.imul(partition + 1, 0x9e3779b1)) ^ 0x5bd1e995);
}

/** The nodes ranked for `partition`, best first. */
export function rankNodes(nodes: readonly NodeId[], partition: PartitionId): NodeId[] {
  const scored = nodes.map((n) => ({ n, s: rendezvousScore(n, partition) }));
  scored.sort((a, b) => b.s - a.s || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return scored.map((x) => x.n);
}

/** The plain rendezvous replicas of `partition` (its top `rf` nodes), in rank order. */
export function replicaSet(nodes: readonly NodeId[], partition: PartitionId, rf: number): NodeId[] {
  return rankNodes(nodes, partition).slice(0, rf);
}

/** The replica sets of partitions 0..partitions-1, each in rank order, no node above the load cap. */
export function boundedReplicaSets(nodes: readonly NodeId[], partitions: number, rf: number): NodeId[][] {
  const cap = Math.max(1, Math.ceil(((partitions * rf) / nodes.length) * REPLICA_LOAD_SLACK));
  const load = new Map<NodeId, number>(nodes.map((n) => [n, 0]));
  const out: NodeId[][] = [];
  for (let p = 0; p < partitions; p++) {
    const ranked = rankNodes(nodes, partitionId(p));
    const chosen: NodeId[] = [];
    for (const n of ranked) {
      if (chosen.length === rf) break;
      if (load.get(n)! < cap) chosen.push(n);
    }
    // Near the end fewer than rf nodes may be under the cap: the least loaded others fill in
    // (ties by rank), so no node goes more than one above it.
    if (chosen.length < rf) {
      const rest = ranked.filter((n) => !chosen.includes(n));
      rest.sort((a, b) => load.get(a)! - load.get(b)! || ranked.indexOf(a) - ranked.indexOf(b));
      chosen.push(...rest.slice(0, rf - chosen.length));
    }
    for (const n of chosen) load.set(n, load.get(n)! + 1);
    out.push(chosen);
  }
  return out;
}
