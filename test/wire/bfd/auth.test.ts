// BFD authentication: signing and verification for every type, tamper and wrong-key properties,
// and the keyed sequence-number window of RFC 5880 §6.7.3/§6.7.4.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BFD_AUTH_SEQ_UNKNOWN,
  BfdAuthType,
  checkBfdAuthKey,
  checkBfdAuthSequence,
  decodeBfdControl,
  signBfdControl,
  verifyBfdAuth,
  type BfdAuthConfig,
  type BfdAuthKey,
  type BfdControl,
} from '../../../wire/bfd/index.js';
import { plainControl, u32 } from './arbitraries.js';

const keyedTypes = [
  BfdAuthType.KEYED_MD5,
  BfdAuthType.METICULOUS_KEYED_MD5,
  BfdAuthType.KEYED_SHA1,
  BfdAuthType.METICULOUS_KEYED_SHA1,
] as const;
const allTypes = [BfdAuthType.SIMPLE_PASSWORD, ...keyedTypes] as const;

function maxKey(type: BfdAuthType): number {
  return type === BfdAuthType.SIMPLE_PASSWORD ||
    type === BfdAuthType.KEYED_MD5 ||
    type === BfdAuthType.METICULOUS_KEYED_MD5
    ? 16
    : 20;
}

const typeAndKey = fc.constantFrom(...allTypes).chain((type) =>
  fc.record({
    type: fc.constant(type),
    key: fc.record({
      id: fc.integer({ min: 0, max: 255 }),
      secret: fc.uint8Array({ minLength: 1, maxLength: maxKey(type) }),
    }),
  }),
);

const keyedAndKey = typeAndKey.filter((t) => t.type !== BfdAuthType.SIMPLE_PASSWORD);

function verifyBytes(bytes: Uint8Array, config: BfdAuthConfig): string {
  const d = decodeBfdControl(bytes, 0, bytes.length);
  if (!d.ok) return d.error.reason;
  const v = verifyBfdAuth(bytes, 0, d.value, config);
  return v.ok ? 'ok' : v.error;
}

