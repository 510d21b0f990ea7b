// Words for a counterexample: the operations, the real-time facts between them, and where
// every attempt to order them breaks down.

import type { Model, Operation } from './types.js';
import { searchLinearization } from './wgl.js';

export function describeTiming(op: Operation): string {
  const called = `called at line ${op.line}`;
  if (op.status === 'info') return `${called}, outcome unknown (may take effect at any later time, or never)`;
  return `${called}, returned at line ${op.retLine ?? '?'}`;
}

/** The real-time facts among `ops`: which ones returned before which others were called. */
export function realTimeFacts(ops: readonly Operation[], label: (op: Operation) => string): string[] {
  const facts: string[] = [];
  for (const a of ops) {
    const after = ops.filter((b) => b !== a && a.ret < b.call);
    // Only the immediate successors: a precedes b, and no c sits between them.
    const direct = after.filter((b) => !after.some((c) => c !== b && c.ret < b.call));
    if (direct.length > 0) facts.push(`${label(a)} returned before ${direct.map(label).join(' and ')} ${direct.length === 1 ? 'was' : 'were'} called`);
  }
  return facts;
}

export function explainCounterexample(model: Model<string>, key: string | null, ops: readonly Operation[], minimal: boolean): string {
  const sorted = [...ops].sort((a, b) => a.call - b.call);
  const label = (op: Operation): string => `#${sorted.indexOf(op) + 1}`;
  const where = key === null ? '' : ` on key ${JSON.stringify(key)}`;
  const lines: string[] = [];
  lines.push(`Not linearizable${where}: these ${sorted.length} operation${sorted.length === 1 ? '' : 's'} cannot be put in any order that respects both real time and the ${model.name} model${minimal ? ' (leave out any one of them, with what depends on it, and the rest can be ordered)' : ''}:`);
  for (const op of sorted) lines.push(`  ${label(op)} ${model.describeOp(op)}; ${describeTiming(op)}`);
  const facts = realTimeFacts(sorted, label);
  if (facts.length > 0) lines.push(`In real time: ${facts.join('; ')}.`);
  const r = searchLinearization(model, sorted, { maxSteps: 100_000 });
  if (r.valid === false && r.stuck !== undefined) {
    const byId = new Map(sorted.map((op) => [op.id, op]));
    const prefix = r.linearized.map((id) => label(byId.get(id) as Operation));
    const stuck = byId.get(r.stuck) as Operation;
    const state = r.stateAfter !== undefined ? model.describeState(r.stateAfter) : '?';
    lines.push(
      prefix.length === 0
        ? `No order can even start: ${label(stuck)} must come first or early, and the register (initially absent) does not allow it.`
        : `The furthest any order gets is ${prefix.join(', ')} (leaving the register ${state}); then ${label(stuck)} returns, so it must already have taken effect, and no placement of it is legal.`,
    );
  } else if (sorted.length === 1) {
    lines.push(`${label(sorted[0] as Operation)} saw a value that no operation ever wrote.`);
  }
  return lines.join('\n');
}
