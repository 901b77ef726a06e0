// Runs every vector in test/vectors/ddm: Maghemite-compatibility discovery vectors and probe
// vectors. `ctx.packet` says which decoder a vector is for.

import { describe, expect, it } from 'vitest';
import {
  ddmDiscoveryFromJson,
  ddmDiscoveryToJson,
  ddmProbeFromJson,
  ddmProbeToJson,
  decodeDdmDiscovery,
  decodeDdmProbe,
  encodeDdmDiscovery,
  encodeDdmProbe,
  encodingLengthDdmDiscovery,
  encodingLengthDdmProbe,
  type DdmDecodeError,
  type DdmDiscoveryJson,
  type DdmProbeJson,
} from '../../../wire/ddm/index.js';
import type { Result } from '../../../wire/result.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { loadVectors, type Vector } from '../../support/vectors.js';

const vectors = loadVectors('ddm');

function decode(v: Vector, b: Uint8Array): Result<unknown, DdmDecodeError> {
  if (v.ctx?.['packet'] === 'discovery') {
    const r = decodeDdmDiscovery(b, 0, b.length);
    return r.ok ? { ok: true, value: ddmDiscoveryToJson(r.value) } : r;
  }
  const r = decodeDdmProbe(b, 0, b.length);
  return r.ok ? { ok: true, value: ddmProbeToJson(r.value) } : r;
}

function encode(v: Vector): string {
  if (v.ctx?.['packet'] === 'discovery') {
    const p = ddmDiscoveryFromJson(v.decoded as DdmDiscoveryJson);
    const b = new Uint8Array(encodingLengthDdmDiscovery(p));
    encodeDdmDiscovery(p, b, 0);
    return toHex(b);
  }
  const p = ddmProbeFromJson(v.decoded as DdmProbeJson);
  const b = new Uint8Array(encodingLengthDdmProbe(p));
  encodeDdmProbe(p, b, 0);
  return toHex(b);
}

describe('DDM vectors', () => {
  it('has discovery and probe vectors, valid and malformed', () => {
    const of = (kind: string) => vectors.filter((v) => v.ctx?.['packet'] === kind);
    expect(of('discovery').filter((v) => v.error === undefined).length).toBeGreaterThanOrEqual(8);
    expect(of('discovery').filter((v) => v.error !== undefined).length).toBeGreaterThanOrEqual(5);
    expect(of('probe').length).toBeGreaterThanOrEqual(8);
  });

  it.each(vectors.map((v) => [`${v.file}: ${v.name}`, v] as const))('%s', (_label, v) => {
    const r = decode(v, fromHex(v.hex));
    if (v.error !== undefined) {
      expect(r.ok ? 'decoded' : r.error.reason).toBe(v.error.reason);
      return;
    }
    expect(r.ok ? r.value : r.error.message).toEqual(v.decoded);
    if (v.reencode !== false) expect(encode(v)).toBe(v.hex);
  });
});
