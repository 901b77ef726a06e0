// DDM exchange bodies: Maghemite-shaped bodies (nulls, tunnels, unknown fields) and ours (delay,
// version) are accepted; bad ones are rejected with messages that name the field and the fix.

import { describe, expect, it } from 'vitest';
import {
  destinationToPrefix6,
  formatDdmFieldErrors,
  isStalePathVersion,
  parseDdmJson,
  pathVectorKey,
  prefix6ToDestination,
  validateDdmPullResponse,
  validateDdmUpdate,
} from '../../../wire/ddm/index.js';
import { formatPrefix6, parsePrefix6 } from '../../../wire/ip/index.js';

// What Maghemite's serde writes for a v2 push from a transit router: both options present, the
// empty one as null.
const maghemitePush = {
  underlay: {
    announce: [
      { destination: { addr: 'fd00:1122:3344:101::', len: 64 }, path: ['sled-a', 'switch0'] },
      { destination: { addr: 'fd00:1122:3344:102::', len: 64 }, path: ['sled-b'] },
    ],
    withdraw: [],
  },
  tunnel: null,
};

const maghemitePull = {
  underlay: null,
  tunnel: [
    {
      overlay_prefix: { V4: { addr: '172.30.0.0', len: 22 } },
      boundary_addr: 'fd00:99::1',
      vni: 10,
      metric: 0,
    },
    { overlay_prefix: { V6: { addr: 'fd00:1::', len: 48 } }, boundary_addr: 'fd00:99::2', vni: 4294967295 },
  ],
};

function messages(v: unknown, which: 'update' | 'pull' = 'update'): string[] {
  const r = which === 'update' ? validateDdmUpdate(v) : validateDdmPullResponse(v);
  return r.ok ? [] : r.error.map((e) => e.message);
}

describe('DDM exchange schemas: accepted bodies', () => {
  it('accepts what Maghemite sends, nulls included', () => {
    expect(validateDdmUpdate(maghemitePush).ok).toBe(true);
    expect(validateDdmPullResponse(maghemitePull).ok).toBe(true);
    expect(validateDdmUpdate({}).ok).toBe(true);
    expect(validateDdmPullResponse({ underlay: null, tunnel: null }).ok).toBe(true);
    expect(validateDdmUpdate({ tunnel: { announce: maghemitePull.tunnel, withdraw: [] } }).ok).toBe(true);
  });

  it('accepts our additions and ignores unknown fields, as Maghemite does', () => {
    const ours = {
      underlay: {
        announce: [{ destination: { addr: 'fd00::', len: 48 }, path: ['a', 'b'], delay: 125, version: 7 }],
        withdraw: [{ destination: { addr: 'fd00:1::', len: 48 }, path: ['a'], delay: 0, version: 0 }],
      },
      future: { anything: true },
    };
    const r = validateDdmUpdate(ours);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.underlay?.announce[0]?.delay).toBe(125);
  });

  it('parses JSON text and reports syntax errors as a body problem', () => {
    expect(parseDdmJson(JSON.stringify(maghemitePush), validateDdmUpdate).ok).toBe(true);
    const bad = parseDdmJson('{"underlay": ', validateDdmUpdate);
    expect(!bad.ok && bad.error[0]?.message).toMatch(/^body is not JSON/);
  });
});

