// Robustness: decodeMessage never throws, whatever the bytes, and only ever fails with a
// BgpDecodeError (after GoBGP's FuzzParseBGPMessage). Inputs are raw random bytes, well-framed
// random bodies of every type, and mutations of every shared vector. A message that decodes
// cleanly must also survive encode-then-decode unchanged. A failing case found here is committed
// to test/vectors/bgp/fuzz.json (source 'fuzz') so the vector runner keeps checking it.
// BGP_FUZZ_RUNS scales the run counts for a longer campaign (default 5000).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../support/vectors.js';
import { decodeMessage, encodeMessageBytes } from '../../../wire/bgp/message.js';
import { BgpDecodeError } from '../../../wire/bgp/errors.js';
import { contextFromJson, messageToJson } from '../../../wire/bgp/json.js';
import { afiSafiKey } from '../../../wire/bgp/constants.js';
import type { CodecContext } from '../../../wire/bgp/types.js';
import { fromHex, toHex } from '../../../wire/reader.js';

const RUNS = Number(process.env.BGP_FUZZ_RUNS ?? 5000);

const ctxArb: fc.Arbitrary<CodecContext> = fc
  .record({
    fourOctetAs: fc.boolean(),
    extendedMessage: fc.boolean(),
    addPath: fc.subarray([afiSafiKey(1, 1), afiSafiKey(2, 1)]),
  })
  .map((c) => ({ ...c, addPath: new Set(c.addPath) }));

/** Decode, insisting on the never-throw contract; for a clean message, also check encode∘decode. */
function exercise(bytes: Uint8Array, ctx: CodecContext): void {
  const r = decodeMessage(bytes, 0, bytes.length, ctx);
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(BgpDecodeError);
    return;
  }
  const m = r.value;
  if (m.type === 2 && (m.treatAsWithdraw !== undefined || m.discarded !== undefined)) return;
  const again = encodeMessageBytes(m, ctx);
  const r2 = decodeMessage(again, 0, again.length, ctx);
  if (!r2.ok)
    throw new Error(`re-encoded ${toHex(bytes)} as ${toHex(again)}, which fails: ${r2.error.message}`);
  expect(messageToJson(r2.value), `re-decoding ${toHex(again)}`).toEqual(messageToJson(m));
}

function framed(type: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(19 + body.length);
  b.fill(0xff, 0, 16);
  b[16] = b.length >>> 8;
  b[17] = b.length & 255;
  b[18] = type;
  b.set(body, 19);
  return b;
}

describe('decodeMessage on hostile input', () => {
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), ctxArb, (b, ctx) => exercise(b, ctx)),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('never throws on well-framed random bodies of every type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 300 }), ctxArb, (t, body, ctx) =>
        exercise(framed(t, body), ctx),
      ),
      { numRuns: RUNS },
    );
  });

  const vectors = loadVectors('bgp');
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
    }),
  );

  it('never throws on mutations of the shared vectors', () => {
    expect(vectors.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.nat(vectors.length - 1),
        fc.array(op, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (i, ops, fixLength) => {
          const v = vectors[i]!;
          const b = [...fromHex(v.hex)];
          for (const o of ops) {
            // Mutate past the marker most of the time, so the body decoders see the change.
            const span = b.length > 19 ? b.length - 19 : b.length + 1;
            const at = (b.length > 19 ? 19 : 0) + (o.at % span);
            if (o.kind === 'set') b[Math.min(at, b.length - 1)] = o.value;
            else if (o.kind === 'delete') b.splice(at, o.n);
            else b.splice(at, 0, ...o.bytes);
          }
          if (fixLength && b.length >= 19) {
            b[16] = (b.length >>> 8) & 255;
            b[17] = b.length & 255;
          }
          exercise(Uint8Array.from(b), contextFromJson(v.ctx));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
