// `conclave demo` (what `npm start` runs for now): one short simulation of a 5-node cluster
// under faults, told in plain words — who was elected, what broke, what the clients got done,
// and whether every check held.
import { defaultOptions } from './options.js';
import { runSimulation } from './world.js';

export const DEMO_HELP = `usage: conclave demo [--seed S]

Run a short (20 s virtual) simulation of a 5-node Conclave cluster under random faults and
narrate it: elections, partitions, crashes, client operations, and the verdict of the safety,
liveness and linearizability checks. The same seed tells the same story.`;

export async function demoMain(args: readonly string[]): Promise<number> {
  let seed = 42;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') {
      process.stdout.write(DEMO_HELP + '\n');
      return 0;
    }
    if (a === '--seed' && args[i + 1] !== undefined && /^\d+$/.test(args[i + 1]!)) {
      seed = Number(args[++i]);
      continue;
    }
    process.stderr.write(`conclave demo: unknown option '${a}'\n`);
    return 2;
  }
  const r = runSimulation(defaultOptions(seed, { durationMs: 20_000 }));
  const out: string[] = [];
  out.push(`Conclave demo: a simulated 5-node cluster, seed ${seed}, 20 seconds of virtual time.`);
  out.push(`Five client processes read, write, compare-and-swap and delete a handful of keys while faults strike.`);
  out.push('');
  const lines = r.narrative;
  const shown = lines.length > 40 ? [...lines.slice(0, 30), { atMs: -1, text: `... ${lines.length - 36} more events ...` }, ...lines.slice(-6)] : lines;
  for (const l of shown) out.push(l.atMs < 0 ? `           ${l.text}` : `  ${(l.atMs / 1000).toFixed(3).padStart(7)}s  ${l.text}`);
  const s = r.stats;
  out.push('');
  out.push(
    `In ${(s.virtualMs / 1000).toFixed(0)} virtual seconds (${s.wallMs.toFixed(0)} ms of real time) the cluster held ${s.elections} election(s), ` +
      `survived ${s.crashes} crash(es), ${s.partitions} partition(s) and ${s.pauses} pause(s), and exchanged ${s.messages} messages.`,
  );
  out.push(`The clients ran ${s.clientOps} operations: ${s.ok} succeeded, ${s.fail} definitely failed, ${s.info} timed out (outcome unknown); ${s.committed} writes committed.`);
  out.push(
    r.ok
      ? `Verdict: every safety check held after every event, the cluster recovered after the faults healed, and the client history is ${r.linearizable === true ? 'linearizable' : `(linearizability: ${String(r.linearizable)})`}.`
      : `Verdict: a check FAILED: ${r.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}`,
  );
  out.push(`Reproduce it exactly: ./bin/conclave sim --seed ${seed} --duration-ms 20000 --trace demo.log`);
  process.stdout.write(out.join('\n') + '\n');
  return r.ok ? 0 : 1;
}
