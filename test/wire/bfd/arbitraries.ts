// fast-check arbitraries for BFD Control packets: every field over its full range, each
// authentication type, and the codec adapter checkCodec expects.

import fc from 'fast-check';
import {
  BfdAuthType,
  decodeBfdControl,
  encodeBfdControl,
  encodingLengthBfdControl,
  type BfdAuth,
  type BfdControl,
  type BfdState,
} from '../../../wire/bfd/index.js';
import type { Codec } from '../../support/codec-laws.js';

export const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const passwordAuth: fc.Arbitrary<BfdAuth> = fc.record({
  type: fc.constant(BfdAuthType.SIMPLE_PASSWORD),
  keyId: fc.integer({ min: 0, max: 255 }),
  password: fc.uint8Array({ minLength: 1, maxLength: 16 }),
});

export const keyedAuth: fc.Arbitrary<BfdAuth> = fc
  .constantFrom(
    BfdAuthType.KEYED_MD5,
    BfdAuthType.METICULOUS_KEYED_MD5,
    BfdAuthType.KEYED_SHA1,
    BfdAuthType.METICULOUS_KEYED_SHA1,
  )
  .chain((type) => {
    const n = type === BfdAuthType.KEYED_MD5 || type === BfdAuthType.METICULOUS_KEYED_MD5 ? 16 : 20;
    return fc.record({
      type: fc.constant(type),
      keyId: fc.integer({ min: 0, max: 255 }),
      sequence: u32,
      digest: fc.uint8Array({ minLength: n, maxLength: n }),
    });
  });

/** Any packet without authentication, every field over its whole range. */
export const plainControl: fc.Arbitrary<BfdControl> = fc.record({
  diag: fc.integer({ min: 0, max: 31 }),
  state: fc.integer({ min: 0, max: 3 }).map((s) => s as BfdState),
  poll: fc.boolean(),
  final: fc.boolean(),
  cpi: fc.boolean(),
  demand: fc.boolean(),
  multipoint: fc.boolean(),
  detectMult: fc.integer({ min: 0, max: 255 }),
  myDiscriminator: u32,
  yourDiscriminator: u32,
  desiredMinTxInterval: u32,
  requiredMinRxInterval: u32,
  requiredMinEchoRxInterval: u32,
});

/** Any packet, with or without each kind of authentication section. */
export const anyControl: fc.Arbitrary<BfdControl> = fc
  .tuple(plainControl, fc.option(fc.oneof(passwordAuth, keyedAuth), { nil: undefined }))
  .map(([p, auth]) => (auth === undefined ? p : { ...p, auth }));

/** A packet the reception checks accept as far as its own fields go. */
export const validControl: fc.Arbitrary<BfdControl> = anyControl.map((p) => ({
  ...p,
  multipoint: false,
  detectMult: p.detectMult === 0 ? 3 : p.detectMult,
  myDiscriminator: p.myDiscriminator === 0 ? 1 : p.myDiscriminator,
  yourDiscriminator: p.yourDiscriminator === 0 ? 1 : p.yourDiscriminator,
}));

/** The BFD codec in the shape checkCodec wants: decode throws the typed error. */
export const bfdCodec: Codec<BfdControl> = {
  encodingLength: (v) => encodingLengthBfdControl(v),
  encode: (v, buf, off) => encodeBfdControl(v, buf, off),
  decode: (buf, off, end) => {
    const r = decodeBfdControl(buf, off, end);
    if (!r.ok) throw r.error;
    return r.value;
  },
};

/** Copy of the bytes as a plain array, so typed-array views compare by content. */
export function plain(p: BfdControl): unknown {
  if (p.auth === undefined) return p;
  const a = p.auth;
  return a.type === BfdAuthType.SIMPLE_PASSWORD
    ? { ...p, auth: { ...a, password: [...a.password] } }
    : { ...p, auth: { ...a, digest: [...a.digest] } };
}
