// Runs every vector in test/vectors/bfd: decode to the JSON rendering (or to the named error),
// re-encode from the JSON, and verify the authentication of vectors that carry a key.

import { describe, expect, it } from 'vitest';
import {
  bfdControlFromJson,
  bfdControlToBytes,
  bfdControlToJson,
  decodeBfdControl,
  verifyBfdAuth,
  BFD_AUTH_TYPE_NAMES,
  BfdAuthType,
  type BfdAuthType as AuthType,
  type BfdControlJson,
} from '../../../wire/bfd/index.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { loadVectors } from '../../support/vectors.js';

const vectors = loadVectors('bfd');

function typeOf(name: string): AuthType {
  const hit = Object.entries(BFD_AUTH_TYPE_NAMES).find(([, n]) => n === name);
  return hit === undefined ? BfdAuthType.SIMPLE_PASSWORD : (Number(hit[0]) as AuthType);
}

describe('BFD vectors', () => {
  it('has vectors, valid and malformed', () => {
    expect(vectors.filter((v) => v.error === undefined).length).toBeGreaterThanOrEqual(15);
    expect(vectors.filter((v) => v.error !== undefined).length).toBeGreaterThanOrEqual(10);
  });

  it.each(vectors.map((v) => [`${v.file}: ${v.name}`, v] as const))('%s', (_label, v) => {
    const bytes = fromHex(v.hex);
    const r = decodeBfdControl(bytes, 0, bytes.length);
    if (v.error !== undefined) {
      expect(r.ok ? 'decoded' : r.error.reason).toBe(v.error.reason);
      return;
    }
    expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
    if (!r.ok) return;
    expect(bfdControlToJson(r.value)).toEqual(v.decoded);
    if (v.reencode !== false) {
      const parsed = bfdControlFromJson(v.decoded as BfdControlJson);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(toHex(bfdControlToBytes(parsed.value))).toBe(v.hex);
    }
    const key = v.ctx?.['key'];
    if (typeof key === 'string') {
      const json = v.decoded as BfdControlJson;
      const type = typeOf(json.auth?.type ?? '');
      const keys = [{ id: Number(v.ctx?.['keyId']), secret: fromHex(key) }];
      expect(verifyBfdAuth(bytes, 0, r.value, { type, keys }).ok).toBe(true);
      const wrong = [{ id: keys[0]!.id, secret: fromHex(key + '01') }];
      expect(verifyBfdAuth(bytes, 0, r.value, { type, keys: wrong }).ok).toBe(false);
    }
  });
});
