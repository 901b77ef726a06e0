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
import { maxMessageLength } from '../../../wire/bgp/header.js';
import { messageFromJson, messageToJson } from '../../../wire/bgp/json.js';
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
