// Reading histories: JSON Lines (CONTRACTS.md) and Jepsen/Knossos EDN, validated while read,
// and pairing invokes with completions into operations.

import { readEdnForms, EdnSyntaxError, type EdnValue } from './edn.js';
import type { EventType, HistoryEvent, Operation } from './types.js';

/** Bad input, naming the 1-based line of the source it was found on. */
export class HistoryError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'HistoryError';
  }
}

export type HistoryFormat = 'jsonl' | 'edn';

const EVENT_TYPES: ReadonlySet<string> = new Set<EventType>(['invoke', 'ok', 'fail', 'info']);
const KNOWN_FIELDS = new Set(['process', 'type', 'f', 'key', 'value', 'time']);

export function parseHistory(text: string, format: HistoryFormat): HistoryEvent[] {
  switch (format) {
    case 'jsonl':
      return parseJsonl(text);
    case 'edn':
      return parseEdn(text);
    default: {
      const _: never = format;
      throw new Error(`unknown history format ${String(_)}`);
    }
  }
}

/** The format a file name suggests: `.edn` is EDN, anything else JSON Lines. */
export function formatOfPath(path: string): HistoryFormat {
  return /\.edn$/i.test(path) ? 'edn' : 'jsonl';
}

export function parseJsonl(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    const line = i + 1;
    if (raw === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new HistoryError(line, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new HistoryError(line, 'an event must be a JSON object');
    const o = obj as Record<string, unknown>;
    const process = o['process'];
    if (typeof process !== 'number' || !Number.isSafeInteger(process)) {
      throw new HistoryError(line, `"process" must be an integer, got ${JSON.stringify(process) ?? 'nothing'}`);
    }
    const type = o['type'];
    if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
      throw new HistoryError(line, `"type" must be one of invoke, ok, fail, info; got ${JSON.stringify(type) ?? 'nothing'}`);
    }
    const f = o['f'];
    if (typeof f !== 'string' || f === '') throw new HistoryError(line, `"f" must be a non-empty string, got ${JSON.stringify(f) ?? 'nothing'}`);
    const key = o['key'];
    if (key !== undefined && key !== null && typeof key !== 'string') {
      throw new HistoryError(line, `"key" must be a string or absent, got ${JSON.stringify(key)}`);
    }
    const time = o['time'];
    if (time !== undefined && (typeof time !== 'number' || !Number.isFinite(time))) {
      throw new HistoryError(line, `"time" must be a number, got ${JSON.stringify(time)}`);
    }
    const extra: Record<string, unknown> = {};
    let hasExtra = false;
    for (const [k, v] of Object.entries(o)) {
      if (!KNOWN_FIELDS.has(k)) {
        extra[k] = v;
        hasExtra = true;
      }
    }
    events.push({
      process,
      type: type as EventType,
      f,
      key: key ?? null,
      value: o['value'] ?? null,
      line,
      ...(time !== undefined ? { time } : {}),
      ...(hasExtra ? { extra } : {}),
    });
  }
  validateEvents(events);
  return events;
}

/**
 * Jepsen `history.edn` (one map per line) or Knossos data (one vector or list of maps).
 * Events whose :process is not an integer (the :nemesis) are skipped. In a jepsen.independent
 * history (some value `[:k v]` with a keyword first, or reads invoked with `[k nil]`), every
 * value is a tuple: key k, value v. An explicit :key field wins over tuples.
 */
