// DDM discovery packet: round-trip laws, and the behaviour decided against Maghemite's parser.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DDM_DISCOVERY_PORT,
  DdmRouterKind,
  checkDdmHostname,
  ddmAdvertisement,
  ddmSolicitation,
  decodeDdmDiscovery,
  encodingLengthDdmDiscovery,
  isUsableAdvertisement,
  type DdmDiscovery,
} from '../../../wire/ddm/index.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { checkCodec } from '../../support/codec-laws.js';
import { discovery, discoveryCodec } from './arbitraries.js';

function decodeHex(hex: string) {
  const b = fromHex(hex);
  return decodeDdmDiscovery(b, 0, b.length);
}

function bytesOf(p: DdmDiscovery): string {
  return toHex(checkCodec(discoveryCodec, p, undefined));
}

describe('DDM discovery codec', () => {
  it('satisfies the round-trip laws', () => {
    fc.assert(
      fc.property(discovery, (p) => {
        checkCodec(discoveryCodec, p, undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes what Maghemite writes for a solicitation and an advertisement', () => {
    expect(DDM_DISCOVERY_PORT).toBe(3549);
    // version 2, flags S, kind server, len 6, "sled-a"
    expect(bytesOf(ddmSolicitation('sled-a', DdmRouterKind.SERVER))).toBe('02010006' + '736c65642d61');
    expect(bytesOf(ddmAdvertisement('switch0', DdmRouterKind.TRANSIT))).toBe(
      '02020107' + toHex(Buffer.from('switch0')),
    );
  });

  it('ignores reserved flag bits and trailing bytes, as Maghemite does', () => {
    const r = decodeHex('02ff0001' + '61' + 'deadbeef');
    expect(r.ok && r.value).toEqual({ version: 2, solicit: true, advertise: true, kind: 0, hostname: 'a' });
  });

  it('decodes any version and uses only version 2 and 3 advertisements', () => {
    const v = (version: number, advertise = true) => ({
      ...ddmAdvertisement('x', DdmRouterKind.SERVER),
      version,
      advertise,
    });
    expect(decodeHex('07020001' + '78').ok).toBe(true);
    expect(isUsableAdvertisement(v(2))).toBe(true);
    expect(isUsableAdvertisement(v(3))).toBe(true);
    expect(isUsableAdvertisement(v(1))).toBe(false);
    expect(isUsableAdvertisement(v(4))).toBe(false);
    expect(isUsableAdvertisement(v(2, false))).toBe(false);
  });

  it('rejects an unknown router kind, an empty or non-UTF-8 hostname and a short datagram', () => {
    const reason = (hex: string) => {
      const r = decodeHex(hex);
      return r.ok ? 'ok' : r.error.reason;
    };
    expect(reason('02010201' + '61')).toBe('unknown-kind');
    expect(reason('02010000')).toBe('empty-hostname');
    expect(reason('02010002' + 'c328')).toBe('bad-hostname');
    expect(reason('02010003' + 'eda080')).toBe('bad-hostname');
    expect(reason('020100')).toBe('truncated');
    expect(reason('02010005' + '61626364')).toBe('truncated');
    expect(reason('02010004' + 'f09f9a80')).toBe('ok');
  });

  it('keeps a leading byte-order mark as part of the name', () => {
    const r = decodeHex('02010003' + 'efbbbf');
    expect(r.ok && r.value.hostname).toBe('\ufeff');
  });

  it('refuses to encode names the length byte cannot carry', () => {
    expect(checkDdmHostname('a'.repeat(255))).toBeUndefined();
    expect(checkDdmHostname('a'.repeat(256))).toMatch(/256 bytes/);
    expect(checkDdmHostname('é'.repeat(128))).toMatch(/256 bytes/);
    expect(checkDdmHostname('')).toMatch(/empty/);
    expect(checkDdmHostname('a\ud800')).toMatch(/surrogate/);
    expect(() => encodingLengthDdmDiscovery(ddmSolicitation('a'.repeat(256), DdmRouterKind.SERVER))).toThrow(
      RangeError,
    );
  });
});
