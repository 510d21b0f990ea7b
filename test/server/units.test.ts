// Unit tests of the server's adapters: frames, config errors, LMDB storage (round trip, group
// commit's durable signal, refusal of foreign / unknown-version / corrupt data dirs).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfigText } from '../../adapters/config.js';
import { canonicalJson, outcomeOf, putOp } from '../../adapters/kv-mapping.js';
import { DataDirError, DATA_FILE, LmdbStorage } from '../../adapters/storage/lmdb-storage.js';
import { FrameDecoder, FrameError, encodeFrame } from '../../adapters/transport/frame.js';
import { shapeErrorBody } from '../../adapters/http/server.js';
import { logIndex, nodeId, partitionId, term } from '../../core/types.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'conclave-unit-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ID = { nodeId: 'n1', clusterFingerprint: 'fp-a', clusterDescription: 'cluster A' };
const entry = (i: number, t: number, s: string) => ({ index: logIndex(i), term: term(t), kind: 'normal' as const, data: new TextEncoder().encode(s) });

describe('frames', () => {
  it('round-trips values split across chunks', () => {
    const a = encodeFrame({ t: 'msgs', ms: [{ partition: 1, message: { data: new Uint8Array([1, 2, 3]) } }] });
    const b = encodeFrame({ t: 'x' });
    const all = Buffer.concat([a, b]);
    const dec = new FrameDecoder(1024);
    const out = [...dec.push(all.subarray(0, 5)), ...dec.push(all.subarray(5, a.length + 3)), ...dec.push(all.subarray(a.length + 3))];
    expect(out).toHaveLength(2);
    expect((out[1] as { t: string }).t).toBe('x');
    expect([...((out[0] as { ms: Array<{ message: { data: Uint8Array } }> }).ms[0]!.message.data)]).toEqual([1, 2, 3]);
  });
  it('rejects a flipped byte and an oversized frame', () => {
    const f = encodeFrame({ hello: 'world' });
    f[f.length - 1] ^= 1;
    expect(() => new FrameDecoder(1024).push(f)).toThrow(FrameError);
    const big = Buffer.alloc(8);
    big.writeUInt32BE(1 << 30, 0);
    expect(() => new FrameDecoder(1024).push(big)).toThrow(/exceeds the limit/);
  });
});

describe('config', () => {
  it('names the field and the file', () => {
    expect(() => parseConfigText('cluster:\n  partitions: 0\n', 'c.yaml')).toThrow(/c\.yaml: field 'cluster\.partitions'/);
    expect(() => parseConfigText('node: nonsense\n', 'c.yaml')).toThrow(/c\.yaml: field 'node': expected host:port/);
    expect(() => parseConfigText('bogus: 1\n', 'c.yaml')).toThrow(/field 'bogus'/);
    expect(() => parseConfigText('node: [\n', 'c.yaml')).toThrow(/c\.yaml: not valid YAML/);
  });
  it('applies defaults, file, then flags', () => {
    const d = tmp();
    writeFileSync(join(d, 'c.yaml'), 'node: 127.0.0.1:7101\nhttp: 127.0.0.1:7071\ndata_dir: d1\ncluster:\n  nodes: [127.0.0.1:7100, 127.0.0.1:7101, 127.0.0.1:7102]\n');
    const c = loadConfig({ config: join(d, 'c.yaml'), partitions: '8' }, d);
    expect(c.node).toBe('127.0.0.1:7101');
    expect(c.dataDir).toBe(join(d, 'd1'));
    expect(c.replicationFactor).toBe(2);
    expect(c.partitions).toBe(8);
    const def = loadConfig({}, d);
    expect([def.node, def.http, def.nodes, def.replicationFactor]).toEqual(['127.0.0.1:7100', '127.0.0.1:7070', ['127.0.0.1:7100'], 1]);
    expect(() => loadConfig({ node: '127.0.0.1:1', nodes: '127.0.0.1:2' }, d)).toThrow(ConfigError);
    expect(() => loadConfig({ http: '10.1.2.3:80' }, d)).toThrow(/--insecure/);
  });
});

