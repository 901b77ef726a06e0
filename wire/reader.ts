// A bounds-checked read cursor over a byte range, shared by every decoder in wire/.
//
// Reads never slice per field: integers come straight from the bytes, and `bytes(n)` returns a
// zero-copy `subarray` view. A read past `end` throws `ReadOutOfBounds`, which each protocol maps
// to its own typed error in one place (BGP: a NOTIFICATION; BFD and DDM: a discard reason).

/** A read went past the end of the range it was allowed to read. */
export class ReadOutOfBounds extends Error {
  override readonly name = 'ReadOutOfBounds';

  constructor(
    /** Offset at which the read started. */
    readonly at: number,
    /** Bytes the read needed. */
    readonly need: number,
    /** Bytes that were left. */
    readonly have: number,
  ) {
    super(`read of ${need} bytes at offset ${at} with ${have} left`);
  }
}

/** A cursor over `buf[off, end)`. */
export class Reader {
  /** Current offset into `buf`. */
  off: number;

  constructor(
    readonly buf: Uint8Array,
    off = 0,
    /** Exclusive end of the readable range. */
    readonly end: number = buf.length,
  ) {
    this.off = off;
  }

  /** Bytes left before `end`. */
  get left(): number {
    return this.end - this.off;
  }

  /** Throw `ReadOutOfBounds` unless `n` more bytes are available. */
  need(n: number): void {
    if (this.off + n > this.end) throw new ReadOutOfBounds(this.off, n, this.end - this.off);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++] as number;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const o = this.off;
    this.off = o + 2;
    return ((b[o] as number) << 8) | (b[o + 1] as number);
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const o = this.off;
    this.off = o + 4;
    return (
      (b[o] as number) * 0x1000000 +
      (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number))
    );
  }

  /** A zero-copy view of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  /** Skip `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.off += n;
  }

  /** A reader over the next `n` bytes, advancing this one past them. */
  sub(n: number): Reader {
    this.need(n);
    const r = new Reader(this.buf, this.off, this.off + n);
    this.off += n;
    return r;
  }
}

/** Write a big-endian u16 at `off`; returns the offset after it. */
export function writeU16(buf: Uint8Array, off: number, v: number): number {
  buf[off] = (v >>> 8) & 255;
  buf[off + 1] = v & 255;
  return off + 2;
}

/** Write a big-endian u32 at `off`; returns the offset after it. */
export function writeU32(buf: Uint8Array, off: number, v: number): number {
  buf[off] = (v >>> 24) & 255;
  buf[off + 1] = (v >>> 16) & 255;
  buf[off + 2] = (v >>> 8) & 255;
  buf[off + 3] = v & 255;
  return off + 4;
}

/** Lower-case hex of bytes (tests, logs, vectors). */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes from hex text; whitespace is ignored. */
export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
