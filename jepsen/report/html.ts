// The checker's HTML report: one self-contained file (inline CSS, SVG and a few lines of
// JS; nothing fetched), readable offline and attachable to a bug.
//
// For each key partition (failing first) it draws each process's operations as bars on a
// time line of event positions, colours the longest linearizable prefix the search found,
// and highlights the counterexample: the operations that cannot be ordered together, with
// the values they read and wrote. Large partitions are cut to a window around the
// counterexample (always kept whole), with a note saying what was left out.
import { writeFileSync } from 'node:fs';
import type { CheckResult, Operation, PartitionResult, Verdict } from '../types.js';

export interface HtmlReportOptions {
  /** Most operations drawn per partition (default 1000); the counterexample is always drawn. */
  readonly maxOpsPerPartition?: number;
  /** Most partitions drawn as time lines (default 12, failing and unknown ones first). */
  readonly maxPartitionsRendered?: number;
  /**
   * The x axis: 'position' (default; event order, compressed so every bar is readable) or
   * 'time' (the events' `time` fields to scale, showing real latencies; falls back to
   * position for a partition whose events lack times).
   */
  readonly axis?: 'position' | 'time';
  /** Shown in the page title and header, e.g. the history file name. */
  readonly title?: string;
}

const DEFAULT_MAX_OPS = 1000;
const DEFAULT_MAX_PARTITIONS = 12;
/** Longest value text in a bar label or table cell before it is cut. */
const VALUE_CHARS_MAX = 60;
/** Most prefix entries listed as text under a time line. */
const PREFIX_LISTED_MAX = 200;

const ROW_PX = 24;
const BAR_PX = 18;
const AXIS_PX = 28;
const LABEL_COLUMN_PX = 96;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/** A value as short text: JSON, cut to VALUE_CHARS_MAX characters. */
export function showValue(v: unknown): string {
  let s: string;
  if (v === undefined) s = 'undefined';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > VALUE_CHARS_MAX ? `${s.slice(0, VALUE_CHARS_MAX - 1)}…` : s;
}

/** The short label drawn in an operation's bar. */
export function opLabel(op: Operation): string {
  const unknown = op.status === 'info';
  switch (op.f) {
    case 'read':
      return unknown ? 'r ?' : `r ${op.output === null ? '∅' : showValue(op.output)}`;
    case 'write':
      return `w ${showValue(op.input)}`;
    case 'cas': {
      const pair = Array.isArray(op.input) && op.input.length === 2 ? op.input : null;
      return pair === null ? `cas ${showValue(op.input)}` : `cas ${showValue(pair[0])}→${showValue(pair[1])}`;
    }
    case 'delete':
      return 'del';
    default:
      return `${op.f} ${showValue(op.input)}${op.output === null || op.output === undefined ? '' : ` → ${showValue(op.output)}`}`;
  }
}

type Role = 'cx' | 'lin' | 'rest';

/** What the client saw: a read's value; writes, cas and deletes only echo their input. */
function outputText(op: Operation): string {
  if (op.status === 'info') return '? (info: unknown)';
  if (op.f === 'write' || op.f === 'cas' || op.f === 'delete') return '—';
  return op.f === 'read' && op.output === null ? 'null (absent)' : showValue(op.output);
}

function verdictWords(v: Verdict): string {
  return v === true ? 'linearizable' : v === false ? 'NOT linearizable' : 'unknown (the search ran out of time)';
}

function verdictClass(v: Verdict): string {
  return v === true ? 'v-true' : v === false ? 'v-false' : 'v-unknown';
}

function keyText(key: string | null): string {
  return key === null ? 'the register (no key)' : `key ${JSON.stringify(key)}`;
}

/** Failing partitions first, then unknown, then linearizable; otherwise in the checker's order. */
function orderPartitions(parts: readonly PartitionResult[]): PartitionResult[] {
  const rank = (p: PartitionResult): number => (p.valid === false ? 0 : p.valid === 'unknown' ? 1 : 2);
  return parts
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map(({ p }) => p);
}

/** The operations of one partition, found by key (the checker's PartitionResult keeps counts, not lists). */
function partitionOps(result: CheckResult, part: PartitionResult, byKey: ReadonlyMap<string | null, Operation[]>): Operation[] {
  // Single-register models check every operation as one partition, whatever its key.
  if (result.partitions.length === 1) return [...result.operations];
  return byKey.get(part.key) ?? [];
}

