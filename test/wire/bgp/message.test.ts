// Whole messages: the round-trip laws for every message type under every codec context, the
// JSON rendering of encodable UPDATEs, size limits, and the header/frame checks decodeMessage adds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCodec, type Codec } from '../../support/codec-laws.js';
import {
  keepaliveArb,
  notificationArb,
  routeRefreshArb,
  validOpenArb,
} from '../../support/bgp-arbitraries.js';
import { arbUpdate, CONTEXTS } from './arb-update.js';
import {
  decodeMessage,
  encodeMessage,
  encodeMessageBytes,
  encodingLengthMessage,
} from '../../../wire/bgp/message.js';
import { maxMessageLength, nextFrame } from '../../../wire/bgp/header.js';
import { messageFromJson, messageToJson } from '../../../wire/bgp/json.js';
import { loadVectors } from '../../support/vectors.js';
import { DEFAULT_CONTEXT, type BgpMessage, type CodecContext } from '../../../wire/bgp/types.js';
import { fromHex, toHex } from '../../../wire/reader.js';

const messageCodec: Codec<BgpMessage, CodecContext> = {
  encodingLength: encodingLengthMessage,
  encode: encodeMessage,
  decode: (buf, off, end, ctx) => {
    const r = decodeMessage(buf, off, end, ctx);
    if (!r.ok) throw r.error;
    return r.value;
  },
};

function anyMessage(ctx: CodecContext): fc.Arbitrary<BgpMessage> {
  return fc
    .oneof(validOpenArb, arbUpdate(ctx), notificationArb, keepaliveArb, routeRefreshArb)
    .filter((m) => encodingLengthMessage(m, ctx) <= maxMessageLength(m.type, ctx));
}

describe('whole-message codec', () => {
  for (const { name, ctx } of CONTEXTS) {
    it(`satisfies the round-trip laws for every message type (${name})`, () => {
      fc.assert(
        fc.property(anyMessage(ctx), (m) => void checkCodec(messageCodec, m, ctx)),
        { numRuns: 300 },
      );
    });

    it(`renders encodable UPDATEs to JSON and back (${name})`, () => {
      fc.assert(
        fc.property(arbUpdate(ctx), (m) => {
          expect(messageFromJson(JSON.parse(JSON.stringify(messageToJson(m))))).toEqual(m);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('writes a KEEPALIVE as a bare header', () => {
    expect(toHex(encodeMessageBytes({ type: 4 }, DEFAULT_CONTEXT))).toBe('ff'.repeat(16) + '001304');
  });

  it('refuses to encode a message longer than the session allows', () => {
    const big: BgpMessage = { type: 3, code: 6, subcode: 0, data: new Uint8Array(4096 - 21 + 1) };
    expect(() => encodeMessageBytes(big, DEFAULT_CONTEXT)).toThrow(RangeError);
    expect(encodeMessageBytes(big, { ...DEFAULT_CONTEXT, extendedMessage: true })).toHaveLength(4097);
  });

  it('refuses a frame whose length field disagrees with it, naming the length field', () => {
    const b = fromHex('ff'.repeat(16) + '0013' + '04' + '00');
    const r = decodeMessage(b, 0, b.length, DEFAULT_CONTEXT);
    expect(!r.ok && [r.error.code, r.error.subcode, toHex(r.error.data)]).toEqual([1, 2, '0013']);
  });

  it('applies the OPEN checks to a decoded OPEN', () => {
    const b = fromHex('ff'.repeat(16) + '001d' + '01' + '04' + 'fde9' + '0001' + '0a000001' + '00');
    const r = decodeMessage(b, 0, b.length, DEFAULT_CONTEXT);
    expect(!r.ok && [r.error.code, r.error.subcode]).toEqual([2, 6]);
  });
});

describe('stream framing', () => {
  // Valid vectors that need no negotiated context, back to back, and each one decoded alone.
  const stream = loadVectors('bgp').filter((v) => v.error === undefined && v.ctx === undefined);
  const whole = Uint8Array.from(stream.flatMap((v) => [...fromHex(v.hex)]));
  const alone = stream.map((v) => {
    const b = fromHex(v.hex);
    const r = decodeMessage(b, 0, b.length, DEFAULT_CONTEXT);
    if (!r.ok) throw r.error;
    return messageToJson(r.value);
  });

  it('finds every message however the stream is cut into reads', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 }), (cuts) => {
        // A receive buffer fed in chunks, consumed frame by frame as a transport driver would.
        let pending = new Uint8Array(0);
        let at = 0;
        let cut = 0;
        const seen: unknown[] = [];
        while (at < whole.length || pending.length > 0) {
          const n = cuts[cut++ % cuts.length]!;
          const chunk = whole.subarray(at, Math.min(whole.length, at + n));
          at += chunk.length;
          const joined = new Uint8Array(pending.length + chunk.length);
          joined.set(pending);
          joined.set(chunk, pending.length);
          let off = 0;
          for (;;) {
            const f = nextFrame(joined, off, joined.length, DEFAULT_CONTEXT);
            if (f.kind === 'error') throw f.error;
            if (f.kind === 'partial') break;
            const r = decodeMessage(joined, off, off + f.header.length, DEFAULT_CONTEXT);
            if (!r.ok) throw r.error;
            seen.push(messageToJson(r.value));
            off += f.header.length;
          }
          pending = joined.slice(off);
          if (chunk.length === 0 && pending.length > 0) throw new Error('stream ended inside a message');
        }
        expect(seen).toEqual(alone);
      }),
      { numRuns: 100 },
    );
  });
});
