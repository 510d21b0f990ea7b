// A command-line front to the generators (`conclave generate`, or this file run directly):
//   node dist/jepsen/generate/main.js --seed 7 --ops 5000 --processes 16 --keys 100 \
//     --zipf 1 --info 0.1 [--stale late|random] > history.jsonl
// Prints the history as JSON Lines on stdout and one summary line on stderr.
// Exit codes: 0 written, 2 bad usage (one-line message on stderr).
import { fileURLToPath } from 'node:url';
import { eventsToJsonl, generateHistory, type GenerateOptions, type OpMix } from './history.js';
import { plantStaleRead } from './stale.js';
import { plantFutureRead } from './future.js';
import { REPEATED_VARIANTS, repeatedCase, type RepeatedVariant } from './repeated.js';

const USAGE = `usage: node dist/jepsen/generate/main.js [options] > history.jsonl

Records simulated concurrent clients against a real atomic store: the history is
linearizable by construction, unless --stale plants one certainly stale read.

  --seed S            random seed (default 1)
  --ops N             operations (default 1000)
  --processes P       concurrent clients (default 8)
  --keys K            number of keys "k0".."k{K-1}" (default 1)
  --register          one key-less register (key null; needs --keys 1)
  --zipf E            Zipf-skewed keys with exponent E (default: uniform)
  --mix R,W,C,D       weights of read, write, cas, delete (default 0.5,0.3,0.15,0.05)
  --info F            share of writes, cas and deletes that time out (default 0)
  --read-info F       share of reads that time out (default 0)
  --values N          draw values from 1..N (repeats) instead of unique values
  --stale late|random plant one certainly stale read (the last qualifying one, or any)
  --future late|random plant one read that sees a value written only after it completed
  --repeated V        issue 12's family (values 0..4, 10% cas; --ops, --processes, --keys,
                      --info, --seed apply): V is linearizable, stale (a read ruled out
                      only by a cas, appended late) or pigeonhole (more reads of 4 separated
                      by certain overwrites than producers of 4); see repeated.ts
`;

export class UsageError extends Error {}

export interface GenerateCommand {
  readonly options: GenerateOptions;
  readonly stale: 'late' | 'random' | null;
  readonly future: 'late' | 'random' | null;
  readonly repeated: RepeatedVariant | null;
}

function num(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
  return n;
}

