// How one run is shown: the --json object (CONTRACTS.md fields first) and the human summary.
import type { RunFlags } from './options.js';
import { reproduceCommand } from './options.js';
import type { SimResult } from './world.js';

export function jsonSummary(r: SimResult, flags: RunFlags): Record<string, unknown> {
  return {
    seed: r.seed,
    ok: r.ok,
    traceHash: r.traceHash,
    violations: r.violations,
    stats: r.stats,
    linearizable: r.linearizable,
    ...(r.linearizabilityExplanation !== null && r.linearizable !== true ? { linearizabilityExplanation: r.linearizabilityExplanation } : {}),
    bug: r.bug,
    nodes: flags.nodes,
    partitions: flags.partitions,
    durationMs: flags.durationMs,
    faults: flags.faultsText,
    profile: r.profile,
    tuning: r.tuning,
    healAtMs: r.healAtMs,
    ...(r.ok ? {} : { reproduce: reproduceCommand(r.seed, flags) }),
  };
}

export function humanSummary(r: SimResult, flags: RunFlags): string {
  const s = r.stats;
  const lines = [
    `seed ${r.seed}: ${r.ok ? 'OK' : 'FAILED'}  traceHash ${r.traceHash}`,
    `  ${flags.nodes} nodes, ${flags.partitions} partition(s), ${s.virtualMs.toFixed(0)}ms virtual in ${s.wallMs.toFixed(0)}ms wall (${(s.virtualMs / Math.max(1, s.wallMs)).toFixed(0)}x), ${s.events} events, ${s.messages} messages`,
    `  faults: ${flags.faultsText}${r.profile !== null ? ` (this seed: ${r.profile.enabled.join(', ') || 'none'})` : ''}; ${s.faultEvents} scheduled, ${s.crashes} crashes, ${s.partitions} partitions, ${s.pauses} pauses, ${s.bitFlips} bit flips, ${s.tornTailsRepaired} torn tails repaired, ${s.damagedNodes} node(s) refused damaged disks`,
    `  clients: ${s.clientOps} ops (${s.ok} ok, ${s.fail} fail, ${s.info} info), ${s.committed} writes committed, ${s.elections} elections, ${s.appliedEntries} entries applied`,
    `  linearizable: ${String(r.linearizable)}`,
  ];
  if (r.bug !== null) lines.push(`  planted bug: ${r.bug}`);
  for (const v of r.violations) lines.push(`  VIOLATION ${v.kind} at ${v.atMs.toFixed(3)}ms: ${v.message}`);
  if (!r.ok) lines.push(`  reproduce: ${reproduceCommand(r.seed, flags)}`);
  return lines.join('\n');
}
