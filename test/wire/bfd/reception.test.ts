// BFD reception checks (RFC 5880 §6.8.6, RFC 5881 §5): one test per discard reason, the accept
// paths, and a check that no reason in the catalogue goes untested.

import { describe, expect, it } from 'vitest';
import {
  BFD_DISCARD_REASONS,
  BfdAuthType,
  BfdState,
  bfdControlToBytes,
  receiveBfdControl,
  signBfdControl,
  type BfdAuthConfig,
  type BfdControl,
  type BfdDiscardReason,
  type BfdHopInfo,
  type BfdSessionView,
} from '../../../wire/bfd/index.js';

interface Session extends BfdSessionView {
  readonly name: string;
}

const md5Key = { id: 7, secret: Buffer.from('hypermuffin') };
const md5: BfdAuthConfig = { type: BfdAuthType.KEYED_MD5, keys: [md5Key] };
const pwKey = { id: 1, secret: Buffer.from('pw') };
const password: BfdAuthConfig = { type: BfdAuthType.SIMPLE_PASSWORD, keys: [pwKey] };

const sessions = new Map<number, Session>([
  [100, { name: 'plain' }],
  [200, { name: 'md5', auth: md5, authSeq: { known: true, lastSeq: 1000 } }],
  [300, { name: 'password', auth: password }],
]);
const bySource: Session = { name: 'by-source' };

function lookup(your: number): Session | undefined {
  return your === 0 ? bySource : sessions.get(your);
}

const up: BfdControl = {
  diag: 0,
  state: BfdState.UP,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 55,
  yourDiscriminator: 100,
  desiredMinTxInterval: 100000,
  requiredMinRxInterval: 100000,
  requiredMinEchoRxInterval: 0,
};

const singleHop: BfdHopInfo = { kind: 'single-hop', ttl: 255 };

function receive(buf: Uint8Array, hop: BfdHopInfo = singleHop, end?: number) {
  return receiveBfdControl<Session>(end === undefined ? { buf, hop, lookup } : { buf, hop, lookup, end });
}

function reasonOf(buf: Uint8Array, hop: BfdHopInfo = singleHop, end?: number): string {
  const r = receive(buf, hop, end);
  return r.verdict === 'accept' ? `accept:${r.session.name}` : r.reason;
}

function bytes(p: BfdControl): Uint8Array {
  return bfdControlToBytes(p);
}

function md5Bytes(p: BfdControl, sequence: number, key = md5Key): Uint8Array {
  return signBfdControl(p, { type: BfdAuthType.KEYED_MD5, key, sequence }).bytes;
}

function patched(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  c[at] = v;
  return c;
}

