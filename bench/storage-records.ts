// Benchmark of the versioned record store over MemStore. Prints numbers; asserts nothing.
// `npm run bench:records` (and `npm run bench:storage`, which includes recordBenchFigures()).
//
// Figures (all medians unless said otherwise):
//   findIndexedMs  find `group = k` over 100,000 records (100 matches) — ms per query
//   findAndMs      find `kind = 'person' and group = k` (every record is a person) — ms
//   findRangeMs    find `score between a and b` (~1,000 matches) — ms per query
//   findPastMs     find `group = k` at a past timestamp (from the value-history index) — ms
//   findRegexMs    find `name regex ...` (scans the key's string range in the index) — ms
//   searchMs       search(name, "abc") via trigrams + verification — ms per query
//   pastReadUs     get at a past timestamp over a key with 1,000 revisions (500 distinct values) — µs
//   pastReadToggleUs  same, 1,000 revisions toggling ONE value — µs
//   currentReadUs  get at the present — µs
//   writesPerSec   revisions/s, one add per apply (one batch each)
//   bulkWritesPerSec  revisions/s, 1,000 inserts of 4 values per apply
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { MemStore } from '../core/storage/memstore.js';
import { timestamp, type ApplyContext } from '../core/storage/types.js';
import { logIndex } from '../core/types.js';
import { RecordStore, double, integer, str, where, type RecordWrite } from '../core/storage/records/index.js';

const RECORDS = 100_000;
const GROUPS = 1_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A deterministic pseudo-random sequence (the bench must not depend on Math.random either). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function timeEach(n: number, f: (i: number) => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f(i);
    out.push(performance.now() - t0);
  }
  return out;
}

export function recordBenchFigures(): Record<string, number> {
  const kv = new MemStore();
  const store = new RecordStore(kv);
  let ts = 1_000_000;
  const ctx = (): ApplyContext => {
    ts += 1000;
    return { index: logIndex(ts), timestamp: timestamp(ts) };
  };
  const rnd = lcg(42);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

  // Bulk load: 100 batches of 1,000 records, 4 values each.
  const tBulk = performance.now();
  let revisionsBulk = 0;
  for (let b = 0; b < RECORDS / 1000; b++) {
    const ops: RecordWrite[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = BigInt(b * 1000 + i + 1);
      const name = `${words[Math.floor(rnd() * 10)]} ${words[Math.floor(rnd() * 10)]} ${Math.floor(rnd() * 1e6).toString(36)}`;
      ops.push({
        op: 'insert',
        record: r,
        document: { group: Number(r) % GROUPS, score: { $double: rnd() * 1000 }, name, kind: 'person' },
      });
    }
    store.apply(ops, ctx());
    revisionsBulk += 4000;
  }
  const bulkMs = performance.now() - tBulk;
  const pastTs = timestamp(ts);

  // Single-revision applies: move 20,000 records to another group (remove+add = 2 revisions each
  // via set; count revisions, not ops).
  const SINGLE = 20_000;
  const tSingle = performance.now();
  for (let i = 0; i < SINGLE; i++) store.add('tag', integer(i % 7), BigInt(i + 1), ctx());
  const singleMs = performance.now() - tSingle;
  for (let i = 0; i < 2_000; i++) store.set('group', integer(GROUPS + 1), BigInt(i * 49 + 1), ctx());

  const findIndexed = timeEach(200, (i) => {
    const n = store.find(where.eq('group', integer((i * 37) % GROUPS))).length;
    if (n === 0) throw new Error('bench: find returned nothing');
  });
  const findAnd = timeEach(100, (i) => {
    store.find(where.and(where.eq('kind', str('person')), where.eq('group', integer((i * 37) % GROUPS))));
  });
  const findRange = timeEach(100, (i) => {
    const lo = (i * 9.7) % 990;
    store.find(where.between('score', double(lo), double(lo + 10)));
  });
  const findPast = timeEach(100, (i) => {
    store.find(where.eq('group', integer((i * 37) % GROUPS)), pastTs);
  });
  const findRegex = timeEach(5, () => {
    store.find(where.regex('name', 'alpha bravo .*'));
  });
  const search = timeEach(50, (i) => {
    store.search('name', ['cha', 'ravo ch', 'elta e', 'olf', 'ndia j'][i % 5]!);
  });

  // A key with 1,000 revisions: 500 sets of distinct values (REMOVE + ADD each).
  const hot = BigInt(RECORDS + 10);
  const stamps: number[] = [];
  store.add('counter', integer(-1), hot, ctx());
  for (let i = 0; i < 500; i++) {
    store.set('counter', integer(i), hot, ctx());
    stamps.push(ts);
  }
  const toggle = BigInt(RECORDS + 11);
  const toggleStamps: number[] = [];
  for (let i = 0; i < 1000; i++) {
    if (i % 2 === 0) store.add('flag', str('on'), toggle, ctx());
    else store.remove('flag', str('on'), toggle, ctx());
    toggleStamps.push(ts);
  }
  const READS = 2_000;
  const tPast = performance.now();
  for (let i = 0; i < READS; i++) store.get('counter', hot, timestamp(stamps[(i * 7919) % stamps.length]!));
  const pastReadUs = ((performance.now() - tPast) * 1000) / READS;
  const tToggle = performance.now();
  for (let i = 0; i < READS; i++) store.get('flag', toggle, timestamp(toggleStamps[(i * 7919) % toggleStamps.length]!));
  const pastReadToggleUs = ((performance.now() - tToggle) * 1000) / READS;
  const tNow = performance.now();
  for (let i = 0; i < READS; i++) store.get('score', BigInt((i % RECORDS) + 1));
  const currentReadUs = ((performance.now() - tNow) * 1000) / READS;

  return {
    records: RECORDS,
    portKeys: kv.size(),
    findIndexedMs: median(findIndexed),
    findAndMs: median(findAnd),
    findRangeMs: median(findRange),
    findPastMs: median(findPast),
    findRegexMs: median(findRegex),
    searchMs: median(search),
    pastReadUs,
    pastReadToggleUs,
    currentReadUs,
    writesPerSec: Math.round(SINGLE / (singleMs / 1000)),
    bulkWritesPerSec: Math.round(revisionsBulk / (bulkMs / 1000)),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const figures = recordBenchFigures();
  const cpu = process.cpuUsage(cpu0);
  // On a shared machine the wall-clock figures stretch with the CPU share this process got.
  figures['cpuShare'] = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(20)} ${Number.isInteger(v) ? v : v.toFixed(3)}\n`);
}
