// Static routes as a RIB source: IPv4 and IPv6, interface next hops, distances against BGP,
// table replacement that touches only what changed, and change reports for BGP export.
import { describe, expect, it } from 'vitest';
import { MemoryConnectedRoutes } from '../../rib/connected.js';
import { Rib } from '../../rib/rib.js';
import { parseAddr4, parseAddr6, parsePrefix, prefix4, type Prefix } from '../../wire/ip/index.js';
import { StaticRoutes, staticSourceId } from '../../mgd/static/static.js';
import { prefixOf } from '../../rib/entry.js';

const P = (s: string): Prefix => {
  const r = parsePrefix(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const A4 = (s: string) => (parseAddr4(s) as { ok: true; value: number }).value;
const A6 = (s: string) => {
  const r = parseAddr6(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

function setup() {
  const conn = new MemoryConnectedRoutes();
  conn.set([{ afi: 4, prefix: prefix4(A4('10.0.0.0'), 24), ifname: 'eth0' }], ['eth0', 'eth1']);
  const rib = new Rib({ connected: conn });
  const touched: Prefix[] = [];
  rib.onBestChange((e) => touched.push(prefixOf(e)));
  return { rib, statics: new StaticRoutes(rib), touched };
}

describe('static routes', () => {
  it('installs IPv4 and IPv6 routes with interface next hops and weights', () => {
    const { rib, statics } = setup();
    statics.set([
      {
        prefix: P('192.0.2.0/24'),
        nexthops: [{ addr: A4('10.0.0.1') }, { addr: A4('10.0.0.2'), weight: 3 }],
      },
      { prefix: P('2001:db8::/32'), nexthops: [{ addr: A6('fe80::1'), ifname: 'eth1' }] },
    ]);
    const v4 = rib.selected(P('192.0.2.0/24'));
    expect(v4?.paths[0]?.source.kind).toBe('static');
    expect(v4?.nexthops).toHaveLength(2);
    const v6 = rib.selected(P('2001:db8::/32'));
    expect(v6?.nexthops[0]?.ifname).toBe('eth1');
    expect(statics.list()).toHaveLength(2);
  });

  it('a route whose next hop does not resolve is kept but not selected', () => {
    const { rib, statics } = setup();
    statics.add({ prefix: P('192.0.2.0/24'), nexthops: [{ addr: A4('172.16.0.1') }] });
    expect(rib.paths(P('192.0.2.0/24'))).toHaveLength(1);
    expect(rib.selected(P('192.0.2.0/24'))).toBeUndefined();
  });

  it('beats BGP by default and loses with a distance above BGP', () => {
    const { rib, statics } = setup();
    rib.addSource({ id: 'bgp:10.0.0.9', kind: 'bgp', ebgp: true, peerAddr: A4('10.0.0.9'), routerId: 9 });
    const p = P('198.51.100.0/24');
    rib.addPath(p, { source: 'bgp:10.0.0.9', attrs: { origin: 0 }, nexthops: [{ addr: A4('10.0.0.9') }] });
    statics.add({ prefix: p, nexthops: [{ addr: A4('10.0.0.1') }] });
    expect(rib.selected(p)?.paths[0]?.source.id).toBe('static');
    statics.add({ prefix: p, nexthops: [{ addr: A4('10.0.0.1') }], distance: 200 });
    expect(rib.selected(p)?.paths[0]?.source.id).toBe('bgp:10.0.0.9');
    // The route moved to the distance-200 source: only one static path remains.
    expect(
      rib
        .paths(p)
        .filter((x) => x.source.kind === 'static')
        .map((x) => x.source.id),
    ).toEqual([staticSourceId(200)]);
    statics.remove(p);
    expect(rib.paths(p)).toHaveLength(1);
  });

  it('replacing the table touches only what changed and reports it', () => {
    const { rib, statics, touched } = setup();
    const a = { prefix: P('192.0.2.0/24'), nexthops: [{ addr: A4('10.0.0.1') }] };
    const b = { prefix: P('198.51.100.0/24'), nexthops: [{ addr: A4('10.0.0.1') }] };
    statics.set([a, b]);
    touched.length = 0;
    statics.set([a, { ...b, nexthops: [{ addr: A4('10.0.0.2') }] }]);
    expect(touched).toEqual([b.prefix]);
    touched.length = 0;
    statics.set([a]);
    expect(touched).toEqual([b.prefix]);
    expect(rib.selected(b.prefix)).toBeUndefined();
    expect(() => statics.set([a, a])).toThrow(/listed twice/);
    expect(rib.selected(a.prefix)).toBeDefined();
  });
});