describe('DDM exchange schemas: rejected bodies say what to fix', () => {
  it('names an out-of-range prefix length and the allowed range', () => {
    const v = {
      underlay: { announce: [{ destination: { addr: 'fd00::', len: 200 }, path: ['a'] }], withdraw: [] },
    };
    expect(messages(v)).toEqual([
      'underlay.announce[0].destination.len must be a prefix length from 0 to 128, not 200',
    ]);
  });

  it('names a bad address', () => {
    const v = {
      underlay: { announce: [], withdraw: [{ destination: { addr: 'fd00::zz', len: 64 }, path: ['a'] }] },
    };
    expect(messages(v)).toEqual([
      'underlay.withdraw[0].destination.addr must be an IPv6 address such as "fd00:1122:3344:101::1", not "fd00::zz"',
    ]);
  });

  it('names missing fields', () => {
    const v = { underlay: { announce: [{ path: ['a'] }] } };
    const m = messages(v);
    expect(m).toContain('underlay.withdraw is missing; it must be a list of path vectors to withdraw');
    expect(m.some((x) => x.startsWith('underlay.announce[0].destination is missing'))).toBe(true);
  });

  it('rejects an empty path, an empty hostname, a negative or fractional delay', () => {
    const pv = (extra: object) => ({
      underlay: {
        announce: [{ destination: { addr: 'fd00::', len: 64 }, path: ['a'], ...extra }],
        withdraw: [],
      },
    });
    expect(messages(pv({ path: [] }))).toEqual([
      'underlay.announce[0].path must be a list of hostnames starting with the origin, not []',
    ]);
    expect(messages(pv({ path: ['a', ''] }))).toEqual([
      'underlay.announce[0].path[1] must be a router hostname of 1 to 255 characters, not ""',
    ]);
    expect(messages(pv({ delay: -1 }))[0]).toMatch(
      /^underlay\.announce\[0\]\.delay must be the accumulated delay/,
    );
    expect(messages(pv({ delay: 1.5 }))[0]).toMatch(/delay must be .* not 1\.5$/);
    expect(messages(pv({ version: 'x' }))[0]).toMatch(/^underlay\.announce\[0\]\.version must be/);
  });

  it('explains the V4/V6 overlay prefix shape', () => {
    const v = { underlay: null, tunnel: [{ overlay_prefix: { V5: {} }, boundary_addr: 'fd00::1', vni: 1 }] };
    expect(messages(v, 'pull')).toEqual([
      'tunnel[0].overlay_prefix must be an object with exactly one key, "V4" or "V6", holding {"addr", "len"}, not {"V5":{}}',
    ]);
    const v4 = {
      tunnel: [{ overlay_prefix: { V4: { addr: '10.0.0.0', len: 33 } }, boundary_addr: 'fd00::1', vni: 1 }],
    };
    expect(messages(v4, 'pull')).toEqual([
      'tunnel[0].overlay_prefix.V4.len must be a prefix length from 0 to 32, not 33',
    ]);
  });

  it('rejects a VNI beyond 32 bits and a body that is not an object', () => {
    const v = {
      tunnel: [
        { overlay_prefix: { V6: { addr: 'fd00::', len: 64 } }, boundary_addr: 'fd00::1', vni: 2 ** 32 },
      ],
    };
    expect(messages(v, 'pull')[0]).toMatch(/^tunnel\[0\]\.vni must be a VNI from 0 to 4294967295/);
    expect(messages([])).toEqual([
      'body must be an update object {"underlay"?: {...}, "tunnel"?: {...}}, not []',
    ]);
    expect(messages({ underlay: 3 })).toEqual([
      'underlay must be an object {"announce": [...], "withdraw": [...]} or null, not 3',
    ]);
  });

  it('joins several problems into one line', () => {
    const r = validateDdmUpdate({ underlay: { announce: 1, withdraw: 2 } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(formatDdmFieldErrors(r.error)).toBe(
        'underlay.announce must be a list of path vectors to announce, not 1; underlay.withdraw must be a list of path vectors to withdraw, not 2',
      );
    }
  });
});

describe('DDM destination conversions', () => {
  it('round-trips a Prefix6 through the JSON destination', () => {
    for (const text of ['fd00:1122:3344:101::/64', '::/0', 'fe80::1/128', '2001:db8::/32']) {
      const p = parsePrefix6(text);
      expect(p.ok).toBe(true);
      if (!p.ok) continue;
      const d = prefix6ToDestination(p.value);
      const back = destinationToPrefix6(d);
      expect(back.ok && formatPrefix6(back.value)).toBe(text);
    }
  });

  it('clears host bits by default and can refuse them instead', () => {
    const d = { addr: 'fd00::1', len: 64 };
    const cleared = destinationToPrefix6(d);
    expect(cleared.ok && formatPrefix6(cleared.value)).toBe('fd00::/64');
    const refused = destinationToPrefix6(d, 'reject');
    expect(!refused.ok && refused.error).toBe('fd00::1/64 has host bits set; did you mean fd00::/64?');
    expect(destinationToPrefix6({ addr: 'x', len: 1 }).ok).toBe(false);
  });

  it('keys a path vector by destination and path, not delay or version', () => {
    const a = { destination: { addr: 'fd00:0::', len: 64 }, path: ['a', 'b'], delay: 5, version: 1 };
    const b = { destination: { addr: 'fd00::', len: 64 }, path: ['a', 'b'] };
    expect(pathVectorKey(a)).toBe(pathVectorKey(b));
    expect(pathVectorKey(a)).not.toBe(pathVectorKey({ ...b, path: ['a'] }));
  });

  it('treats only an older known version as stale', () => {
    expect(isStalePathVersion(3, 4)).toBe(true);
    expect(isStalePathVersion(4, 4)).toBe(false);
    expect(isStalePathVersion(undefined, 4)).toBe(false);
    expect(isStalePathVersion(1, undefined)).toBe(false);
  });
});