export function parseEdn(text: string): HistoryEvent[] {
  let forms: Array<{ readonly value: EdnValue; readonly line: number }>;
  try {
    forms = readEdnForms(text);
  } catch (err) {
    if (err instanceof EdnSyntaxError) throw new HistoryError(err.line, `EDN: ${err.message}`);
    throw err;
  }
  let items: Array<{ readonly value: EdnValue; readonly line: number }> = forms;
  const only = forms[0];
  if (forms.length === 1 && only !== undefined && isList(only.value)) {
    const lines = only.value.itemLines;
    items = only.value.items.map((value, i) => ({ value, line: lines[i] ?? only.line }));
  }
  const raw: RawEdnEvent[] = [];
  for (const item of items) {
    const e = ednEvent(item.value, item.line);
    if (e !== null) raw.push(e);
  }
  // jepsen.independent: values are [key value] tuples. Keyword keys are unmistakable; other
  // keys (integers) show in reads, whose invokes carry [key nil] instead of nil.
  const independent = raw.some(
    (e) => (isPair(e.value) && isKeyword(e.value.items[0] ?? null)) || (e.f === 'read' && e.type === 'invoke' && isPair(e.value)),
  );
  const events = raw.map((e): HistoryEvent => {
    const { value, ...rest } = e;
    if (!independent || e.key !== null) return { ...rest, value: ednToJson(value) };
    if (!isPair(value)) throw new HistoryError(e.line, `this history uses independent keys ([key value] tuples), but this value is ${JSON.stringify(ednToJson(value))}`);
    const k = value.items[0] ?? null;
    return { ...rest, key: ednName(k) ?? JSON.stringify(ednToJson(k)), value: ednToJson(value.items[1] ?? null) };
  });
  validateEvents(events);
  return events;
}

type RawEdnEvent = Omit<HistoryEvent, 'value'> & { readonly value: EdnValue };

function isPair(v: EdnValue): v is Extract<EdnValue, { kind: 'list' }> {
  return isList(v) && v.items.length === 2;
}

function isKeyword(v: EdnValue): boolean {
  return typeof v === 'object' && v !== null && v.kind === 'keyword';
}

function isList(v: EdnValue): v is Extract<EdnValue, { kind: 'list' }> {
  return typeof v === 'object' && v !== null && v.kind === 'list';
}

function ednName(v: EdnValue): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && (v.kind === 'keyword' || v.kind === 'symbol')) return v.name;
  return null;
}

/** EDN to plain JSON: keywords and symbols become their names, collections arrays/objects. */
export function ednToJson(v: EdnValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  switch (v.kind) {
    case 'keyword':
    case 'symbol':
      return v.name;
    case 'char':
      return v.char;
    case 'list':
    case 'set':
      return v.items.map(ednToJson);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const [k, val] of v.entries) {
        const name = ednName(k);
        o[name ?? JSON.stringify(ednToJson(k))] = ednToJson(val);
      }
      return o;
    }
    case 'tagged':
      return ednToJson(v.value);
    default: {
      const _: never = v;
      return _;
    }
  }
}

function ednEvent(form: EdnValue, line: number): RawEdnEvent | null {
  let v = form;
  while (typeof v === 'object' && v !== null && v.kind === 'tagged') v = v.value;
  if (typeof v !== 'object' || v === null || v.kind !== 'map') throw new HistoryError(line, 'an event must be an EDN map like {:process 0, :type :invoke, :f :read, :value nil}');
  const fields = new Map<string, EdnValue>();
  for (const [k, val] of v.entries) {
    const name = ednName(k);
    if (name !== null) fields.set(name, val);
  }
  const p = fields.get('process');
  if (p === undefined) throw new HistoryError(line, 'an event needs a :process');
  // The nemesis and other non-client actors are not part of the register's history.
  if (typeof p !== 'number' || !Number.isSafeInteger(p)) return null;
  const type = ednName(fields.get('type') ?? null);
  if (type === null || !EVENT_TYPES.has(type)) throw new HistoryError(line, `:type must be one of :invoke :ok :fail :info, got ${JSON.stringify(ednToJson(fields.get('type') ?? null))}`);
  const f = ednName(fields.get('f') ?? null);
  if (f === null || f === '') throw new HistoryError(line, ':f must be a keyword');
  let key: string | null = null;
  const rawValue: EdnValue = fields.get('value') ?? null;
  const explicitKey = fields.get('key');
  if (explicitKey !== undefined && explicitKey !== null) key = ednName(explicitKey) ?? JSON.stringify(ednToJson(explicitKey));
  const t = fields.get('time');
  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  for (const [name, val] of fields) {
    if (!KNOWN_FIELDS.has(name)) {
      extra[name] = ednToJson(val);
      hasExtra = true;
    }
  }
  return {
    process: p,
    type: type as EventType,
    f,
    key,
    value: rawValue,
    line,
    ...(typeof t === 'number' ? { time: t } : {}),
    ...(hasExtra ? { extra } : {}),
  };
}

