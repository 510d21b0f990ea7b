// `conclave check`: read a history, check it, say so. Exit codes (CONTRACTS.md): 0
// linearizable, 1 not (with a minimal counterexample), 2 bad usage or input, 3 internal
// error, 4 unknown within --timeout-ms.

import { readFileSync } from 'node:fs';
import { checkHistoryParallel } from './check.js';
import { formatOfPath, HistoryError, parseHistory, type HistoryFormat } from './history.js';
import { isModelName, MODEL_NAMES, type ModelName } from './models.js';
import type { CheckResult, HistoryEvent, Operation } from './types.js';

export const CHECK_USAGE = `usage: conclave check [--model register|cas-register|kv] HISTORY [options]

Checks a recorded history for linearizability.
HISTORY is a JSON Lines file (CONTRACTS.md) or a Jepsen/Knossos EDN file; '-' reads stdin.

options:
  --model M         register, cas-register or kv (default: kv when events carry keys,
                    else cas-register)
  --format F        jsonl or edn (default: from the file name, .edn is EDN)
  --timeout-ms N    give up after N ms and answer unknown (exit 4)
  --jobs J          worker threads for keys checked in parallel (default: CPUs)
  --json            print one JSON object instead of words
  --html FILE       also write an HTML report to FILE
  -h, --help        this text

exit codes: 0 linearizable, 1 not linearizable, 2 bad usage or input, 3 internal error,
4 unknown (ran out of time)`;

interface CheckArgs {
  readonly path: string;
  readonly model?: ModelName;
  readonly format?: HistoryFormat;
  readonly timeoutMs?: number;
  readonly jobs?: number;
  readonly json: boolean;
  readonly html?: string;
}

class UsageError extends Error {}

function parseArgs(args: readonly string[]): CheckArgs | 'help' {
  let path: string | undefined;
  let model: ModelName | undefined;
  let format: HistoryFormat | undefined;
  let timeoutMs: number | undefined;
  let jobs: number | undefined;
  let json = false;
  let html: string | undefined;
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const positiveInt = (s: string, flag: string, min: number): number => {
    if (!/^\d+$/.test(s) || Number(s) < min) throw new UsageError(`${flag} takes an integer >= ${min}, got '${s}'`);
    return Number(s);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    switch (a) {
      case '-h':
      case '--help':
        return 'help';
      case '--json':
        json = true;
        break;
      case '--model': {
        const m = value(i++, a);
        if (!isModelName(m)) throw new UsageError(`unknown model '${m}' (known: ${MODEL_NAMES.join(', ')})`);
        model = m;
        break;
      }
      case '--format': {
        const f = value(i++, a);
        if (f !== 'jsonl' && f !== 'edn') throw new UsageError(`--format is jsonl or edn, got '${f}'`);
        format = f;
        break;
      }
      case '--timeout-ms':
        timeoutMs = positiveInt(value(i++, a), a, 0);
        break;
      case '--jobs':
        jobs = positiveInt(value(i++, a), a, 1);
        break;
      case '--html':
        html = value(i++, a);
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option '${a}'`);
        if (path !== undefined) throw new UsageError(`one history at a time (got '${path}' and '${a}')`);
        path = a;
    }
  }
  if (path === undefined) throw new UsageError('which history? (conclave check --help)');
  return {
    path,
    json,
    ...(model !== undefined ? { model } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(jobs !== undefined ? { jobs } : {}),
    ...(html !== undefined ? { html } : {}),
  };
}

function defaultModel(events: readonly HistoryEvent[]): ModelName {
  return events.some((e) => e.key !== null) ? 'kv' : 'cas-register';
}

function opJson(op: Operation): Record<string, unknown> {
  return {
    id: op.id,
    process: op.process,
    f: op.f,
    ...(op.key !== null ? { key: op.key } : {}),
    ...(op.f === 'read' ? { value: op.output } : { value: op.input }),
    status: op.status,
    line: op.line,
    ...(op.retLine !== undefined ? { retLine: op.retLine } : {}),
  };
}

export function resultJson(r: CheckResult): Record<string, unknown> {
  const bad = r.partitions.find((p) => p.valid === false);
  const byId = new Map(r.operations.map((op) => [op.id, op]));
  const methods: Record<string, number> = {};
  for (const p of r.partitions) if (p.method !== undefined) methods[p.method] = (methods[p.method] ?? 0) + 1;
  return {
    valid: r.valid,
    model: r.model,
    ops: r.ops,
    ms: r.ms,
    keys: r.partitions.length,
    methods,
    ...(bad !== undefined
      ? {
          key: bad.key,
          counterexample: (bad.counterexample ?? []).map((id) => opJson(byId.get(id) as Operation)),
          counterexampleMinimal: bad.counterexampleMinimal === true,
        }
      : {}),
    ...(r.valid === 'unknown' ? { unknownKeys: r.partitions.filter((p) => p.valid === 'unknown').map((p) => p.key) } : {}),
    ...(r.explanation !== undefined ? { explanation: r.explanation } : {}),
  };
}

function summary(r: CheckResult): string {
  const keys = r.partitions.length;
  const where = keys === 1 ? '' : ` over ${keys} keys`;
  switch (r.valid) {
    case true:
      return `linearizable: ${r.ops} operations${where}, ${r.model} model, ${r.ms} ms`;
    case false:
      return `not linearizable (${r.model} model, ${r.ops} operations${where}, ${r.ms} ms)\n${r.explanation ?? ''}`;
    case 'unknown':
      return `unknown\n${r.explanation ?? ''} (${r.ops} operations${where}, ${r.ms} ms)`;
    default: {
      const _: never = r.valid;
      return String(_);
    }
  }
}

function exitCode(r: CheckResult): number {
  return r.valid === true ? 0 : r.valid === false ? 1 : 4;
}

export async function checkMain(args: readonly string[]): Promise<number> {
  let parsed: CheckArgs | 'help';
  try {
    parsed = parseArgs(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`conclave check: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed === 'help') {
    process.stdout.write(CHECK_USAGE + '\n');
    return 0;
  }
  const a = parsed;
  let text: string;
  try {
    text = readFileSync(a.path === '-' ? 0 : a.path, 'utf8');
  } catch (err) {
    process.stderr.write(`conclave check: cannot read ${a.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return 2;
  }
  let result: CheckResult;
  try {
    const events = parseHistory(text, a.format ?? formatOfPath(a.path));
    const model = a.model ?? defaultModel(events);
    result = await checkHistoryParallel(events, model, {
      ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}),
      ...(a.jobs !== undefined ? { jobs: a.jobs } : {}),
    });
  } catch (err) {
    if (err instanceof HistoryError) {
      process.stderr.write(`conclave check: ${a.path} ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  process.stdout.write((a.json ? JSON.stringify(resultJson(result)) : summary(result)) + '\n');
  if (a.html !== undefined) {
    try {
      // Loaded only here, so a missing or broken report module only breaks --html.
      const { writeHtmlReport } = (await import('./report/html.js' as string)) as {
        writeHtmlReport: (r: CheckResult, path: string, options?: { readonly title?: string }) => void;
      };
      writeHtmlReport(result, a.html, { title: a.path });
    } catch (err) {
      process.stderr.write(`conclave check: could not write the HTML report ${a.html}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 3;
    }
  }
  return exitCode(result);
}
