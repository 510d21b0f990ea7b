// Peer frames: [u32 payload length][u32 CRC-32C of the payload][payload], big-endian; the
// payload is one msgpack value. A frame longer than the limit, or whose checksum fails, is a
// protocol error: the connection that sent it is closed (by the caller), nothing else.
import { Packr, Unpackr } from 'msgpackr';
import { crc32c } from '../../core/storage/checksum.js';

export const FRAME_HEADER_BYTES = 8;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false });

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodeFrame(value: unknown): Buffer {
  const payload = packr.pack(value);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32c(payload), 4);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** Reassembles frames from a byte stream. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  constructor(public maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Feed bytes; returns the complete frames' values. Throws FrameError on a bad frame. */
  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: unknown[] = [];
    for (;;) {
      if (this.buf.length < FRAME_HEADER_BYTES) break;
      const len = this.buf.readUInt32BE(0);
      if (len > this.maxFrameBytes) throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (this.buf.length < FRAME_HEADER_BYTES + len) break;
      // Copy: the payload's buffers (entry data) outlive this chunk.
      const payload = Buffer.from(this.buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len));
      if (crc32c(payload) !== this.buf.readUInt32BE(4)) throw new FrameError('frame checksum mismatch');
      this.buf = this.buf.subarray(FRAME_HEADER_BYTES + len);
      try {
        out.push(unpackr.unpack(payload));
      } catch {
        throw new FrameError('frame payload is not msgpack');
      }
    }
    return out;
  }

  buffered(): number {
    return this.buf.length;
  }
}