/**
 * The well-formedness rules of CONTRACTS.md: a completion closes an open invoke of the same
 * process (same f and key), a process has at most one operation open, and a process whose
 * operation ended in info is never used again.
 */
export function validateEvents(events: readonly HistoryEvent[]): void {
  const open = new Map<number, HistoryEvent>();
  const crashed = new Map<number, HistoryEvent>();
  for (const e of events) {
    if (!EVENT_TYPES.has(e.type)) throw new HistoryError(e.line, `unknown event type ${JSON.stringify(e.type)}`);
    const before = open.get(e.process);
    if (e.type === 'invoke') {
      const dead = crashed.get(e.process);
      if (dead !== undefined) throw new HistoryError(e.line, `process ${e.process} is reused after its operation ended in info on line ${dead.line}`);
      if (before !== undefined) throw new HistoryError(e.line, `process ${e.process} invokes ${e.f} while its ${before.f} from line ${before.line} is still open`);
      open.set(e.process, e);
      continue;
    }
    if (before === undefined) throw new HistoryError(e.line, `${e.type} ${e.f} for process ${e.process}, which has no operation open`);
    if (before.f !== e.f) throw new HistoryError(e.line, `${e.type} ${e.f} for process ${e.process} does not match its open ${before.f} from line ${before.line}`);
    if (before.key !== e.key) throw new HistoryError(e.line, `${e.type} for process ${e.process} names key ${JSON.stringify(e.key)} but its invoke on line ${before.line} named ${JSON.stringify(before.key)}`);
    open.delete(e.process);
    if (e.type === 'info') crashed.set(e.process, e);
  }
}

/**
 * Pairs each invoke with its completion. `fail` operations never happened and are dropped;
 * `info` and never-completed ones get `ret` +Infinity. Ids are dense, in invoke order.
 */
export function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  validateEvents(events);
  interface Draft {
    readonly invoke: HistoryEvent;
    readonly call: number;
    completion?: HistoryEvent;
    ret: number;
  }
  const open = new Map<number, Draft>();
  const drafts: Draft[] = [];
  events.forEach((e, i) => {
    if (e.type === 'invoke') {
      const d: Draft = { invoke: e, call: i, ret: Number.POSITIVE_INFINITY };
      open.set(e.process, d);
      drafts.push(d);
      return;
    }
    const d = open.get(e.process);
    if (d === undefined) return; // validateEvents has ruled this out
    open.delete(e.process);
    d.completion = e;
    d.ret = e.type === 'ok' ? i : Number.POSITIVE_INFINITY;
  });
  const ops: Operation[] = [];
  for (const d of drafts) {
    const c = d.completion;
    if (c !== undefined && c.type === 'fail') continue;
    const status = c !== undefined && c.type === 'ok' ? 'ok' : 'info';
    const inv = d.invoke;
    const isRead = inv.f === 'read';
    const input = isRead ? null : (inv.value ?? c?.value ?? null);
    const output = status === 'ok' ? (c?.value ?? null) : null;
    const extra = inv.extra !== undefined || c?.extra !== undefined ? { ...(inv.extra ?? {}), ...(c?.extra ?? {}) } : undefined;
    ops.push({
      id: ops.length,
      process: inv.process,
      f: inv.f,
      key: inv.key,
      input,
      output,
      status,
      call: d.call,
      ret: d.ret,
      line: inv.line,
      ...(inv.time !== undefined ? { callTime: inv.time } : {}),
      ...(status === 'ok' && c?.time !== undefined ? { retTime: c.time } : {}),
      ...(status === 'ok' && c !== undefined ? { retLine: c.line } : {}),
      ...(extra !== undefined ? { extra } : {}),
    });
  }
  return ops;
}