/**
 * Which operations to draw when a partition is too large: the counterexample (or, for an
 * unknown verdict, the first operations the search could not place), then the operations
 * nearest to it in real time, up to `cap`.
 */
export function selectOps(ops: readonly Operation[], part: PartitionResult, cap: number): Operation[] {
  if (ops.length <= cap) return [...ops];
  const sorted = [...ops].sort((a, b) => a.call - b.call || a.id - b.id);
  const inPrefix = new Set(part.linearized);
  let focus: Operation[];
  if (part.counterexample !== undefined && part.counterexample.length > 0) {
    const cx = new Set(part.counterexample);
    focus = sorted.filter((o) => cx.has(o.id));
  } else if (part.valid !== true) {
    // An info op may be left out of any linearization; the ok ops show where the search stuck.
    focus = sorted.filter((o) => !inPrefix.has(o.id) && o.status === 'ok').slice(0, 8);
  } else {
    focus = [];
  }
  if (focus.length === 0) return sorted.slice(0, cap);
  const chosen = new Set<number>(focus.map((o) => o.id));
  const center = focus[Math.floor(focus.length / 2)]!.call;
  let hi = sorted.findIndex((o) => o.call >= center);
  if (hi < 0) hi = sorted.length;
  let lo = hi - 1;
  while (chosen.size < cap && (lo >= 0 || hi < sorted.length)) {
    const left = lo >= 0 ? sorted[lo]! : undefined;
    const right = hi < sorted.length ? sorted[hi]! : undefined;
    const takeLeft = right === undefined || (left !== undefined && center - left.call <= right.call - center);
    if (takeLeft) {
      chosen.add(left!.id);
      lo--;
    } else {
      chosen.add(right.id);
      hi++;
    }
  }
  return sorted.filter((o) => chosen.has(o.id));
}

function opDetails(op: Operation, role: Role, ordinal: number | undefined, partValid: Verdict): string {
  const lines = [
    `op ${op.id} · process ${op.process} · ${op.f}${op.key === null ? '' : ` ${JSON.stringify(op.key)}`}`,
    `input: ${showValue(op.input)}`,
    `output: ${outputText(op)}`,
    `status: ${op.status}`,
    `events: invoke #${op.call}${Number.isFinite(op.ret) ? `, completion #${op.ret}` : ', never completed (may take effect any time after its invoke)'}`,
    `line ${op.line}${op.callTime === undefined ? '' : ` · time ${op.callTime}${op.retTime === undefined ? '' : ` → ${op.retTime}`}`}`,
  ];
  if (op.extra !== undefined && Object.keys(op.extra).length > 0) lines.push(`extra: ${showValue(op.extra)}`);
  lines.push(
    role === 'cx'
      ? 'COUNTEREXAMPLE: cannot be ordered together with the other highlighted operations'
      : role === 'lin'
        ? `in the longest linearizable prefix (position ${(ordinal ?? 0) + 1})`
        : partValid === true && op.status === 'info'
          ? 'not needed in the linearization: this info op may never have taken effect'
          : 'not in the linearizable prefix found',
  );
  return lines.join('\n');
}

interface Layout {
  xCall(op: Operation): number;
  /** An operation that never completed runs to the right edge. */
  xRet(op: Operation): number;
  readonly width: number;
  readonly ticks: ReadonlyArray<{ readonly x: number; readonly label: string }>;
  readonly description: string;
}

const AXIS_PAD_PX = 8;

/**
 * The x axis by event position: positions compressed to their rank among the drawn
 * operations' endpoints, so a window cut from a long history has no empty stretches.
 */
function positionAxis(ops: readonly Operation[]): Layout {
  const points = new Set<number>();
  for (const o of ops) {
    points.add(o.call);
    if (Number.isFinite(o.ret)) points.add(o.ret);
  }
  const sorted = [...points].sort((a, b) => a - b);
  const rank = new Map<number, number>();
  sorted.forEach((p, i) => rank.set(p, i));
  const n = sorted.length + 1; // one extra slot on the right for operations that never completed
  // Wide enough that a short bar still shows the start of its label (the rest is in the tooltip).
  const step = Math.max(22, Math.min(56, Math.floor(1200 / Math.max(1, n))));
  const width = AXIS_PAD_PX * 2 + n * step;
  const x = (pos: number): number => AXIS_PAD_PX + (Number.isFinite(pos) ? (rank.get(pos) ?? 0) : n) * step;
  const every = Math.max(1, Math.ceil(80 / step));
  const ticks: Array<{ x: number; label: string }> = [];
  for (let i = 0; i < sorted.length; i += every) ticks.push({ x: AXIS_PAD_PX + i * step, label: `#${sorted[i]!}` });
  return {
    xCall: (op) => x(op.call),
    xRet: (op) => x(op.ret),
    width,
    ticks,
    description: 'event positions (#n: the n-th event), compressed to the drawn operations',
  };
}

