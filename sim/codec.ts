// The simulated disk's record encoding: a small, explicit binary format (the bit flips and torn
// writes act on these bytes, and CRC-32 catches them).
import type { ConfState, Entry, EntryKind, HardState, Snapshot } from '../core/raft/types.js';
import { logIndex, nodeId, term, type NodeId } from '../core/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.n, v);
    this.n += 1;
  }
  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`ByteWriter.u32: ${v} out of range`);
    this.room(4);
    this.view.setUint32(this.n, v);
    this.n += 4;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  str(s: string): void {
    this.bytes(encoder.encode(s));
  }
  /** A copy of what was written; the writer is then empty and can be reused. */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

export class ByteReader {
  private readonly view: DataView;
  private n = 0;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(k: number): void {
    if (this.n + k > this.buf.length) throw new RangeError('record truncated');
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.n++);
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.n);
    this.n += 4;
    return v;
  }
  bytes(): Uint8Array {
    const len = this.u32();
    this.need(len);
    const out = this.buf.slice(this.n, this.n + len);
    this.n += len;
    return out;
  }
  str(): string {
    return decoder.decode(this.bytes());
  }
  done(): boolean {
    return this.n === this.buf.length;
  }
}

const KINDS: readonly EntryKind[] = ['normal', 'noop', 'config'];

export function writeEntry(w: ByteWriter, e: Entry): void {
  w.u32(e.index);
  w.u32(e.term);
  w.u8(KINDS.indexOf(e.kind));
  w.bytes(e.data);
}

export function readEntry(r: ByteReader): Entry {
  const index = logIndex(r.u32());
  const t = term(r.u32());
  const kind = KINDS[r.u8()];
  if (kind === undefined) throw new RangeError('bad entry kind');
  return { index, term: t, kind, data: r.bytes() };
}

export function writeHardState(w: ByteWriter, hs: HardState): void {
  w.u32(hs.term);
  w.u32(hs.commit);
  w.u8(hs.vote === null ? 0 : 1);
  if (hs.vote !== null) w.str(hs.vote);
}

export function readHardState(r: ByteReader): HardState {
  const t = term(r.u32());
  const commit = logIndex(r.u32());
  const vote: NodeId | null = r.u8() === 1 ? nodeId(r.str()) : null;
  return { term: t, commit, vote };
}

export function writeSnapshot(w: ByteWriter, s: Snapshot): void {
  w.u32(s.meta.index);
  w.u32(s.meta.term);
  w.u32(s.meta.conf.voters.length);
  for (const v of s.meta.conf.voters) w.str(v);
  w.bytes(s.data);
}

export function readSnapshot(r: ByteReader): Snapshot {
  const index = logIndex(r.u32());
  const t = term(r.u32());
  const n = r.u32();
  const voters: NodeId[] = [];
  for (let i = 0; i < n; i++) voters.push(nodeId(r.str()));
  const conf: ConfState = { voters };
  return { meta: { index, term: t, conf }, data: r.bytes() };
}
