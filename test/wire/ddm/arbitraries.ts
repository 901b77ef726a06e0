// fast-check arbitraries and codec adapters for the DDM discovery and probe packets.

import fc from 'fast-check';
import {
  checkDdmHostname,
  decodeDdmDiscovery,
  decodeDdmProbe,
  DdmProbeType,
  DdmRouterKind,
  encodeDdmDiscovery,
  encodeDdmProbe,
  encodingLengthDdmDiscovery,
  encodingLengthDdmProbe,
  type DdmDiscovery,
  type DdmProbe,
} from '../../../wire/ddm/index.js';
import type { Codec } from '../../support/codec-laws.js';

export const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Hostnames of 1–255 UTF-8 bytes, ASCII and beyond. */
export const hostname = fc
  .oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,62}$/),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 63 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 200, maxLength: 255 }),
  )
  .filter((h) => checkDdmHostname(h) === undefined);

export const discovery: fc.Arbitrary<DdmDiscovery> = fc.record({
  version: fc.integer({ min: 0, max: 255 }),
  solicit: fc.boolean(),
  advertise: fc.boolean(),
  kind: fc.constantFrom(DdmRouterKind.SERVER, DdmRouterKind.TRANSIT),
  hostname,
});

export const probe: fc.Arbitrary<DdmProbe> = fc.oneof(
  fc.record({ type: fc.constant(DdmProbeType.REQUEST), sequence: u32, instance: u32, t1: u32 }),
  fc.record({
    type: fc.constant(DdmProbeType.REPLY),
    sequence: u32,
    instance: u32,
    requesterInstance: u32,
    t1: u32,
    t2: u32,
    t3: u32,
  }),
);

export const discoveryCodec: Codec<DdmDiscovery> = {
  encodingLength: (v) => encodingLengthDdmDiscovery(v),
  encode: (v, buf, off) => encodeDdmDiscovery(v, buf, off),
  decode: (buf, off, end) => {
    const r = decodeDdmDiscovery(buf, off, end);
    if (!r.ok) throw r.error;
    return r.value;
  },
};

export const probeCodec: Codec<DdmProbe> = {
  encodingLength: (v) => encodingLengthDdmProbe(v),
  encode: (v, buf, off) => encodeDdmProbe(v, buf, off),
  decode: (buf, off, end) => {
    const r = decodeDdmProbe(buf, off, end);
    if (!r.ok) throw r.error;
    return r.value;
  },
};
