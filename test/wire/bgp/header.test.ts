// Header checks (RFC 4271 §6.1, RFC 8654 §4, RFC 7313 §5) and stream framing.
import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, nextFrame } from '../../../wire/bgp/header.js';
import { DEFAULT_CONTEXT, type CodecContext } from '../../../wire/bgp/types.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { ErrorCode, HeaderSubcode, MessageType } from '../../../wire/bgp/constants.js';

const MARKER = 'ff'.repeat(16);
const EXT: CodecContext = { ...DEFAULT_CONTEXT, extendedMessage: true };

function header(hex: string, ctx = DEFAULT_CONTEXT) {
  const b = fromHex(hex);
  return decodeHeader(b, 0, b.length, ctx);
}

function errorOf(hex: string, ctx = DEFAULT_CONTEXT) {
  const h = header(hex, ctx);
  if (h.ok) throw new Error('expected an error');
  return { code: h.error.code, subcode: h.error.subcode, action: h.error.action, data: toHex(h.error.data) };
}

describe('decodeHeader', () => {
  it('reads length and type', () => {
    expect(header(MARKER + '0013' + '04')).toEqual({ ok: true, value: { length: 19, type: 4 } });
    expect(header(MARKER + '001d' + '01')).toEqual({ ok: true, value: { length: 29, type: 1 } });
  });

  it('needs a synchronised marker', () => {
    expect(errorOf('fe' + 'ff'.repeat(15) + '0013' + '04')).toMatchObject({
      code: ErrorCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
      action: 'session-reset',
    });
  });

  it('reports a bad type with the type as data', () => {
    expect(errorOf(MARKER + '0013' + '07')).toEqual({
      code: 1,
      subcode: HeaderSubcode.BAD_MESSAGE_TYPE,
      action: 'session-reset',
      data: '07',
    });
  });

  it('reports bad lengths with the length as data', () => {
    expect(errorOf(MARKER + '0012' + '04')).toMatchObject({ subcode: 2, data: '0012' });
    expect(errorOf(MARKER + '0014' + '04')).toMatchObject({ subcode: 2, data: '0014' }); // KEEPALIVE must be 19
    expect(errorOf(MARKER + '001c' + '01')).toMatchObject({ subcode: 2, data: '001c' }); // OPEN below 29
    expect(errorOf(MARKER + '0016' + '02')).toMatchObject({ subcode: 2, data: '0016' }); // UPDATE below 23
    expect(errorOf(MARKER + '0014' + '03')).toMatchObject({ subcode: 2, data: '0014' }); // NOTIFICATION below 21
    expect(errorOf(MARKER + '1001' + '02')).toMatchObject({ subcode: 2, data: '1001' }); // above 4096
  });

  it('allows extended messages only when negotiated, and never for OPEN or KEEPALIVE', () => {
    expect(header(MARKER + '1001' + '02', EXT).ok).toBe(true);
    expect(header(MARKER + 'ffff' + '03', EXT).ok).toBe(true);
    expect(errorOf(MARKER + '1001' + '01', EXT)).toMatchObject({ subcode: 2, data: '1001' });
  });

  it('leaves ROUTE-REFRESH lengths above 23 to the message decoder (RFC 5291 ORF, RFC 7313 §5)', () => {
    expect(header(MARKER + '0018' + '05').ok).toBe(true);
    expect(errorOf(MARKER + '0016' + '05')).toMatchObject({ code: 1, subcode: 2, data: '0016' });
  });

  it('encodes what it decodes', () => {
    const b = new Uint8Array(21);
    expect(encodeHeader(MessageType.NOTIFICATION, 21, b, 2)).toBe(21);
    expect(toHex(b)).toBe('0000' + MARKER + '0015' + '03');
  });
});

describe('nextFrame', () => {
  const keepalive = MARKER + '0013' + '04';
  const notification = MARKER + '0017' + '03' + '0602' + '0000';

  it('waits for a whole header, then a whole message', () => {
    const b = fromHex(keepalive + notification);
    expect(nextFrame(b, 0, 10, DEFAULT_CONTEXT)).toEqual({ kind: 'partial' });
    expect(nextFrame(b, 0, 19, DEFAULT_CONTEXT)).toEqual({
      kind: 'message',
      header: { length: 19, type: 4 },
    });
    expect(nextFrame(b, 19, 38, DEFAULT_CONTEXT)).toEqual({ kind: 'partial' });
    expect(nextFrame(b, 19, b.length, DEFAULT_CONTEXT)).toEqual({
      kind: 'message',
      header: { length: 23, type: 3 },
    });
  });

  it('reports a bad header at once', () => {
    const f = nextFrame(fromHex(MARKER + '0013' + '09'), 0, 19, DEFAULT_CONTEXT);
    expect(f.kind).toBe('error');
  });
});
