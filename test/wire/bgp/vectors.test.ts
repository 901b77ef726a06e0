// The BGP vector runner: every vector in test/vectors/bgp/*.json is decoded and, when valid,
// encoded back. One test per vector and direction; the files are the specification, shared with
// the tshark check and the fuzz corpus.
//
// A vector gives `decoded` (its JSON rendering, which must match and also drives the encoder),
// `error` (the decode error it must produce), or neither: captured bytes that must decode cleanly
// and survive encode-then-decode unchanged (byte-identical only with `reencode: true`: a peer's
// attribute order and length flags need not be ours); the tshark check compares their decoding
// with Wireshark's.
import { describe, expect, it } from 'vitest';
import { loadVectors, type Vector } from '../../support/vectors.js';
import { decodeMessage, encodeMessageBytes, encodingLengthMessage } from '../../../wire/bgp/message.js';
import { contextFromJson, messageFromJson, messageToJson, type Json } from '../../../wire/bgp/json.js';
import { fromHex, toHex } from '../../../wire/reader.js';

const vectors = loadVectors('bgp');

/**
 * The actual rendering with `reason` left out wherever the expected value does not give one:
 * vectors pin reasons only when they choose to, since the text is for people.
 */
function pruneReasons(actual: Json, expected: unknown): Json {
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.map((a, i) => pruneReasons(a as Json, expected[i]));
  }
  if (typeof actual === 'object' && actual !== null && !Array.isArray(actual)) {
    const e = (typeof expected === 'object' && expected !== null ? expected : {}) as Record<string, unknown>;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(actual as Record<string, Json>)) {
      if (k === 'reason' && !('reason' in e)) continue;
      out[k] = pruneReasons(v, e[k]);
    }
    return out;
  }
  return actual;
}

function decode(v: Vector, pad = 0) {
  const bytes = fromHex(v.hex);
  const buf = new Uint8Array(bytes.length + 2 * pad).fill(0xee);
  buf.set(bytes, pad);
  return decodeMessage(buf, pad, pad + bytes.length, contextFromJson(v.ctx));
}

describe('BGP vectors', () => {
  it('are present, uniquely named and well-formed', () => {
    expect(vectors.length).toBeGreaterThan(40);
    const names = new Set<string>();
    for (const v of vectors) {
      expect(names.has(v.name), `duplicate vector name ${v.name}`).toBe(false);
      names.add(v.name);
      expect(typeof v.source, `${v.name}: source`).toBe('string');
      expect(v.hex, `${v.name}: hex`).toMatch(/^([0-9a-fA-F]{2})+$/);
      expect(
        v.decoded === undefined || v.error === undefined,
        `${v.name}: at most one of decoded/error`,
      ).toBe(true);
    }
  });

  for (const v of vectors) {
    if (v.error !== undefined) {
      const want = v.error;
      it(`${v.file}: ${v.name} is refused`, () => {
        for (const pad of [0, 5]) {
          const r = decode(v, pad);
          expect(r.ok, 'decoding must fail').toBe(false);
          if (r.ok) return;
          const got: Record<string, unknown> = {
            code: r.error.code,
            subcode: r.error.subcode,
            action: r.error.action,
          };
          if (want.data !== undefined) got.data = toHex(r.error.data);
          const wanted: Record<string, unknown> = { ...want };
          if (want.reason !== undefined) {
            expect(r.error.reason).toContain(want.reason);
            delete wanted.reason;
          }
          expect(got).toEqual(wanted);
        }
      });
      continue;
    }

    it(`${v.file}: ${v.name} decodes`, () => {
      for (const pad of [0, 5]) {
        const r = decode(v, pad);
        if (!r.ok) throw r.error;
        if (v.decoded !== undefined)
          expect(pruneReasons(messageToJson(r.value), v.decoded)).toEqual(v.decoded);
      }
    });

    if (v.decoded === undefined) {
      it(`${v.file}: ${v.name} survives encode-then-decode`, () => {
        const ctx = contextFromJson(v.ctx);
        const r = decode(v);
        if (!r.ok) throw r.error;
        const bytes = encodeMessageBytes(r.value, ctx);
        if (v.reencode === true) expect(toHex(bytes)).toBe(v.hex.toLowerCase());
        const again = decodeMessage(bytes, 0, bytes.length, ctx);
        if (!again.ok) throw again.error;
        expect(messageToJson(again.value)).toEqual(messageToJson(r.value));
      });
    } else if (v.reencode !== false) {
      it(`${v.file}: ${v.name} encodes`, () => {
        const ctx = contextFromJson(v.ctx);
        const m = messageFromJson(v.decoded);
        const bytes = encodeMessageBytes(m, ctx);
        expect(encodingLengthMessage(m, ctx)).toBe(bytes.length);
        expect(toHex(bytes)).toBe(v.hex.toLowerCase());
      });
    }
  }
});
