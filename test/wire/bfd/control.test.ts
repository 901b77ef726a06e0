// BFD Control packet codec: round-trip laws over every field and auth type, the JSON rendering,
// and the structural decode errors.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BFD_DIAG_NAMES,
  BfdDiag,
  BfdState,
  bfdControlFromJson,
  bfdControlToBytes,
  bfdControlToJson,
  bfdDiagName,
  decodeBfdControl,
  type BfdControl,
} from '../../../wire/bfd/index.js';
import { toHex } from '../../../wire/reader.js';
import { checkCodec } from '../../support/codec-laws.js';
import { anyControl, bfdCodec, plain } from './arbitraries.js';

const base: BfdControl = {
  diag: BfdDiag.NO_DIAGNOSTIC,
  state: BfdState.UP,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 1,
  yourDiscriminator: 2,
  desiredMinTxInterval: 300000,
  requiredMinRxInterval: 300000,
  requiredMinEchoRxInterval: 0,
};

describe('BFD control codec', () => {
  it('satisfies the round-trip laws for every field and auth type', () => {
    fc.assert(
      fc.property(anyControl, (p) => {
        checkCodec(bfdCodec, p, undefined, plain);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips through the JSON rendering', () => {
    fc.assert(
      fc.property(anyControl, (p) => {
        const back = bfdControlFromJson(JSON.parse(JSON.stringify(bfdControlToJson(p))));
        expect(back.ok).toBe(true);
        if (back.ok) expect(plain(back.value)).toEqual(plain(p));
      }),
      { numRuns: 500 },
    );
  });

  it('lays out the header as RFC 5880 §4.1 draws it', () => {
    const bytes = bfdControlToBytes({
      ...base,
      diag: BfdDiag.PATH_DOWN,
      state: BfdState.INIT,
      poll: true,
      demand: true,
      myDiscriminator: 0x01020304,
      yourDiscriminator: 0xa0b0c0d0,
      desiredMinTxInterval: 1000000,
      requiredMinRxInterval: 50000,
      requiredMinEchoRxInterval: 0xffffffff,
    });
    // version 1 + diag 5 = 0x25; state 2 << 6 | P | D = 0xa2; mult 3; length 24
    expect(toHex(bytes)).toBe('25a20318' + '01020304' + 'a0b0c0d0' + '000f4240' + '0000c350' + 'ffffffff');
  });

  it('names every diagnostic code and marks the reserved ones', () => {
    expect(Object.keys(BFD_DIAG_NAMES)).toHaveLength(9);
    expect(bfdDiagName(BfdDiag.ADMINISTRATIVELY_DOWN)).toBe('Administratively Down');
    expect(bfdDiagName(9)).toBe('reserved (9)');
  });

  it('ignores bytes after Length and rejects a Length beyond the payload', () => {
    const bytes = bfdControlToBytes(base);
    const longer = new Uint8Array(40);
    longer.set(bytes);
    const r = decodeBfdControl(longer, 0, longer.length);
    expect(r.ok && r.value).toEqual(base);
    const short = decodeBfdControl(bytes, 0, 23);
    expect(!short.ok && short.error.reason).toBe('truncated');
    const lying = bytes.slice();
    lying[3] = 30;
    const padded = new Uint8Array(28);
    padded.set(lying);
    const e = decodeBfdControl(padded, 0, padded.length);
    expect(!e.ok && e.error.reason).toBe('length-exceeds-payload');
  });

  it('rejects each malformed structure with its own reason', () => {
    const cases: [string, string][] = [
      ['', 'truncated'],
      ['40c00318' + '00'.repeat(20), 'bad-version'],
      ['00c00318' + '00'.repeat(20), 'bad-version'],
      ['20c00317' + '00'.repeat(20), 'length-too-short'],
      ['20c40318' + '00'.repeat(20), 'length-too-short'],
      ['20c4031a' + '00'.repeat(20) + '0002', 'bad-auth-type'],
      ['20c4031a' + '00'.repeat(20) + '0602', 'bad-auth-type'],
      ['20c4031c' + '00'.repeat(20) + '01030100', 'bad-auth-length'],
      ['20c4031c' + '00'.repeat(20) + '01050161', 'bad-auth-length'],
      ['20c40334' + '00'.repeat(20) + '021c' + '00'.repeat(26), 'bad-auth-length'],
      ['20c40330' + '00'.repeat(20) + '0218' + '00'.repeat(22), 'ok'],
      ['20c4031e' + '00'.repeat(20) + '0118' + '00'.repeat(4), 'bad-auth-length'],
      ['20c40330' + '00'.repeat(20) + '0418' + '00'.repeat(22), 'bad-auth-length'],
    ];
    for (const [hex, reason] of cases) {
      const b = Buffer.from(hex, 'hex');
      const r = decodeBfdControl(b, 0, b.length);
      expect(r.ok ? 'ok' : r.error.reason, hex).toBe(reason);
    }
  });
});