describe('BFD authentication', () => {
  it('verifies what it signs, for every type', () => {
    fc.assert(
      fc.property(plainControl, typeAndKey, u32, (p, { type, key }, sequence) => {
        const { bytes, packet } = signBfdControl(p, { type, key, sequence });
        const d = decodeBfdControl(bytes, 0, bytes.length);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect(d.value.auth?.type).toBe(type);
        expect(d.value.auth?.keyId).toBe(key.id);
        expect(packet.auth?.type).toBe(type);
        const v = verifyBfdAuth(bytes, 0, d.value, { type, keys: [key] });
        expect(v.ok && v.value).toBe(key);
      }),
      { numRuns: 1000 },
    );
  });

  it('fails keyed verification when any single bit of the packet is flipped', () => {
    fc.assert(
      fc.property(plainControl, keyedAndKey, u32, fc.nat(), (p, { type, key }, sequence, pick) => {
        const { bytes } = signBfdControl(p, { type, key, sequence });
        const bit = pick % (bytes.length * 8);
        const bad = bytes.slice();
        bad[bit >> 3]! ^= 0x80 >> (bit & 7);
        expect(verifyBytes(bad, { type, keys: [key] })).not.toBe('ok');
      }),
      { numRuns: 3000 },
    );
  });

  it('fails simple password verification when the password or key id changes', () => {
    fc.assert(
      fc.property(plainControl, typeAndKey, fc.nat(), (p, { key }, pick) => {
        const type = BfdAuthType.SIMPLE_PASSWORD;
        const k: BfdAuthKey = { id: key.id, secret: key.secret.subarray(0, 16) };
        const { bytes } = signBfdControl(p, { type, key: k, sequence: 0 });
        // the Key ID byte and the password bytes follow Auth Type and Auth Len
        const bit = 26 * 8 + (pick % ((bytes.length - 26) * 8));
        const bad = bytes.slice();
        bad[bit >> 3]! ^= 0x80 >> (bit & 7);
        expect(verifyBytes(bad, { type, keys: [k] })).not.toBe('ok');
      }),
      { numRuns: 1000 },
    );
  });

  it('fails with a wrong key and names the failure', () => {
    fc.assert(
      fc.property(
        plainControl,
        typeAndKey,
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        (p, { type, key }, other) => {
          // keyed modes zero-pad the key, so keys that differ only by trailing zeros are the same key
          const trim = (b: Uint8Array) =>
            Buffer.from(b)
              .toString('hex')
              .replace(/(00)+$/, '');
          fc.pre(
            type === BfdAuthType.SIMPLE_PASSWORD
              ? !Buffer.from(other).equals(Buffer.from(key.secret))
              : trim(other) !== trim(key.secret),
          );
          const { bytes } = signBfdControl(p, { type, key, sequence: 7 });
          const r = verifyBytes(bytes, { type, keys: [{ id: key.id, secret: other }] });
          expect(r).toBe(type === BfdAuthType.SIMPLE_PASSWORD ? 'auth-password' : 'auth-digest');
          expect(verifyBytes(bytes, { type, keys: [{ id: (key.id + 1) & 255, secret: key.secret }] })).toBe(
            'auth-key-id',
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('picks the key by Auth Key ID from a key chain', () => {
    const keys = [
      { id: 1, secret: Buffer.from('one') },
      { id: 2, secret: Buffer.from('two') },
    ];
    const { bytes } = signBfdControl(base(), { type: BfdAuthType.KEYED_SHA1, key: keys[1]!, sequence: 1 });
    expect(verifyBytes(bytes, { type: BfdAuthType.KEYED_SHA1, keys })).toBe('ok');
    expect(verifyBytes(bytes, { type: BfdAuthType.KEYED_MD5, keys })).toBe('auth-type-mismatch');
  });

  it('computes the digest over the packet with the zero-padded key in the digest field', () => {
    const secret = Buffer.from('secret');
    const { bytes } = signBfdControl(base(), {
      type: BfdAuthType.KEYED_MD5,
      key: { id: 5, secret },
      sequence: 0x01020304,
    });
    const copy = Buffer.from(bytes);
    const field = Buffer.alloc(16);
    secret.copy(field);
    field.copy(copy, 32);
    expect(Buffer.from(bytes.subarray(32)).equals(createHash('md5').update(copy).digest())).toBe(true);
    expect(Buffer.from(bytes.subarray(24, 32)).toString('hex')).toBe('0218050001020304');
  });

  it('refuses keys that do not fit the type', () => {
    expect(checkBfdAuthKey(BfdAuthType.KEYED_MD5, { id: 1, secret: new Uint8Array(17) })).toMatch(
      /1–16 bytes/,
    );
    expect(checkBfdAuthKey(BfdAuthType.KEYED_SHA1, { id: 1, secret: new Uint8Array(20) })).toBeUndefined();
    expect(checkBfdAuthKey(BfdAuthType.SIMPLE_PASSWORD, { id: 256, secret: new Uint8Array(1) })).toMatch(
      /key id/,
    );
    expect(() =>
      signBfdControl(base(), {
        type: BfdAuthType.SIMPLE_PASSWORD,
        key: { id: 1, secret: new Uint8Array(0) },
        sequence: 0,
      }),
    ).toThrow(RangeError);
  });
});

function base(): BfdControl {
  return {
    diag: 0,
    state: 3,
    poll: false,
    final: false,
    cpi: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 1,
    yourDiscriminator: 2,
    desiredMinTxInterval: 1000000,
    requiredMinRxInterval: 1000000,
    requiredMinEchoRxInterval: 0,
  };
}

function keyedPacket(type: (typeof keyedTypes)[number], sequence: number, detectMult: number): BfdControl {
  return {
    ...base(),
    detectMult,
    auth: { type, keyId: 1, sequence, digest: new Uint8Array(type <= 3 ? 16 : 20) },
  };
}

describe('BFD keyed sequence window', () => {
  it('learns the first sequence number it sees', () => {
    const r = checkBfdAuthSequence(BFD_AUTH_SEQ_UNKNOWN, keyedPacket(BfdAuthType.KEYED_MD5, 0xdeadbeef, 3));
    expect(r.ok && r.value).toEqual({ known: true, lastSeq: 0xdeadbeef });
  });

  it('accepts [last, last + 3·mult] for keyed and [last + 1, last + 3·mult] for meticulous, modulo 2^32', () => {
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.constantFrom(...keyedTypes),
        (last, mult, delta, type) => {
          const seq = (last + delta) >>> 0;
          const r = checkBfdAuthSequence({ known: true, lastSeq: last }, keyedPacket(type, seq, mult));
          const low =
            type === BfdAuthType.METICULOUS_KEYED_MD5 || type === BfdAuthType.METICULOUS_KEYED_SHA1 ? 1 : 0;
          const inWindow = delta >= low && delta <= 3 * mult;
          expect(r.ok).toBe(inWindow);
          if (r.ok) expect(r.value).toEqual({ known: true, lastSeq: seq });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('handles the wrap from 2^32 - 1 to 0', () => {
    const r = checkBfdAuthSequence(
      { known: true, lastSeq: 0xfffffffe },
      keyedPacket(BfdAuthType.METICULOUS_KEYED_SHA1, 1, 1),
    );
    expect(r.ok && r.value.lastSeq).toBe(1);
    const bad = checkBfdAuthSequence(
      { known: true, lastSeq: 0xfffffffe },
      keyedPacket(BfdAuthType.METICULOUS_KEYED_SHA1, 0xfffffffe, 1),
    );
    expect(bad.ok).toBe(false);
  });

  it('leaves the state alone for simple password packets', () => {
    const state = { known: true, lastSeq: 9 };
    const p: BfdControl = {
      ...base(),
      auth: { type: BfdAuthType.SIMPLE_PASSWORD, keyId: 1, password: new Uint8Array([1]) },
    };
    const r = checkBfdAuthSequence(state, p);
    expect(r.ok && r.value).toBe(state);
  });
});
