// Partition shapes as plain data: a shape is the list of directed cuts [from, to], meaning
// "messages from `from` do not reach `to`". Pure functions of the node list and a seeded
// random source, so a seed names the same shapes on every run; network.ts applies them.
//
// The shapes are Jepsen's: majority/minority halves, one node isolated, a bridge (two
// halves that cannot talk, and one node that talks to both), and one-way cuts.

export type Cut = readonly [from: string, to: string];

export type PartitionShape =
  | { readonly kind: 'majority-minority' }
  | { readonly kind: 'isolate'; readonly node?: string }
  | { readonly kind: 'bridge' }
  | { readonly kind: 'one-way'; readonly from?: readonly string[]; readonly to?: readonly string[] }
  | { readonly kind: 'components'; readonly groups: readonly (readonly string[])[] };

export const SHAPE_KINDS = ['majority-minority', 'isolate', 'bridge', 'one-way', 'components'] as const;

export class PartitionError extends Error {
  override readonly name = 'PartitionError';
}

/** A random source in [0, 1): a seeded one, never Math.random, so shapes are reproducible. */
export type Random = () => number;

function checkNodes(nodes: readonly string[]): void {
  if (nodes.length < 2) throw new PartitionError(`a partition needs at least 2 nodes, got ${nodes.length}`);
  if (new Set(nodes).size !== nodes.length) throw new PartitionError(`duplicate node ids in [${nodes.join(', ')}]`);
}

function checkMember(nodes: readonly string[], node: string, what: string): void {
  if (!nodes.includes(node)) throw new PartitionError(`${what}: '${node}' is not one of [${nodes.join(', ')}]`);
}

/** A Fisher-Yates shuffle drawing from `random` (a copy; the input is not touched). */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Cuts, sorted and without repeats, so equal shapes compare equal. */
export function normalizeCuts(cuts: Iterable<Cut>): Cut[] {
  const seen = new Map<string, Cut>();
  for (const [from, to] of cuts) {
    if (from === to) throw new PartitionError(`a node cannot be cut from itself ('${from}')`);
    seen.set(`${from}\u0000${to}`, [from, to]);
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
}

/** Both directions cut between any two nodes of different groups. */
export function componentsCuts(nodes: readonly string[], groups: readonly (readonly string[])[]): Cut[] {
  checkNodes(nodes);
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => {
    for (const n of g) {
      checkMember(nodes, n, 'components');
      if (groupOf.has(n)) throw new PartitionError(`components: '${n}' is in two groups`);
      groupOf.set(n, i);
    }
  });
  // A node named in no group is alone in its own.
  let next = groups.length;
  for (const n of nodes) if (!groupOf.has(n)) groupOf.set(n, next++);
  const cuts: Cut[] = [];
  for (const a of nodes) for (const b of nodes) if (a !== b && groupOf.get(a) !== groupOf.get(b)) cuts.push([a, b]);
  return normalizeCuts(cuts);
}

/** The nodes split into a minority (floor((n-1)/2) of them) and a majority, drawn at random. */
export function majorityMinority(nodes: readonly string[], random: Random): { minority: string[]; majority: string[]; cuts: Cut[] } {
  checkNodes(nodes);
  const order = shuffled(nodes, random);
  const minoritySize = Math.max(1, Math.floor((nodes.length - 1) / 2));
  const minority = order.slice(0, minoritySize).sort();
  const majority = order.slice(minoritySize).sort();
  return { minority, majority, cuts: componentsCuts(nodes, [minority, majority]) };
}

/** One node (given, e.g. a partition's leader, or drawn) cut off from all others, both ways. */
export function isolate(nodes: readonly string[], random: Random, node?: string): { isolated: string; cuts: Cut[] } {
  checkNodes(nodes);
  const isolated = node ?? shuffled(nodes, random)[0]!;
  checkMember(nodes, isolated, 'isolate');
  return { isolated, cuts: componentsCuts(nodes, [[isolated], nodes.filter((n) => n !== isolated)]) };
}

/**
 * Two halves that cannot talk to each other and one bridge node that talks to both: with 5
 * nodes, {a,b} | c | {d,e}. Every node keeps a majority in sight only through the bridge,
 * which is where leaders that believe they have a quorum they do not have come from.
 */
export function bridge(nodes: readonly string[], random: Random): { bridge: string; sides: [string[], string[]]; cuts: Cut[] } {
  checkNodes(nodes);
  if (nodes.length < 3) throw new PartitionError(`a bridge needs at least 3 nodes, got ${nodes.length}`);
  const order = shuffled(nodes, random);
  const middle = order[0]!;
  const rest = order.slice(1);
  const half = Math.floor(rest.length / 2);
  const left = rest.slice(0, half).sort();
  const right = rest.slice(half).sort();
  const cuts: Cut[] = [];
  for (const a of left) for (const b of right) cuts.push([a, b], [b, a]);
  return { bridge: middle, sides: [left, right], cuts: normalizeCuts(cuts) };
}

/**
 * Messages from every node of `from` to every node of `to` are cut; the other way passes.
 * With neither given: one node drawn at random can hear everyone but reach no one.
 */
export function oneWay(
  nodes: readonly string[],
  random: Random,
  from?: readonly string[],
  to?: readonly string[],
): { from: string[]; to: string[]; cuts: Cut[] } {
  checkNodes(nodes);
  const senders = from !== undefined ? [...from] : [shuffled(nodes, random)[0]!];
  for (const n of senders) checkMember(nodes, n, 'one-way from');
  const receivers = to !== undefined ? [...to] : nodes.filter((n) => !senders.includes(n));
  for (const n of receivers) checkMember(nodes, n, 'one-way to');
  const cuts: Cut[] = [];
  for (const a of senders) for (const b of receivers) if (a !== b) cuts.push([a, b]);
  if (cuts.length === 0) throw new PartitionError('one-way: the shape cuts nothing');
  return { from: senders.sort(), to: receivers.sort(), cuts: normalizeCuts(cuts) };
}

/** Any shape as its cuts. */
export function shapeCuts(nodes: readonly string[], shape: PartitionShape, random: Random): Cut[] {
  switch (shape.kind) {
    case 'majority-minority':
      return majorityMinority(nodes, random).cuts;
    case 'isolate':
      return isolate(nodes, random, shape.node).cuts;
    case 'bridge':
      return bridge(nodes, random).cuts;
    case 'one-way':
      return oneWay(nodes, random, shape.from, shape.to).cuts;
    case 'components':
      return componentsCuts(nodes, shape.groups);
    default: {
      const never: never = shape;
      throw new PartitionError(`unknown partition shape ${JSON.stringify(never)}`);
    }
  }
}

/** Which nodes `node` can still send to under `cuts` (for logs and for checking a shape). */
export function reachableFrom(nodes: readonly string[], cuts: readonly Cut[], node: string): string[] {
  const cut = new Set(cuts.map(([a, b]) => `${a}\u0000${b}`));
  return nodes.filter((n) => n !== node && !cut.has(`${node}\u0000${n}`));
}