describe('kv mapping', () => {
  it('stores canonical JSON so expected compares by meaning', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    const op = putOp('k', { x: 1 }, { present: true, value: { x: 1 } });
    expect(op).toEqual({ f: 'cas', key: 'k', expected: '{"x":1}', value: '{"x":1}' });
    expect(outcomeOf({ f: 'read', key: 'k' }, { kind: 'ok', value: '{"x":1}', revision: 3, index: logIndex(3), partition: partitionId(0) })).toEqual({ kind: 'ok', value: { x: 1 }, revision: 3 });
    expect(outcomeOf(op, { kind: 'cas-failed', current: null })).toEqual({ kind: 'absent' });
  });
  it('shapes framework errors as the API error body', () => {
    const decode = Buffer.from(JSON.stringify({ _tag: 'HttpApiDecodeError', issues: [{ path: ['value'], message: 'is missing' }], message: 'x' }));
    expect(shapeErrorBody(400, decode, 'PUT', '/v1/kv/a', 10)?.body).toEqual({ error: 'bad_request', message: "field 'value': is missing" });
    expect(shapeErrorBody(404, Buffer.alloc(0), 'GET', '/nope', 10)?.body.error).toBe('not_found');
    expect(shapeErrorBody(400, Buffer.from('{"error":"bad_request","message":"m"}'), 'GET', '/', 10)).toBeNull();
  });
});

describe('LMDB storage', () => {
  it('persists log, hard state and snapshots per partition and loads them back', async () => {
    const dir = tmp();
    const s = LmdbStorage.open(dir, ID, 2);
    expect(s.load()).toEqual({ kind: 'ok', groups: new Map() });
    s.save({ partition: partitionId(0), snapshot: null, entries: [entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')], hardState: { term: term(1), vote: nodeId('n1'), commit: logIndex(1) }, sync: true });
    // An entry at index 2 replaces 2 and 3.
    s.save({ partition: partitionId(0), snapshot: null, entries: [entry(2, 2, 'B')], hardState: { term: term(2), vote: null, commit: logIndex(2) }, sync: true });
    s.save({ partition: partitionId(1), snapshot: null, entries: [entry(1, 1, 'x')], hardState: null, sync: true });
    expect(s.hasPending()).toBe(true);
    await s.flush();
    expect(s.hasPending()).toBe(false);
    s.compact(partitionId(1), { meta: { index: logIndex(1), term: term(1), conf: { voters: [nodeId('n1')] } }, data: new Uint8Array([9]) });
    await s.close();
    const r = LmdbStorage.open(dir, ID, 2);
    expect(r.epoch).toBe(2);
    const loaded = r.load();
    if (loaded.kind !== 'ok') throw new Error(loaded.reason);
    const g0 = loaded.groups.get(partitionId(0))!;
    expect(g0.entries.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)])).toEqual([
      [1, 1, 'a'],
      [2, 2, 'B'],
    ]);
    expect(g0.hardState).toEqual({ term: 2, vote: null, commit: 2 });
    const g1 = loaded.groups.get(partitionId(1))!;
    expect(g1.snapshot?.meta.index).toBe(1);
    expect([...g1.snapshot!.data]).toEqual([9]);
    expect(g1.entries).toEqual([]);
    await r.close();
  });

  it('group commit resolves only after the durable signal, which comes after the commit', async () => {
    const s = LmdbStorage.open(tmp(), ID, 1);
    const events: string[] = [];
    s.onFlushEvent = (e) => events.push(e);
    for (let i = 1; i <= 50; i++) s.save({ partition: partitionId(0), snapshot: null, entries: [entry(i, 1, `v${i}`)], hardState: null, sync: true });
    const p = s.flush().then(() => events.push('flush resolved'));
    await p;
    expect(events).toEqual(['committed', 'durable', 'flush resolved']);
    expect(s.stats.flushes).toBe(1);
    expect(s.stats.opsWritten).toBe(50);
    await s.close();
  });

  it('refuses a foreign, unknown-version or corrupt data dir and leaves it untouched', async () => {
    const dir = tmp();
    const s = LmdbStorage.open(dir, ID, 1);
    await s.close();
    const before = readFileSync(join(dir, DATA_FILE));
    expect(() => LmdbStorage.open(dir, { ...ID, nodeId: 'n2' }, 1)).toThrow(/belongs to node n1, not n2/);
    expect(() => LmdbStorage.open(dir, { ...ID, clusterFingerprint: 'fp-b', clusterDescription: 'cluster B' }, 1)).toThrow(/belongs to another cluster \(cluster A\)/);
    expect(readFileSync(join(dir, DATA_FILE)).equals(before)).toBe(true);

    const other = tmp();
    writeFileSync(join(other, 'notes.txt'), 'mine');
    expect(() => LmdbStorage.open(other, ID, 1)).toThrow(DataDirError);
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('mine');

    const bad = join(tmp(), 'd');
    mkdirSync(bad);
    writeFileSync(join(bad, DATA_FILE), Buffer.alloc(64 * 1024, 0xab));
    const garbage = readFileSync(join(bad, DATA_FILE));
    expect(() => LmdbStorage.open(bad, ID, 1)).toThrow(/cannot be opened|no Conclave metadata|refusing/);
    expect(readFileSync(join(bad, DATA_FILE)).equals(garbage)).toBe(true);
  });
});
