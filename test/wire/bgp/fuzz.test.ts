// Robustness: decodeMessage never throws, whatever the bytes, and only ever fails with a
// BgpDecodeError (after GoBGP's FuzzParseBGPMessage). Inputs are raw random bytes, well-framed
// random bodies of every type, and mutations of every shared vector. A message that decodes
// cleanly must also survive encode-then-decode unchanged. A failing case found here is committed
// to test/vectors/bgp/fuzz.json (source 'fuzz') so the vector runner keeps checking it.
// BGP_FUZZ_RUNS scales the run counts for a longer campaign (default 25000 per property: four
// properties make 100,000 cases per run). Every failure is checked against the registries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../support/vectors.js';
import { decodeMessage, encodeMessageBytes } from '../../../wire/bgp/message.js';
import { BgpDecodeError, toNotification } from '../../../wire/bgp/errors.js';
import { ErrorCode, HeaderSubcode, SUBCODE_NAMES } from '../../../wire/bgp/constants.js';
import { contextFromJson, messageToJson } from '../../../wire/bgp/json.js';
import { afiSafiKey } from '../../../wire/bgp/constants.js';
import { DEFAULT_CONTEXT, type CodecContext } from '../../../wire/bgp/types.js';
import { fromHex, toHex } from '../../../wire/reader.js';

const RUNS = Number(process.env.BGP_FUZZ_RUNS ?? 25_000);

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
    checkError(r.error);
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

/** A failure must be a BgpDecodeError whose code, subcode and action agree with the registries. */
function checkError(e: unknown): void {
  if (!(e instanceof BgpDecodeError)) throw new Error(`not a BgpDecodeError: ${String(e)}`);
  const names = SUBCODE_NAMES[e.code];
  if (names === undefined) throw new Error(`error code ${e.code} is not in the registry (${e.message})`);
  // Subcode 0 is Unspecific, allowed wherever no specific subcode fits (RFC 4271 §4.5).
  if (names[e.subcode] === undefined && e.subcode !== 0) {
    throw new Error(`subcode ${e.subcode} of code ${e.code} is not in the registry (${e.message})`);
  }
  // Only UPDATE errors have softer answers than a reset (RFC 7606); everything else resets.
  if (e.code !== ErrorCode.UPDATE_MESSAGE && e.action !== 'session-reset') {
    throw new Error(`${e.message}: a non-UPDATE error must reset the session, not ${e.action}`);
  }
  // The NOTIFICATION it calls for must be sendable.
  const n = encodeMessageBytes(toNotification(e), DEFAULT_CONTEXT);
  if (n.length > 4096) throw new Error(`NOTIFICATION for ${e.message} is ${n.length} bytes`);
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
      { numRuns: RUNS },
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
  it('answers targeted header damage with the exact RFC 4271 §6.1 error', () => {
    const valid = vectors.filter((v) => v.error === undefined);
    fc.assert(
      fc.property(
        fc.nat(valid.length - 1),
        fc.oneof(
          fc.record({ kind: fc.constant('marker' as const), at: fc.nat(15), value: fc.nat(254) }),
          fc.record({
            kind: fc.constant('type' as const),
            type: fc.oneof(fc.constant(0), fc.integer({ min: 6, max: 255 })),
          }),
          fc.record({
            kind: fc.constant('length' as const),
            length: fc.oneof(fc.integer({ min: 0, max: 18 }), fc.integer({ min: 4097, max: 65535 })),
          }),
        ),
        (i, damage) => {
          const v = valid[i]!;
          const b = fromHex(v.hex);
          const ctx = { ...contextFromJson(v.ctx), extendedMessage: false };
          if (damage.kind === 'marker') b[damage.at] = damage.value;
          else if (damage.kind === 'type') b[18] = damage.type;
          else {
            b[16] = damage.length >>> 8;
            b[17] = damage.length & 255;
          }
          const r = decodeMessage(b, 0, b.length, ctx);
          expect(r.ok).toBe(false);
          if (r.ok) return;
          checkError(r.error);
          expect(r.error.code).toBe(ErrorCode.MESSAGE_HEADER);
          expect(r.error.action).toBe('session-reset');
          if (damage.kind === 'marker') {
            expect(r.error.subcode).toBe(HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED);
          } else if (damage.kind === 'type') {
            expect(r.error.subcode).toBe(HeaderSubcode.BAD_MESSAGE_TYPE);
            expect([...r.error.data]).toEqual([damage.type]);
          } else {
            expect(r.error.subcode).toBe(HeaderSubcode.BAD_MESSAGE_LENGTH);
            expect([...r.error.data]).toEqual([damage.length >>> 8, damage.length & 255]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
