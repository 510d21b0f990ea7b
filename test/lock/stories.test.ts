// Stories in test/lock/testdata/*.txt, read the way etcd's raft testdata is: a command per
// line, and under it, indented, exactly what applying it answered (reply, then events). The
// test replays every file and compares the whole transcript. REWRITE_LOCK_STORIES=1 rewrites
// the files from the current behaviour — then read the diff before committing it.
//
//   options maxWaitMs=100 idleTimeoutMs=1000 bugs=lock-release-early
//   seed balance 1=100 2=50          committed set-up values (outside any transaction)
//   tick 250                         let 250 ms of log time pass (timeouts fire)
//   t1 begin | commit | abort | prepare
//   t1 get 1.balance; set 2.balance 7; add 3.tag "x"; remove 3.tag "x"; select 2; find age > 10
//   t1 atomic get 1.balance; set 1.balance 5
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPlantedBug, type PlantedBug } from '../../core/bugs.js';
import { describeAbort, txnId } from '../../core/lock/types.js';
import { OPERATORS, double, integer, showValue, str, type Criteria, type RecordId, type Value } from '../../core/storage/records/index.js';
import type { OpResult, TxnOptions } from '../../core/lock/transactions.js';
import { Bench, type Cmd, type Out } from './bench.js';
import type { Op } from './workload.js';

const dir = join(__dirname, 'testdata');

function parseValue(s: string): Value {
  if (/^".*"$/.test(s)) return str(s.slice(1, -1));
  if (/^-?\d+$/.test(s)) return integer(Number(s));
  if (/^-?\d+\.\d+$/.test(s)) return double(Number(s));
  throw new Error(`bad value ${s}`);
}

function parseTarget(s: string): { record: RecordId; key: string } {
  const m = /^(\d+)\.([A-Za-z_][\w-]*)$/.exec(s);
  if (m === null) throw new Error(`bad record.key ${s}`);
  return { record: BigInt(m[1]!), key: m[2]! };
}

function parseOp(text: string): Op {
  const [verb, ...args] = text.trim().split(/\s+/);
  switch (verb) {
    case 'get':
      return { type: 'get', ...parseTarget(args[0]!) };
    case 'select':
      return { type: 'select', record: BigInt(args[0]!) };
    case 'add':
    case 'remove':
    case 'set':
      return { type: verb, ...parseTarget(args[0]!), value: parseValue(args.slice(1).join(' ')) };
    case 'find': {
      const [key, operator, ...rest] = args;
      if (!(OPERATORS as readonly string[]).includes(operator!)) throw new Error(`bad operator ${operator}`);
      return { type: 'find', criteria: { kind: 'condition', key, operator, value: parseValue(rest.join(' ')) } as Criteria };
    }
    default:
      throw new Error(`bad operation ${text}`);
  }
}

function showResult(r: OpResult<RecordId, Value>): string {
  switch (r.type) {
    case 'values':
      return `[${r.values.map(showValue).join(' ')}]`;
    case 'record':
      return `{${r.keys.map(([k, vs]) => `${k}: [${vs.map(showValue).join(' ')}]`).join(', ')}}`;
    case 'records':
      return `records [${r.records.join(' ')}]`;
    case 'changed':
      return r.changed ? 'changed' : 'unchanged';
    default: {
      const _: never = r;
      return _;
    }
  }
}

function render(out: Out): string[] {
  const lines: string[] = [];
  const r = out.reply;
  switch (r.type) {
    case 'begun':
    case 'prepared':
    case 'aborted':
      lines.push(r.type);
      break;
    case 'done':
      lines.push(`done ${r.results.map(showResult).join('; ')}`);
      break;
    case 'waiting':
      lines.push(`waiting on ${r.blockers.join(', ')}`);
      break;
    case 'committed':
      lines.push(r.results.length === 0 ? 'committed' : `committed: ${r.results.map(showResult).join('; ')}`);
      break;
    case 'error':
      lines.push(`error ${r.error.code}: ${r.error.message}`);
      break;
    case 'ticked':
      break;
    default: {
      const _: never = r;
      return _;
    }
  }
  for (const e of out.events) {
    switch (e.type) {
      case 'completed':
        lines.push(`event ${e.txn} completed: ${e.results.map(showResult).join('; ')}`);
        break;
      case 'committed':
        lines.push(`event ${e.txn} committed: ${e.results.map(showResult).join('; ')}`);
        break;
      case 'aborted':
        lines.push(`event ${e.txn} aborted: ${e.error.code === 'txn-conflict' ? describeAbort(e.error.reason) : e.error.message}`);
        break;
      default: {
        const _: never = e;
        return _;
      }
    }
  }
  return lines;
}

function parseOptions(words: readonly string[]): Partial<TxnOptions> {
  let options: Partial<TxnOptions> = {};
  for (const w of words) {
    const [k, v] = w.split('=');
    if (k === 'maxWaitMs' || k === 'idleTimeoutMs') options = { ...options, [k]: Number(v) };
    else if (k === 'bugs') {
      const names = v!.split(',');
      for (const n of names) if (!isPlantedBug(n)) throw new Error(`unknown bug ${n}`);
      options = { ...options, bugs: new Set(names as PlantedBug[]) };
    } else throw new Error(`bad option ${w}`);
  }
  return options;
}

/** Replays a story; returns the transcript (commands and their rendered outputs). */
function replay(text: string): string {
  const out: string[] = [];
  let bench: Bench | undefined;
  const b = (): Bench => (bench ??= new Bench());
  for (const raw of text.split('\n')) {
    if (raw.startsWith('  ')) continue; // expected output: regenerated below
    out.push(raw);
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [head, ...rest] = line.split(/\s+/);
    if (head === 'options') {
      if (bench !== undefined) throw new Error('options must come first');
      bench = new Bench(parseOptions(rest));
      continue;
    }
    if (head === 'seed') {
      const [key, ...pairs] = rest;
      b().seed(key!, pairs.map((p) => [BigInt(p.split('=')[0]!), Number(p.split('=')[1])] as const));
      continue;
    }
    let cmd: Cmd;
    let advanceMs = 1;
    if (head === 'tick') {
      cmd = { type: 'tick' };
      advanceMs = Number(rest[0] ?? 1);
    } else {
      const txn = txnId(head!);
      const verb = rest[0];
      const body = line.slice(line.indexOf(verb!) + verb!.length);
      switch (verb) {
        case 'begin':
        case 'commit':
        case 'abort':
        case 'prepare':
          cmd = { type: verb, txn };
          break;
        case 'atomic':
          cmd = { type: 'atomic', txn, ops: body.split(';').map(parseOp) };
          break;
        default:
          cmd = { type: 'ops', txn, ops: line.slice(head!.length).split(';').map(parseOp) };
      }
    }
    for (const l of render(b().run(cmd, advanceMs))) out.push(`  ${l}`);
  }
  return out.join('\n');
}

describe('lock and transaction stories (testdata/*.txt)', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  it('has stories', () => expect(files.length).toBeGreaterThan(4));
  for (const f of files) {
    it(f, () => {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      const got = replay(text);
      if (process.env['REWRITE_LOCK_STORIES'] !== undefined) writeFileSync(path, got);
      else expect(got).toBe(text);
    });
  }
});