export function parseGenerateArgs(argv: readonly string[]): GenerateCommand {
  let seed: number | string = 1;
  let ops = 1000;
  let processes = 8;
  let keys = 1;
  let register = false;
  let zipf: number | null = null;
  let mix: OpMix | null = null;
  let infoRate = 0;
  let readInfoRate = 0;
  let values: number | null = null;
  let stale: 'late' | 'random' | null = null;
  let future: 'late' | 'random' | null = null;
  let repeated: RepeatedVariant | null = null;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = (): string | undefined => argv[++i];
    switch (flag) {
      case '--seed': {
        const v = next();
        if (v === undefined) throw new UsageError('--seed needs a value');
        seed = /^-?\d+$/.test(v) ? Number(v) : v;
        break;
      }
      case '--ops':
        ops = num(flag, next());
        break;
      case '--processes':
        processes = num(flag, next());
        break;
      case '--keys':
        keys = num(flag, next());
        break;
      case '--register':
        register = true;
        break;
      case '--zipf':
        zipf = num(flag, next());
        break;
      case '--mix': {
        const v = next() ?? '';
        const parts = v.split(',').map((p) => num('--mix', p));
        if (parts.length !== 4) throw new UsageError(`--mix needs four weights read,write,cas,delete, got ${JSON.stringify(v)}`);
        mix = { read: parts[0]!, write: parts[1]!, cas: parts[2]!, delete: parts[3]! };
        break;
      }
      case '--info':
        infoRate = num(flag, next());
        break;
      case '--read-info':
        readInfoRate = num(flag, next());
        break;
      case '--values':
        values = num(flag, next());
        break;
      case '--stale': {
        const v = next();
        if (v !== 'late' && v !== 'random') throw new UsageError(`--stale is late or random, got ${JSON.stringify(v ?? '')}`);
        stale = v;
        break;
      }
      case '--future': {
        const v = next();
        if (v !== 'late' && v !== 'random') throw new UsageError(`--future is late or random, got ${JSON.stringify(v ?? '')}`);
        future = v;
        break;
      }
      case '--repeated': {
        const v = next();
        if (!(REPEATED_VARIANTS as readonly (string | undefined)[]).includes(v)) throw new UsageError(`--repeated is ${REPEATED_VARIANTS.join(', ')}; got ${JSON.stringify(v ?? '')}`);
        repeated = v as RepeatedVariant;
        break;
      }
      default:
        throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  const options: GenerateOptions = {
    seed,
    ops,
    processes,
    keys,
    register,
    keyDistribution: zipf === null ? { kind: 'uniform' } : { kind: 'zipf', exponent: zipf },
    infoRate,
    readInfoRate,
    ...(mix !== null ? { mix } : {}),
    ...(values !== null ? { values } : {}),
  };
  if (stale !== null && future !== null) throw new UsageError('--stale and --future plant one violation each: choose one');
  if (repeated !== null && (stale !== null || future !== null)) throw new UsageError('--repeated plants its own violation: leave out --stale and --future');
  return { options, stale, future, repeated };
}

export function runGenerate(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(USAGE);
    return 0;
  }
  let cmd: GenerateCommand;
  let history;
  try {
    cmd = parseGenerateArgs(argv);
    if (cmd.repeated !== null) {
      const o = cmd.options;
      const c = repeatedCase({ seed: o.seed, ops: o.ops, processes: o.processes, infoRate: o.infoRate ?? 0, keys: o.keys ?? 1, variant: cmd.repeated });
      out(eventsToJsonl(c.history.events));
      err(`generate: ${c.history.events.length} events, model ${c.model}; ${c.expected ? 'linearizable by construction' : `NOT linearizable (${cmd.repeated} construction, jepsen/generate/repeated.ts)`}\n`);
      return 0;
    }
    history = generateHistory(cmd.options);
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      err(`generate: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let note = 'linearizable by construction';
  if (cmd.stale !== null) {
    const planted = plantStaleRead(history, { position: cmd.stale, seed: cmd.options.seed });
    if (planted === null) {
      err('generate: no read can be made stale in this history (too few writes, or no uniquely written value); try more ops or another seed\n');
      return 2;
    }
    history = planted;
    const r = planted.stale;
    note = `NOT linearizable: op ${r.read} (a read of ${r.key === null ? 'the register' : JSON.stringify(r.key)}) now returns ${JSON.stringify(r.staleValue)}, overwritten by op ${r.overwrite} before the read began`;
  }
  if (cmd.future !== null) {
    const planted = plantFutureRead(history, { position: cmd.future, seed: cmd.options.seed });
    if (planted === null) {
      err('generate: no read can see the future in this history (no uniquely written value after any read); try more ops or another seed\n');
      return 2;
    }
    history = planted;
    const r = planted.future;
    note = `NOT linearizable: op ${r.read} (a read of ${r.key === null ? 'the register' : JSON.stringify(r.key)}) now returns ${JSON.stringify(r.futureValue)}, first written by op ${r.write} after the read completed`;
  }
  out(eventsToJsonl(history.events));
  err(`generate: ${history.ops.length} ops, ${history.events.length} events; ${note}\n`);
  return 0;
}

/**
 * `conclave generate`: the same options, output and exit codes as running this file. Output
 * goes out through the streams' own buffering, so a large history is written in full before
 * the process exits.
 */
export async function generateMain(args: readonly string[]): Promise<number> {
  const chunks: string[] = [];
  const code = runGenerate(
    args,
    (s) => chunks.push(s),
    (s) => process.stderr.write(s),
  );
  const text = chunks.join('');
  if (text.length > 0) {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }
  return code;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = runGenerate(
    process.argv.slice(2),
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  );
}