/**
 * The x axis by the events' `time` fields, to scale: shows real latencies and gaps. Null
 * when some drawn operation has no time (then the position axis is used).
 */
function timeAxis(ops: readonly Operation[]): Layout | null {
  let t0 = Number.POSITIVE_INFINITY;
  let t1 = Number.NEGATIVE_INFINITY;
  for (const o of ops) {
    if (o.callTime === undefined || (o.status === 'ok' && o.retTime === undefined)) return null;
    t0 = Math.min(t0, o.callTime);
    t1 = Math.max(t1, o.retTime ?? o.callTime);
  }
  if (!(t1 > t0)) return null;
  const inner = Math.max(1200, Math.min(60_000, ops.length * 2 * 14));
  const tail = 60; // room on the right for operations that never completed
  const scale = inner / (t1 - t0);
  const x = (t: number): number => AXIS_PAD_PX + (t - t0) * scale;
  const width = AXIS_PAD_PX * 2 + inner + tail;
  const ticks: Array<{ x: number; label: string }> = [];
  const tickCount = Math.max(2, Math.floor(inner / 110));
  for (let i = 0; i <= tickCount; i++) {
    const t = t0 + ((t1 - t0) * i) / tickCount;
    ticks.push({ x: x(t), label: `+${formatTime(t - t0)}` });
  }
  return {
    xCall: (op) => x(op.callTime ?? t0),
    xRet: (op) => (op.status === 'info' || op.retTime === undefined ? width - AXIS_PAD_PX : x(op.retTime)),
    width,
    ticks,
    description: `the events' time field, to scale, from ${t0}`,
  };
}

function formatTime(dt: number): string {
  const digits = dt >= 100 ? 0 : dt >= 10 ? 1 : 2;
  return dt.toFixed(digits);
}

function layoutAxis(ops: readonly Operation[], axis: 'position' | 'time'): Layout {
  return (axis === 'time' ? timeAxis(ops) : null) ?? positionAxis(ops);
}