const cases: Record<BfdDiscardReason, () => string> = {
  truncated: () => reasonOf(bytes(up).subarray(0, 20)),
  'bad-version': () => reasonOf(patched(bytes(up), 0, 0x40)),
  'length-too-short': () => reasonOf(patched(bytes(up), 3, 20)),
  'length-exceeds-payload': () => {
    const b = bytes({
      ...up,
      auth: { type: BfdAuthType.SIMPLE_PASSWORD, keyId: 1, password: Buffer.from('pw') },
    });
    return reasonOf(b, singleHop, b.length - 1);
  },
  'bad-auth-type': () => reasonOf(patched(md5Bytes({ ...up, yourDiscriminator: 200 }, 1001), 24, 9)),
  'bad-auth-length': () => reasonOf(patched(md5Bytes({ ...up, yourDiscriminator: 200 }, 1001), 25, 20)),
  'detect-mult-zero': () => reasonOf(bytes({ ...up, detectMult: 0 })),
  multipoint: () => reasonOf(bytes({ ...up, multipoint: true })),
  'my-discriminator-zero': () => reasonOf(bytes({ ...up, myDiscriminator: 0 })),
  'your-discriminator-zero': () => reasonOf(bytes({ ...up, yourDiscriminator: 0, state: BfdState.INIT })),
  'no-session': () => reasonOf(bytes({ ...up, yourDiscriminator: 999 })),
  'bad-ttl': () => reasonOf(bytes(up), { kind: 'single-hop', ttl: 254 }),
  'auth-unexpected': () => reasonOf(md5Bytes(up, 1)),
  'auth-missing': () => reasonOf(bytes({ ...up, yourDiscriminator: 200 })),
  'auth-type-mismatch': () =>
    reasonOf(
      signBfdControl(
        { ...up, yourDiscriminator: 200 },
        { type: BfdAuthType.KEYED_SHA1, key: md5Key, sequence: 1001 },
      ).bytes,
    ),
  'auth-key-id': () =>
    reasonOf(md5Bytes({ ...up, yourDiscriminator: 200 }, 1001, { id: 8, secret: md5Key.secret })),
  'auth-password': () =>
    reasonOf(
      signBfdControl(
        { ...up, yourDiscriminator: 300 },
        { type: BfdAuthType.SIMPLE_PASSWORD, key: { id: 1, secret: Buffer.from('px') }, sequence: 0 },
      ).bytes,
    ),
  'auth-digest': () =>
    reasonOf(md5Bytes({ ...up, yourDiscriminator: 200 }, 1001, { id: 7, secret: Buffer.from('wrong') })),
  'auth-sequence': () => reasonOf(md5Bytes({ ...up, yourDiscriminator: 200 }, 1010)),
};

describe('BFD reception checks', () => {
  for (const reason of Object.keys(BFD_DISCARD_REASONS) as BfdDiscardReason[]) {
    it(`discards: ${reason}`, () => {
      expect(cases[reason]()).toBe(reason);
    });
  }

  it('accepts a plain packet for a known session', () => {
    const r = receive(bytes(up));
    expect(r.verdict).toBe('accept');
    if (r.verdict === 'accept') {
      expect(r.session.name).toBe('plain');
      expect(r.authSeq).toBeUndefined();
    }
  });

  it('accepts Your Discriminator 0 in Down and AdminDown, selecting by source', () => {
    expect(reasonOf(bytes({ ...up, yourDiscriminator: 0, state: BfdState.DOWN }))).toBe('accept:by-source');
    expect(reasonOf(bytes({ ...up, yourDiscriminator: 0, state: BfdState.ADMIN_DOWN }))).toBe(
      'accept:by-source',
    );
    expect(reasonOf(bytes({ ...up, yourDiscriminator: 0, state: BfdState.UP }))).toBe(
      'your-discriminator-zero',
    );
  });

  it('accepts keyed MD5 inside the window and returns the new sequence state', () => {
    const r = receive(md5Bytes({ ...up, yourDiscriminator: 200 }, 1009));
    expect(r.verdict).toBe('accept');
    if (r.verdict === 'accept') {
      expect(r.authSeq).toEqual({ known: true, lastSeq: 1009 });
      expect(r.key).toBe(md5Key);
    }
  });

  it('accepts the simple password that matches', () => {
    const b = signBfdControl(
      { ...up, yourDiscriminator: 300 },
      { type: BfdAuthType.SIMPLE_PASSWORD, key: pwKey, sequence: 0 },
    ).bytes;
    expect(reasonOf(b)).toBe('accept:password');
  });

  it('checks multihop TTL only against a configured minimum', () => {
    expect(reasonOf(bytes(up), { kind: 'multihop', ttl: 250 })).toBe('accept:plain');
    expect(reasonOf(bytes(up), { kind: 'multihop', ttl: 250, minTtl: 252 })).toBe('bad-ttl');
  });

  it('keeps the decoded packet on a discard that happens after decoding', () => {
    const r = receive(bytes({ ...up, multipoint: true }));
    expect(r.verdict === 'discard' && r.packet?.multipoint).toBe(true);
  });
});
