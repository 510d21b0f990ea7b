// Hot keys with a tiny value domain (values 0..4), many processes and many `info` writes:
// the histories of issue 12, with known verdicts.
//
// - 'linearizable': simulated clients against the atomic store (history.ts), so whatever they
//   saw is linearizable by construction.
// - 'stale': the same base history, then, on one key, after every base operation that
//   returned has returned, one process does W = write 4 (ok), C = cas [4, 1] (ok),
//   R = read (ok, made to return 4), each invoked after the previous one returned. The base
//   is generated so that no timed-out operation writes 4 (noInfoValue). Proof: R returns 4,
//   so in a linearization the last setter before R produces 4. C is ok, set 1, and precedes R
//   in real time, so that setter lies between C and R, hence returned after C was invoked.
//   Producers of 4 are W (returned before C was invoked) and base operations that are ok
//   (none info) and so returned before W was invoked. None qualifies: not linearizable. Only
//   the cas overwrites W, so no stale-read pattern over writes names it.
// - 'pigeonhole': the base history unchanged (info writes of 4 allowed), then, on one key,
//   after every base operation that returned has returned: S = write 0 (ok); then two long
//   writes of 4 (ok) invoked after S returned and returning at the very end; meanwhile one
//   process runs the chain R1, O1, R2, O2, ..., Rm: each Ri a read returning 4, each Oi a
//   write of 1, 2 or 3, each invoked after the previous returned; m = (info producers of 4 in
//   the base) + 3. Proof: each Ri needs a producer of 4 as the last setter before it; that
//   producer lies after O(i-1) (after S for R1), an ok setter of another value preceding Ri,
//   and before Ri; these windows are disjoint, so the m reads need m distinct producers, each
//   returning after S was invoked. Those are the 2 long writes and the base's info producers
//   of 4 (base ok operations returned before S): m - 1 of them. Not linearizable.
//
// Several keys: the base spreads over keys k0..k(K-1) (model kv) and the gadget is on k0.
import type { HistoryEvent } from '../types.js';
import { generateHistory, type GeneratedHistory, type GenerateOptions } from './history.js';
import type { CheckModelName, HardCase } from './hard.js';

export type RepeatedVariant = 'linearizable' | 'stale' | 'pigeonhole';
export const REPEATED_VARIANTS: readonly RepeatedVariant[] = ['linearizable', 'stale', 'pigeonhole'];

export interface RepeatedParams {
  readonly seed: number | string;
  readonly ops: number;
  readonly processes: number;
  /** Share of writes (and cas) ending `info`. */
  readonly infoRate: number;
  /** 1 (single register, model register / cas-register) or more (model kv). */
  readonly keys?: number;
  /** Share of cas among operations (default 0.1). */
  readonly cas?: number;
  readonly variant: RepeatedVariant;
}

const GADGET_VALUE = 4;

export function repeatedOptions(p: RepeatedParams): GenerateOptions {
  const cas = p.cas ?? 0.1;
  const keys = p.keys ?? 1;
  return {
    seed: p.seed,
    ops: p.ops,
    processes: p.processes,
    ...(keys === 1 ? { register: true } : { keys }),
    mix: { read: 0.5, write: 0.5 - cas, cas, delete: 0 },
    infoRate: p.infoRate,
    values: 5,
    valueMin: 0,
    ...(p.variant === 'stale' ? { noInfoValue: GADGET_VALUE } : {}),
  };
}

export function repeatedName(p: RepeatedParams): string {
  const keys = p.keys ?? 1;
  return `${keys} key${keys === 1 ? '' : 's'}, ${p.processes} procs, ${p.ops} ops, ${Math.round(p.infoRate * 100)}% info, values 0..4, ${p.variant}`;
}

/** A generated history of the family, with the verdict it was built to have. */
export function repeatedCase(p: RepeatedParams): HardCase {
  const name = repeatedName(p);
  const keys = p.keys ?? 1;
  const model: CheckModelName = keys === 1 ? 'cas-register' : 'kv';
  const base = generateHistory(repeatedOptions(p));
  if (p.variant === 'linearizable') return { name, model, expected: true, history: base };
  const key = keys === 1 ? null : 'k0';
  return { name, model, expected: false, history: appendGadget(base, key, p.variant) };
}

type GadgetOp = { readonly process: number; readonly f: 'read' | 'write' | 'cas'; readonly input: unknown; readonly output: unknown };

function appendGadget(base: GeneratedHistory, key: string | null, variant: 'stale' | 'pigeonhole'): GeneratedHistory {
  const events: HistoryEvent[] = [...base.events];
  let maxProcess = -1;
  let lastTime = 0;
  for (const e of events) {
    if (e.process > maxProcess) maxProcess = e.process;
    if (e.time !== undefined && e.time > lastTime) lastTime = e.time;
  }
  const chain = maxProcess + 1;
  let time = lastTime;
  const push = (type: 'invoke' | 'ok', op: GadgetOp): void => {
    time += 1000;
    const value = op.f === 'read' ? (type === 'invoke' ? null : op.output) : op.input;
    events.push({ process: op.process, type, f: op.f, key, value, time, line: events.length + 1 });
  };
  const sequential = (op: GadgetOp): void => {
    push('invoke', op);
    push('ok', op);
  };
  if (variant === 'stale') {
    sequential({ process: chain, f: 'write', input: GADGET_VALUE, output: null });
    sequential({ process: chain, f: 'cas', input: [GADGET_VALUE, 1], output: null });
    sequential({ process: chain, f: 'read', input: null, output: GADGET_VALUE });
  } else {
    const infoProducers = base.ops.filter(
      (op) => op.key === key && op.status === 'info' && ((op.f === 'write' && op.input === GADGET_VALUE) || (op.f === 'cas' && (op.input as readonly unknown[])[1] === GADGET_VALUE)),
    ).length;
    const longWrites = [chain + 1, chain + 2].map((process): GadgetOp => ({ process, f: 'write', input: GADGET_VALUE, output: null }));
    sequential({ process: chain, f: 'write', input: 0, output: null });
    for (const w of longWrites) push('invoke', w);
    const reads = infoProducers + longWrites.length + 1;
    for (let i = 0; i < reads; i++) {
      if (i > 0) sequential({ process: chain, f: 'write', input: 1 + (i % 3), output: null });
      sequential({ process: chain, f: 'read', input: null, output: GADGET_VALUE });
    }
    for (const w of longWrites) push('ok', w);
  }
  return { options: base.options, ops: base.ops, events };
}