function renderTimeline(
  ops: readonly Operation[],
  roles: ReadonlyMap<number, Role>,
  ordinals: ReadonlyMap<number, number>,
  anchor: string,
  partValid: Verdict,
  axisKind: 'position' | 'time',
): string {
  // The processes of the counterexample get the top rows: in a long history with many
  // retired processes they would otherwise sit hundreds of rows down.
  const cxProcesses = new Set(ops.filter((o) => roles.get(o.id) === 'cx').map((o) => o.process));
  const processes = [...new Set(ops.map((o) => o.process))].sort(
    (a, b) => Number(cxProcesses.has(b)) - Number(cxProcesses.has(a)) || a - b,
  );
  const row = new Map<number, number>();
  processes.forEach((p, i) => row.set(p, i));
  const axis = layoutAxis(ops, axisKind);
  const height = AXIS_PX + processes.length * ROW_PX + 4;

  const labels: string[] = [];
  processes.forEach((p, i) => {
    const cls = cxProcesses.has(p) ? ' class="cx-process"' : '';
    labels.push(`<text${cls} x="${LABEL_COLUMN_PX - 8}" y="${AXIS_PX + i * ROW_PX + BAR_PX - 4}" text-anchor="end">process ${p}</text>`);
  });

  const parts: string[] = [];
  // Alternate row shading, so a process's bars are easy to follow across a wide line.
  processes.forEach((_, i) => {
    if (i % 2 === 1) parts.push(`<rect class="row-band" x="0" y="${AXIS_PX + i * ROW_PX - 3}" width="${axis.width}" height="${ROW_PX}"/>`);
  });
  for (const t of axis.ticks) {
    parts.push(`<line class="tick" x1="${t.x}" x2="${t.x}" y1="${AXIS_PX - 8}" y2="${height}"/><text class="tick-label" x="${t.x + 2}" y="${AXIS_PX - 12}">${escapeHtml(t.label)}</text>`);
  }
  // A band behind the counterexample's operations marks where in time the conflict is.
  const cxOps = ops.filter((o) => roles.get(o.id) === 'cx');
  let focusX = 0;
  if (cxOps.length > 0) {
    const x0 = Math.min(...cxOps.map((o) => axis.xCall(o)));
    const x1 = Math.max(...cxOps.map((o) => axis.xRet(o)));
    focusX = (x0 + x1) / 2;
    parts.push(`<rect class="cx-band" x="${x0 - 3}" y="${AXIS_PX - 6}" width="${Math.max(6, x1 - x0 + 6)}" height="${height - AXIS_PX + 6}"/>`);
  } else if (partValid === 'unknown') {
    // Where the search stopped: the first operation (by invoke) it could not place.
    const unplaced = ops.filter((o) => roles.get(o.id) === 'rest' && o.status === 'ok');
    if (unplaced.length > 0) {
      focusX = Math.min(...unplaced.map((o) => axis.xCall(o))) - 2;
      parts.push(
        `<line class="frontier" x1="${focusX}" x2="${focusX}" y1="${AXIS_PX - 8}" y2="${height}"/>` +
          `<text class="frontier-label" x="${focusX + 3}" y="${AXIS_PX - 1}">search stopped here</text>`,
      );
    }
  }
  // Counterexample bars last, so they are drawn on top.
  const drawOrder = [...ops].sort((a, b) => Number(roles.get(a.id) === 'cx') - Number(roles.get(b.id) === 'cx') || a.id - b.id);
  for (const op of drawOrder) {
    const role = roles.get(op.id) ?? 'rest';
    const x0 = axis.xCall(op);
    const x1 = axis.xRet(op);
    const w = Math.max(4, x1 - x0 - 2);
    const y = AXIS_PX + (row.get(op.process) ?? 0) * ROW_PX;
    const cls = `op ${role}${op.status === 'info' ? ' info' : ''}`;
    const tip = escapeHtml(opDetails(op, role, ordinals.get(op.id), partValid));
    const label = escapeHtml(opLabel(op));
    // A nested <svg> clips the label to its bar; the full text is in the tooltip.
    parts.push(
      `<g class="${cls}" id="${anchor}-op${op.id}" data-op="${op.id}"><title>${tip}</title>` +
        `<svg x="${x0}" y="${y}" width="${w}" height="${BAR_PX}"><rect x="0.5" y="0.5" width="${Math.max(1, w - 1)}" height="${BAR_PX - 1}" rx="3"/>` +
        `<text x="4" y="${BAR_PX - 5}">${label}</text></svg></g>`,
    );
  }
  return (
    `<div class="timeline"><svg class="labels" width="${LABEL_COLUMN_PX}" height="${height}" role="img" aria-label="processes">${labels.join('')}</svg>` +
    `<div class="scroll" data-focus-x="${Math.round(focusX)}"><svg class="lanes" width="${axis.width}" height="${height}" role="img" aria-label="operations by process over ${escapeHtml(axis.description)}">${parts.join('')}</svg></div></div>` +
    `<p class="axis-note">x axis: ${escapeHtml(axis.description)}.</p>`
  );
}

