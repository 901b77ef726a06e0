// OPEN checks and capability negotiation (mgd/bgp/negotiate.ts).
import { describe, expect, it } from 'vitest';
import {
  AFISAFI_IPV4_UNICAST,
  AFISAFI_IPV6_UNICAST,
  AS_TRANS,
  BgpRole,
  OpenSubcode,
} from '../../../wire/bgp/constants.js';
import type { Capability, OpenMessage } from '../../../wire/bgp/types.js';
import {
  localCapabilities,
  myAsField,
  negotiate,
  type LocalSessionSettings,
} from '../../../mgd/bgp/negotiate.js';

const local: LocalSessionSettings = {
  asn: 65001,
  bgpId: 0x0a000001,
  holdTime: 90,
  families: [AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST],
  peerAsn: 4200000000,
  extendedMessage: true,
  enhancedRouteRefresh: true,
  extendedNextHop: [AFISAFI_IPV4_UNICAST],
  addPath: new Map([[AFISAFI_IPV4_UNICAST, 'both' as const]]),
  gracefulRestartTime: 120,
};

function open(caps: Capability[], over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 1,
    version: 4,
    myAs: AS_TRANS,
    holdTime: 90,
    bgpId: 0x0a000002,
    params: [{ kind: 'capabilities', capabilities: caps }],
    extendedParams: false,
    ...over,
  };
}

const peer4 = { kind: 'four-octet-as', asn: 4200000000 } as const;

describe('negotiate', () => {
  it('takes the peer ASN from the 4-octet capability and intersects families', () => {
    const r = negotiate(
      local,
      open([
        peer4,
        { kind: 'multiprotocol', afi: 1, safi: 1 },
        { kind: 'route-refresh' },
        { kind: 'extended-message' },
      ]),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.peerAsn).toBe(4200000000);
    expect(r.value.ibgp).toBe(false);
    expect([...r.value.families]).toEqual([AFISAFI_IPV4_UNICAST]);
    expect(r.value.fourOctetAs).toBe(true);
    expect(r.value.extendedMessage).toBe(true);
    expect(r.value.routeRefresh).toBe(true);
    expect(r.value.enhancedRouteRefresh).toBe(false);
    expect(r.value.rx).toEqual({ fourOctetAs: true, extendedMessage: true, addPath: new Set() });
  });

  it('treats a peer without multiprotocol capabilities as IPv4 unicast only (RFC 4760 §8)', () => {
    const r = negotiate({ ...local, peerAsn: 65002 }, open([], { myAs: 65002 }));
    expect(r.ok && [...r.value.families]).toEqual([AFISAFI_IPV4_UNICAST]);
    expect(r.ok && r.value.fourOctetAs).toBe(false);
  });

  it('refuses a wrong peer AS, AS_TRANS without the capability, and a disagreeing My AS', () => {
    const wrong = negotiate(local, open([{ kind: 'four-octet-as', asn: 65009 }], { myAs: 65009 }));
    expect(!wrong.ok && wrong.error.subcode).toBe(OpenSubcode.BAD_PEER_AS);
    const trans = negotiate({ ...local, peerAsn: AS_TRANS }, open([]));
    expect(!trans.ok && trans.error.subcode).toBe(OpenSubcode.BAD_PEER_AS);
    const disagree = negotiate(local, open([peer4], { myAs: 65010 }));
    expect(!disagree.ok && disagree.error.why).toContain('disagrees');
  });

  it('refuses our own BGP identifier on iBGP only (RFC 6286 §2.2)', () => {
    const ibgp = negotiate(
      { ...local, peerAsn: 65001 },
      open([{ kind: 'four-octet-as', asn: 65001 }], { myAs: 65001, bgpId: local.bgpId }),
    );
    expect(!ibgp.ok && ibgp.error.subcode).toBe(OpenSubcode.BAD_BGP_IDENTIFIER);
    const ebgp = negotiate(local, open([peer4], { bgpId: local.bgpId }));
    expect(ebgp.ok).toBe(true);
  });

  it('refuses hold times of 1 and 2 seconds', () => {
    const r = negotiate(local, open([peer4], { holdTime: 2 }));
    expect(!r.ok && r.error.subcode).toBe(OpenSubcode.UNACCEPTABLE_HOLD_TIME);
  });

  it('refuses a peer with no family in common, naming ours in the data', () => {
    const r = negotiate(
      { ...local, families: [AFISAFI_IPV6_UNICAST] },
      open([peer4, { kind: 'multiprotocol', afi: 1, safi: 1 }]),
    );
    expect(!r.ok && r.error.subcode).toBe(OpenSubcode.UNSUPPORTED_CAPABILITY);
    expect(!r.ok && [...r.error.data]).toEqual([1, 4, 0, 2, 0, 1]);
  });

  it('checks BGP roles (RFC 9234)', () => {
    const mine = { ...local, role: BgpRole.PROVIDER };
    expect(negotiate(mine, open([peer4, { kind: 'bgp-role', role: BgpRole.CUSTOMER }])).ok).toBe(true);
    const bad = negotiate(mine, open([peer4, { kind: 'bgp-role', role: BgpRole.PEER }]));
    expect(!bad.ok && bad.error.subcode).toBe(OpenSubcode.ROLE_MISMATCH);
    expect(negotiate(mine, open([peer4])).ok).toBe(true);
    expect(negotiate({ ...mine, strictRole: true }, open([peer4])).ok).toBe(false);
  });

  it('works out ADD-PATH directions and extended next hop per family', () => {
    const r = negotiate(
      local,
      open([
        peer4,
        { kind: 'multiprotocol', afi: 1, safi: 1 },
        { kind: 'add-path', entries: [{ afi: 1, safi: 1, sendReceive: 2 }] },
        { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      ]),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([...r.value.addPathRx]).toEqual([AFISAFI_IPV4_UNICAST]);
    expect([...r.value.addPathTx]).toEqual([]);
    expect([...r.value.extendedNextHop]).toEqual([AFISAFI_IPV4_UNICAST]);
  });

  it('reads graceful restart and FQDN', () => {
    const r = negotiate(
      local,
      open([
        peer4,
        {
          kind: 'graceful-restart',
          restarting: true,
          notification: false,
          restartTime: 90,
          families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
        },
        { kind: 'fqdn', hostname: 'sw0', domain: 'rack' },
      ]),
    );
    expect(r.ok && r.value.gracefulRestart).toEqual({
      restartTime: 90,
      restarting: true,
      notification: false,
      families: new Map([[AFISAFI_IPV4_UNICAST, true]]),
    });
    expect(r.ok && r.value.peerHostname).toBe('sw0.rack');
  });

  it('advertises what the settings ask for', () => {
    const kinds = localCapabilities(local).map((c) => c.kind);
    expect(kinds).toEqual([
      'multiprotocol',
      'multiprotocol',
      'route-refresh',
      'enhanced-route-refresh',
      'four-octet-as',
      'extended-message',
      'extended-next-hop',
      'add-path',
      'graceful-restart',
    ]);
    expect(myAsField(4200000000)).toBe(AS_TRANS);
    expect(myAsField(65001)).toBe(65001);
  });
});
