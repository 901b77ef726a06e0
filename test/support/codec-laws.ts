// Round-trip laws every codec must satisfy (after dns-packet's testEncoder):
// encodingLength equals the bytes written; decode(encode(x)) equals x; re-encoding is stable;
// encoding at a non-zero offset inside a larger buffer writes the same bytes.

import { expect } from 'vitest';

/** A codec in the project's shape: the encode / decode / encodingLength triple. */
export interface Codec<T, C = undefined> {
  encodingLength(value: T, ctx: C): number;
  /** Writes at `off`, returns the offset after the last byte written. */
  encode(value: T, buf: Uint8Array, off: number, ctx: C): number;
  /** Decodes exactly `buf[off, end)`; returns the value or throws/returns a typed error. */
  decode(buf: Uint8Array, off: number, end: number, ctx: C): T;
}

/** Assert the round-trip laws for one value; returns the encoded bytes. */
export function checkCodec<T, C>(
  codec: Codec<T, C>,
  value: T,
  ctx: C,
  normalise: (v: T) => unknown = (v) => v,
): Uint8Array {
  const len = codec.encodingLength(value, ctx);
  const buf = new Uint8Array(len);
  const end = codec.encode(value, buf, 0, ctx);
  expect(end, 'encodingLength equals bytes written').toBe(len);

  const decoded = codec.decode(buf, 0, len, ctx);
  expect(normalise(decoded), 'decode(encode(x)) equals x').toEqual(normalise(value));

  const again = new Uint8Array(codec.encodingLength(decoded, ctx));
  codec.encode(decoded, again, 0, ctx);
  expect(Buffer.from(again).equals(Buffer.from(buf)), 're-encoding is stable').toBe(true);

  const pad = 7;
  const big = new Uint8Array(len + pad * 2).fill(0xa5);
  const end2 = codec.encode(value, big, pad, ctx);
  expect(end2, 'encode at an offset returns offset + length').toBe(pad + len);
  expect(
    Buffer.from(big.subarray(pad, pad + len)).equals(Buffer.from(buf)),
    'encode at an offset writes the same bytes',
  ).toBe(true);
  expect(big[pad - 1], 'no write before the offset').toBe(0xa5);
  expect(big[pad + len], 'no write after the end').toBe(0xa5);
  const decodedAtOffset = codec.decode(big, pad, pad + len, ctx);
  expect(normalise(decodedAtOffset), 'decode at an offset').toEqual(normalise(value));
  return buf;
}