function renderOpTable(ops: readonly Operation[], anchor: string, caption: string): string {
  const rows = ops.map(
    (op) =>
      `<tr class="cx"><td><a href="#${anchor}-op${op.id}">${op.id}</a></td><td>${op.process}</td><td>${escapeHtml(op.f)}</td>` +
      `<td>${escapeHtml(op.key === null ? '—' : op.key)}</td><td class="val">${escapeHtml(op.f === 'read' || op.f === 'delete' ? '—' : showValue(op.input))}</td>` +
      `<td class="val">${escapeHtml(outputText(op))}</td><td>${escapeHtml(op.status)}</td>` +
      `<td>#${op.call}</td><td>${Number.isFinite(op.ret) ? `#${op.ret}` : '∞'}</td><td>${op.line}</td></tr>`,
  );
  return (
    `<table class="ops"><caption>${escapeHtml(caption)}</caption><thead><tr><th>op</th><th>process</th><th>f</th><th>key</th><th>input</th>` +
    `<th>output</th><th>status</th><th>invoke</th><th>completion</th><th>line</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function renderPartition(result: CheckResult, part: PartitionResult, index: number, ops: readonly Operation[], opts: Required<Omit<HtmlReportOptions, 'title'>>): string {
  const anchor = `p${index}`;
  const cxIds = new Set(part.counterexample ?? []);
  const ordinals = new Map<number, number>();
  part.linearized.forEach((id, i) => ordinals.set(id, i));
  const roles = new Map<number, Role>();
  for (const op of ops) roles.set(op.id, cxIds.has(op.id) ? 'cx' : ordinals.has(op.id) ? 'lin' : 'rest');
  const shown = selectOps(ops, part, opts.maxOpsPerPartition);
  const byId = new Map(ops.map((o) => [o.id, o] as const));

  const out: string[] = [];
  out.push(`<section class="partition ${verdictClass(part.valid)}" id="${anchor}" data-valid="${String(part.valid)}">`);
  out.push(`<h2><span class="badge ${verdictClass(part.valid)}">${escapeHtml(verdictWords(part.valid))}</span> ${escapeHtml(keyText(part.key))}</h2>`);
  const facts = [
    `${part.ops} operations`,
    `longest linearizable prefix found: ${part.linearized.length} operations`,
    ...(part.method === undefined ? [] : [`decided by: ${part.method}`]),
  ];
  out.push(`<p class="facts">${escapeHtml(facts.join(' · '))}</p>`);
  if (shown.length < ops.length) {
    out.push(
      `<p class="note">Showing ${shown.length} of ${ops.length} operations: ${
        cxIds.size > 0 ? 'all counterexample operations and those nearest to them in time' : part.valid === true ? 'the first ones' : 'the first operations the search could not place and those nearest to them'
      }.</p>`,
    );
  }
  if (cxIds.size > 0) {
    const cxOps = [...cxIds].map((id) => byId.get(id) ?? result.operations[id]).filter((o): o is Operation => o !== undefined);
    out.push(
      `<div class="cx-box"><h3>Counterexample: ${cxOps.length} operations that cannot be linearized together</h3>` +
        renderOpTable(cxOps, anchor, 'Each of these must take effect between its invoke and completion; no order of them explains every value read.') +
        `</div>`,
    );
  }
  out.push(renderTimeline(shown, roles, ordinals, anchor, part.valid, opts.axis));
  if (part.linearized.length > 0) {
    const from = Math.max(0, part.linearized.length - PREFIX_LISTED_MAX);
    const items = part.linearized.slice(from).map((id) => {
      const op = byId.get(id);
      return `<li>${op === undefined ? `op ${id}` : `<a href="#${anchor}-op${id}">op ${id}</a> · process ${op.process} · ${escapeHtml(opLabel(op))}`}</li>`;
    });
    out.push(
      `<details class="prefix"><summary>Longest linearizable prefix, in linearization order (${part.linearized.length} operations${from > 0 ? `; the last ${PREFIX_LISTED_MAX} listed` : ''})</summary>` +
        `<ol start="${from + 1}">${items.join('')}</ol></details>`,
    );
  }
  out.push('</section>');
  return out.join('\n');
}

const STYLE = `
:root { --lin: #4f9d5d; --lin-edge: #2e6b3a; --cx: #d93b3b; --cx-edge: #7a0f0f; --rest: #b9bec7; --rest-edge: #7d838d; --ink: #1d232b; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); margin: 0; background: #f6f7f9; }
header.report { padding: 18px 24px; color: #fff; }
header.report.v-false { background: #b3261e; } header.report.v-true { background: #2e7d32; } header.report.v-unknown { background: #a86500; }
header.report h1 { margin: 0 0 4px; font-size: 24px; }
header.report p { margin: 2px 0; }
pre.explanation { white-space: pre-wrap; background: rgba(0,0,0,.18); padding: 8px 10px; border-radius: 4px; margin: 8px 0 0; font-size: 13px; }
main { padding: 8px 24px 40px; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; margin: 12px 0; }
.legend svg { vertical-align: middle; margin-right: 6px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #d7dbe0; padding: 3px 8px; text-align: left; font-size: 13px; }
td.val { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
caption { text-align: left; padding: 4px 0; color: #4a525c; }
.partition { background: #fff; border: 1px solid #d7dbe0; border-left: 6px solid var(--rest-edge); border-radius: 4px; padding: 10px 16px 14px; margin: 16px 0; }
.partition.v-false { border-left-color: var(--cx); } .partition.v-true { border-left-color: var(--lin); } .partition.v-unknown { border-left-color: #e09a1a; }
.partition h2 { font-size: 18px; margin: 4px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 13px; vertical-align: 2px; }
.badge.v-false { background: var(--cx); } .badge.v-true { background: var(--lin); } .badge.v-unknown { background: #e09a1a; }
.facts { color: #4a525c; margin: 2px 0 8px; }
.note { background: #fff6d6; border: 1px solid #ecd68a; padding: 4px 8px; border-radius: 4px; }
.cx-box { margin: 8px 0; } .cx-box h3 { font-size: 15px; color: var(--cx-edge); margin: 6px 0; }
tr.cx td { background: #fdeaea; }
.timeline { display: flex; border: 1px solid #e1e4e8; border-radius: 4px; margin-top: 8px; }
.timeline .labels .cx-process { fill: var(--cx-edge); font-weight: bold; }
.timeline .labels { flex: none; background: #fafbfc; border-right: 1px solid #e1e4e8; font-size: 12px; fill: #4a525c; }
.timeline .scroll { overflow-x: auto; flex: 1; }
.axis-note { color: #8a929c; font-size: 12px; margin: 2px 0 0; }
.row-band { fill: #f3f5f8; }
.tick { stroke: #e6e9ed; } .tick-label { font-size: 10px; fill: #8a929c; }
.frontier { stroke: #e09a1a; stroke-width: 2; stroke-dasharray: 6 3; } .frontier-label { font-size: 10px; fill: #a86500; font-weight: bold; }
.cx-band { fill: rgba(217, 59, 59, .09); stroke: rgba(217, 59, 59, .35); stroke-dasharray: 4 3; }
g.op text { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; pointer-events: none; }
g.op rect { stroke-width: 1; }
g.op.lin rect { fill: var(--lin); stroke: var(--lin-edge); } g.op.lin text { fill: #fff; }
g.op.rest rect { fill: var(--rest); stroke: var(--rest-edge); } g.op.rest text { fill: #1d232b; }
g.op.cx rect { fill: var(--cx); stroke: var(--cx-edge); stroke-width: 2.5; } g.op.cx text { fill: #fff; font-weight: bold; }
g.op.info rect { fill-opacity: .45; stroke-dasharray: 5 3; } g.op.info text { fill: #1d232b; }
g.op:hover rect, g.op.flash rect { stroke: #000; stroke-width: 2.5; }
details.prefix { margin-top: 8px; } details.prefix ol { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; columns: 3 280px; }
#tip { position: fixed; display: none; z-index: 10; max-width: 520px; white-space: pre-wrap; background: #1d232b; color: #fff; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; padding: 6px 8px; border-radius: 4px; pointer-events: none; }
`;

// Progressive enhancement: with JS the <title> tooltips become an instant panel and a click
// on a counterexample row flashes its bar; without JS the native tooltips still work.
const SCRIPT = `
(function () {
  var tip = document.getElementById('tip');
  // Open each time line on its counterexample, which may be far to the right.
  var lines = document.querySelectorAll('.scroll[data-focus-x]');
  for (var j = 0; j < lines.length; j++) {
    var fx = Number(lines[j].getAttribute('data-focus-x'));
    if (fx > 0 && fx > lines[j].clientWidth / 2) lines[j].scrollLeft = Math.max(0, fx - lines[j].clientWidth / 2);
  }
  var ops = document.querySelectorAll('g.op');
  for (var i = 0; i < ops.length; i++) {
    var t = ops[i].querySelector('title');
    if (t) { ops[i].setAttribute('data-tip', t.textContent); t.parentNode.removeChild(t); }
  }
  document.addEventListener('mousemove', function (e) {
    var g = e.target && e.target.closest ? e.target.closest('[data-tip]') : null;
    if (!g) { tip.style.display = 'none'; return; }
    tip.textContent = g.getAttribute('data-tip');
    tip.style.display = 'block';
    var x = e.clientX + 14, y = e.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = e.clientX - tip.offsetWidth - 10;
    if (y + tip.offsetHeight > window.innerHeight) y = e.clientY - tip.offsetHeight - 10;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest ? e.target.closest('a[href^="#p"]') : null;
    if (!a) return;
    var g = document.getElementById(a.getAttribute('href').slice(1));
    if (!g || !g.classList || !g.classList.contains('op')) return;
    e.preventDefault();
    g.scrollIntoView({ block: 'center', inline: 'center' });
    g.classList.add('flash');
    setTimeout(function () { g.classList.remove('flash'); }, 1500);
  });
})();
`;

function legendSwatch(cls: string, text: string): string {
  return `<span><svg width="34" height="16"><g class="op ${cls}"><rect x="1" y="1" width="32" height="14" rx="3"/></g></svg>${escapeHtml(text)}</span>`;
}

export function renderHtmlReport(result: CheckResult, options: HtmlReportOptions = {}): string {
  const opts = {
    maxOpsPerPartition: options.maxOpsPerPartition ?? DEFAULT_MAX_OPS,
    maxPartitionsRendered: options.maxPartitionsRendered ?? DEFAULT_MAX_PARTITIONS,
    axis: options.axis ?? 'position',
  };
  if (!(opts.maxOpsPerPartition >= 1) || !(opts.maxPartitionsRendered >= 0)) {
    throw new RangeError('renderHtmlReport: maxOpsPerPartition must be >= 1 and maxPartitionsRendered >= 0');
  }
  const byKey = new Map<string | null, Operation[]>();
  for (const op of result.operations) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const ordered = orderPartitions(result.partitions);
  const rendered = ordered.slice(0, opts.maxPartitionsRendered);
  const failing = result.partitions.filter((p) => p.valid === false).length;
  const unknown = result.partitions.filter((p) => p.valid === 'unknown').length;
  const title = `${options.title === undefined ? 'History' : options.title}: ${verdictWords(result.valid)} (${result.model})`;

  const body: string[] = [];
  body.push(
    `<header class="report ${verdictClass(result.valid)}"><h1 id="verdict" data-valid="${String(result.valid)}">${escapeHtml(verdictWords(result.valid).replace(/^./, (c) => c.toUpperCase()))}</h1>` +
      `<p>${escapeHtml(`${options.title === undefined ? '' : `${options.title} · `}model ${result.model} · ${result.ops} operations · ${result.partitions.length} partition${result.partitions.length === 1 ? '' : 's'} (${failing} failing, ${unknown} unknown) · checked in ${result.ms} ms`)}</p>` +
      (result.explanation === undefined ? '' : `<pre class="explanation">${escapeHtml(result.explanation)}</pre>`) +
      `</header>`,
  );
  body.push('<main>');
  body.push(
    `<div class="legend">${legendSwatch('lin', 'in the longest linearizable prefix')}${legendSwatch('cx', 'counterexample: cannot be ordered')}` +
      `${legendSwatch('rest', 'not in the prefix found')}${legendSwatch('rest info', 'info: outcome unknown, open to the right')}` +
      `<span>Bars span invoke to completion, one row per process; hover for details.</span></div>`,
  );
  if (result.partitions.length > 1) {
    const rows = ordered.map((p, i) => {
      const name = escapeHtml(p.key === null ? '(no key)' : p.key);
      return (
        `<tr><td>${i < rendered.length ? `<a href="#p${i}">${name}</a>` : name}</td><td><span class="badge ${verdictClass(p.valid)}">${p.valid === true ? 'linearizable' : p.valid === false ? 'NOT linearizable' : 'unknown'}</span></td>` +
        `<td>${p.ops}</td><td>${p.linearized.length}</td><td>${escapeHtml(p.method ?? '')}</td></tr>`
      );
    });
    const more = ordered.length > rendered.length ? ` Time lines are drawn for the first ${rendered.length}; the others are listed only.` : '';
    body.push(
      `<details class="summary"${ordered.length <= 40 ? ' open' : ''}><summary>${ordered.length} partitions, failing first.${escapeHtml(more)}</summary>` +
        `<table><thead><tr><th>key</th><th>verdict</th><th>ops</th><th>prefix</th><th>method</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`,
    );
  }
  rendered.forEach((p, i) => body.push(renderPartition(result, p, i, partitionOps(result, p, byKey), opts)));
  body.push('</main><div id="tip"></div>');

  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body.join('\n')}\n<script>${SCRIPT}</script>\n</body></html>\n`
  );
}

export function writeHtmlReport(result: CheckResult, path: string, options: HtmlReportOptions = {}): void {
  writeFileSync(path, renderHtmlReport(result, options), 'utf8');
}
