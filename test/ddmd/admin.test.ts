// The ddmd admin API through fastify's inject, against daemons in an in-memory rack.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDdmAdmin } from '../../ddmd/admin.js';
import { AdminConfigError, type AdminServer } from '../../lib/admin.js';
import { Rack } from './memory-rack.js';

// Parsed JSON bodies, read loosely as tests do.
type Json = ReturnType<typeof JSON.parse>;

let rack: Rack;
let dir: string;
const servers: AdminServer[] = [];

function admin(node: string, opts: { host?: string; token?: string } = {}): AdminServer {
  const s = createDdmAdmin(rack.node(node).d, {
    host: opts.host ?? '127.0.0.1',
    port: 0,
    clock: rack.clock,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  });
  servers.push(s);
  return s;
}

async function call(
  s: AdminServer,
  method: 'GET' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const r = await s.app.inject({ method, url, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: r.statusCode, json: r.body === '' ? undefined : JSON.parse(r.body) };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddm-admin-'));
  rack = new Rack();
  await rack.build(2, (n) => join(dir, `${n}.json`));
  await rack.run(3000);
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await rack.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ddmd admin API: status', () => {
  it('GET /peers lists each interface with its neighbour and RTT statistics', async () => {
    const r = await call(admin('sled0'), 'GET', '/peers');
    expect(r.status).toBe(200);
    expect(r.json.map((p: Json) => [p.ifname, p.state, p.hostname, p.kind, p.addr])).toEqual([
      ['eth0', 'exchange', 'sw0', 'transit', 'fe80::100:1'],
      ['eth1', 'exchange', 'sw1', 'transit', 'fe80::200:1'],
    ]);
    const p = r.json[0];
    // The fabric's link delay is 0.05 ms each way: an RTT of about 100 µs.
    expect(p.rtt.srtt_us).toBeGreaterThan(50);
    expect(p.rtt.srtt_us).toBeLessThan(500);
    expect(p.rtt.min_us).toBeLessThanOrEqual(p.rtt.srtt_us);
    expect(p.rtt.jitter_us).toBeGreaterThanOrEqual(0);
    expect(p.rtt.loss).toBe(0);
    expect(p.rtt.alive).toBe(true);
    expect(p.rtt.sent).toBeGreaterThan(10);
    expect(typeof p.reason).toBe('string');
    expect(p.duration_ms).toBeGreaterThan(0);
  });

  it('GET /prefixes shows next hops with path, delay and weight, and the imported path vectors', async () => {
    const r = await call(admin('sled0'), 'GET', '/prefixes');
    expect(r.status).toBe(200);
    expect(r.json.routes.map((x: Json) => x.destination)).toEqual(['fd00:2::/64']);
    const hops = r.json.routes[0].next_hops;
    expect(hops.map((h: Json) => [h.ifname, h.nexthop, h.hostname, h.path, h.weight])).toEqual([
      ['eth0', 'fe80::100:1', 'sw0', ['sled1', 'sw0'], 100],
      ['eth1', 'fe80::200:1', 'sw1', ['sled1', 'sw1'], 100],
    ]);
    for (const h of hops) expect(h.delay_us).toBeGreaterThan(0);
    expect(r.json.imported.map((x: Json) => [x.ifname, x.hostname, x.kind])).toEqual([
      ['eth0', 'sw0', 'transit'],
      ['eth1', 'sw1', 'transit'],
    ]);
    const pv = r.json.imported[0].paths;
    expect(pv.map((x: Json) => [x.destination, x.path])).toEqual([['fd00:2::/64', ['sled1', 'sw0']]]);
    expect(pv[0].delay_us).toBeGreaterThan(0);
  });

  it('GET /fib/errors lists the routes the kernel refused', async () => {
    const sled0 = rack.node('sled0');
    sled0.fib.refuse = (r) =>
      r.afi === 6 && r.prefix.toString() === 'fd00:2::/64' ? 'Network is down' : undefined;
    // Make the route change so that the lower half applies it again and meets the refusal.
    rack.fabric.setLink('sled0', 'eth1', { up: false });
    await rack.run(1500);
    const r = await call(admin('sled0'), 'GET', '/fib/errors');
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toMatchObject({ prefix: 'fd00:2::/64', error: 'Network is down' });
    expect(r.json[0].attempts).toBeGreaterThanOrEqual(1);
  });
});

describe('ddmd admin API: origination', () => {
  it('PUT /prefix originates, GET /originated shows it, the other sled learns it, DELETE withdraws', async () => {
    const s = admin('sled0');
    const put = await call(s, 'PUT', '/prefix', { prefixes: ['fd00:99::/64', 'fd00:1::/64'] });
    expect(put).toEqual({ status: 200, json: { changed: ['fd00:99::/64'] } });
    expect((await call(s, 'GET', '/originated')).json).toEqual(['fd00:1::/64', 'fd00:99::/64']);
    await rack.run(300);
    const other = await call(admin('sled1'), 'GET', '/prefixes');
    expect(other.json.routes.map((x: Json) => x.destination)).toEqual(['fd00:1::/64', 'fd00:99::/64']);
    const del = await call(s, 'DELETE', '/prefix', { prefixes: ['fd00:99::/64', 'fd00:77::/64'] });
    expect(del).toEqual({ status: 200, json: { changed: ['fd00:99::/64'] } });
    await rack.run(300);
    expect(
      (await call(admin('sled1'), 'GET', '/prefixes')).json.routes.map((x: Json) => x.destination),
    ).toEqual(['fd00:1::/64']);
  });

  it('originated prefixes survive a restart with the same state file', async () => {
    const s = admin('sled0');
    await call(s, 'PUT', '/prefix', { prefixes: ['fd00:99::/64'] });
    const file = join(dir, 'sled0.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).originated).toEqual(['fd00:1::/64', 'fd00:99::/64']);
    const old = rack.node('sled0');
    await old.d.stop();
    const d = rack.daemon('sled0', old.interfaces, old.fib, file);
    rack.nodes.set('sled0', { ...old, d });
    await d.start();
    const r = await call(admin('sled0'), 'GET', '/originated');
    expect(r.json).toEqual(['fd00:1::/64', 'fd00:99::/64']);
  });

  it('tunnel endpoints: originate, list, learn on the switch, withdraw', async () => {
    const s = admin('sled0');
    const t = { overlay_prefix: { V4: { addr: '10.1.0.0', len: 16 } }, boundary_addr: 'FD00:1::1', vni: 100 };
    const put = await call(s, 'PUT', '/tunnel_endpoint', { endpoints: [t] });
    expect(put.status).toBe(200);
    const canonical = { ...t, boundary_addr: 'fd00:1::1', metric: 0 };
    expect(put.json.changed).toEqual([canonical]);
    expect((await call(s, 'GET', '/originated_tunnel_endpoints')).json).toEqual([canonical]);
    await rack.run(300);
    const learned = await call(admin('sw0'), 'GET', '/tunnel_endpoints');
    expect(learned.json).toEqual([
      { origin: canonical, ifname: 'p0', nexthop: 'fe80::1:1', hostname: 'sled0' },
    ]);
    // The same origin written differently is the same origin.
    const del = await call(s, 'DELETE', '/tunnel_endpoint', {
      endpoints: [
        { vni: 100, boundary_addr: 'fd00:1:0::1', overlay_prefix: { V4: { addr: '10.1.0.0', len: 16 } } },
      ],
    });
    expect(del.json.changed).toEqual([canonical]);
    expect((await call(s, 'GET', '/originated_tunnel_endpoints')).json).toEqual([]);
  });
});

describe('ddmd admin API: control', () => {
  it('DELETE /peers/{ifname} expires the neighbour, which comes back', async () => {
    const s = admin('sled0');
    const r = await call(s, 'DELETE', '/peers/eth0');
    expect(r).toEqual({ status: 200, json: { ifname: 'eth0', previous_state: 'exchange' } });
    const peers = (await call(s, 'GET', '/peers')).json;
    expect(peers[0].state).toBe('solicit');
    expect(peers[0].hostname).toBeUndefined();
    await rack.run(3000);
    expect((await call(s, 'GET', '/peers')).json[0].state).toBe('exchange');
  });

  it('PUT /sync pulls from every neighbour', async () => {
    expect(await call(admin('sled0'), 'PUT', '/sync')).toEqual({ status: 200, json: { peers: 2 } });
    expect(await call(admin('sw0'), 'PUT', '/sync')).toEqual({ status: 200, json: { peers: 2 } });
  });
});

describe('ddmd admin API: bad requests', () => {
  const cases: [string, 'PUT' | 'DELETE', string, unknown, number, string, RegExp][] = [
    [
      'malformed prefix',
      'PUT',
      '/prefix',
      { prefixes: ['fd00::/129'] },
      400,
      'DDM_ERR_BAD_PREFIX',
      /^body\.prefixes\[0\]: must be an IPv6 prefix such as fd00:1::\/64; .*length '129'/,
    ],
    [
      'IPv4 prefix',
      'PUT',
      '/prefix',
      { prefixes: ['fd00:1::/64', '10.0.0.0/8'] },
      400,
      'DDM_ERR_BAD_PREFIX',
      /^body\.prefixes\[1\]: must be an IPv6 prefix/,
    ],
    [
      'host bits set',
      'DELETE',
      '/prefix',
      { prefixes: ['fd00:1::1/64'] },
      400,
      'DDM_ERR_BAD_PREFIX',
      /body\.prefixes\[0\].*host bits set; the network is fd00:1::\/64/,
    ],
    [
      'a string for the list',
      'PUT',
      '/prefix',
      { prefixes: 'fd00:1::/64' },
      400,
      'ADMIN_ERR_VALIDATION',
      /^body\.prefixes: must be a list of IPv6 prefixes such as \["fd00:1::\/64"\], not "fd00:1::\/64"$/,
    ],
    [
      'a number in the list',
      'PUT',
      '/prefix',
      { prefixes: [64] },
      400,
      'ADMIN_ERR_VALIDATION',
      /^body\.prefixes\[0\]: must be an IPv6 prefix such as fd00:1::\/64, not 64$/,
    ],
    [
      'missing field',
      'PUT',
      '/prefix',
      {},
      400,
      'ADMIN_ERR_VALIDATION',
      /^body\.prefixes is missing; it must be a list of IPv6 prefixes/,
    ],
    [
      'misspelt field',
      'PUT',
      '/prefix',
      { prefixes: [], prefix: ['fd00::/64'] },
      400,
      'ADMIN_ERR_VALIDATION',
      /^body has an unknown key "prefix"; allowed: prefixes$/,
    ],
    [
      'unknown interface',
      'DELETE',
      '/peers/eth9',
      undefined,
      404,
      'DDM_ERR_NO_SUCH_INTERFACE',
      /^params\.ifname: ddmd does not run on "eth9"; its interfaces are eth0, eth1$/,
    ],
    [
      'overlong interface name',
      'DELETE',
      '/peers/abcdefghijklmnopq',
      undefined,
      400,
      'ADMIN_ERR_VALIDATION',
      /^params\.ifname: must be an interface name such as eth0/,
    ],
    [
      'tunnel with host bits',
      'PUT',
      '/tunnel_endpoint',
      {
        endpoints: [
          { overlay_prefix: { V6: { addr: 'fd00:5::1', len: 64 } }, boundary_addr: 'fd00::1', vni: 1 },
        ],
      },
      400,
      'DDM_ERR_BAD_PREFIX',
      /^body\.endpoints\[0\]\.overlay_prefix\.V6: .*host bits/,
    ],
    [
      'tunnel with a bad union',
      'PUT',
      '/tunnel_endpoint',
      { endpoints: [{ overlay_prefix: { V5: {} }, boundary_addr: 'fd00::1', vni: 1 }] },
      400,
      'ADMIN_ERR_VALIDATION',
      /^body\.endpoints\[0\]\.overlay_prefix: must be an object with exactly one key, "V4" or "V6"/,
    ],
    [
      'tunnel with a bad address',
      'PUT',
      '/tunnel_endpoint',
      {
        endpoints: [
          { overlay_prefix: { V4: { addr: '10.0.0.0', len: 8 } }, boundary_addr: 'fd00::g', vni: 1 },
        ],
      },
      400,
      'ADMIN_ERR_VALIDATION',
      /^body\.endpoints\[0\]\.boundary_addr: must be an IPv6 address/,
    ],
  ];
  for (const [name, method, url, body, status, code, message] of cases) {
    it(`${name}: ${status} ${code}`, async () => {
      const r = await call(admin('sled0'), method, url, body);
      expect(r.status).toBe(status);
      expect(r.json.code).toBe(code);
      expect(r.json.message).toMatch(message);
      expect(Object.keys(r.json).sort()).toEqual(['code', 'message']);
    });
  }

  it('nothing is originated by a refused request', async () => {
    const s = admin('sled0');
    await call(s, 'PUT', '/prefix', { prefixes: ['fd00:99::/64', 'fd00:98::1/64'] });
    expect((await call(s, 'GET', '/originated')).json).toEqual(['fd00:1::/64']);
  });

  it('a body that is not JSON, a wrong content type and an unknown endpoint', async () => {
    const s = admin('sled0');
    const bad = await s.app.inject({
      method: 'PUT',
      url: '/prefix',
      headers: { 'content-type': 'application/json' },
      payload: '{"prefixes": [',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'ADMIN_ERR_BAD_REQUEST' });
    expect(bad.json().message).toBe('body: is not valid JSON');
    const text = await s.app.inject({
      method: 'PUT',
      url: '/prefix',
      headers: { 'content-type': 'text/plain' },
      payload: 'fd00::/64',
    });
    // fastify reads text/plain as a string, which is not the object the schema wants.
    expect(text.statusCode).toBe(400);
    expect(text.json()).toEqual({
      code: 'ADMIN_ERR_VALIDATION',
      message: 'body: must be an object {"prefixes": ["fd00:1::/64", ...]}, not "fd00::/64"',
    });
    const xml = await s.app.inject({
      method: 'PUT',
      url: '/prefix',
      headers: { 'content-type': 'application/xml' },
      payload: '<prefixes/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('ADMIN_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(xml.json().message).toMatch(/application\/json/);
    const missing = await call(s, 'GET', '/routes');
    expect(missing).toEqual({
      status: 404,
      json: { code: 'ADMIN_ERR_NOT_FOUND', message: 'no endpoint GET /routes' },
    });
  });
});

describe('ddmd admin API: access', () => {
  it('refuses to bind a non-loopback address without a token', () => {
    expect(() => admin('sled0', { host: '0.0.0.0' })).toThrow(AdminConfigError);
    expect(() => admin('sled0', { host: '::' })).toThrow(/not a loopback address/);
    expect(() => admin('sled0', { host: '::1' })).not.toThrow();
  });

  it('with a token every request must carry it', async () => {
    const s = admin('sled0', { host: '0.0.0.0', token: 's3cret' });
    const none = await s.app.inject({ method: 'GET', url: '/peers' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json()).toMatchObject({ code: 'ADMIN_ERR_UNAUTHORIZED' });
    const wrong = await s.app.inject({
      method: 'GET',
      url: '/peers',
      headers: { authorization: 'Bearer s3cre' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toBe('the bearer token is wrong');
    // A write without the token changes nothing.
    const put = await s.app.inject({
      method: 'PUT',
      url: '/prefix',
      payload: { prefixes: ['fd00:99::/64'] },
    });
    expect(put.statusCode).toBe(401);
    expect(rack.node('sled0').d.router.originatedPrefixes()).toHaveLength(1);
    const good = await s.app.inject({
      method: 'GET',
      url: '/peers',
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toHaveLength(2);
    // Unknown paths are not revealed without the token either.
    expect((await s.app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(401);
  });

  it('serves over real HTTP on an ephemeral loopback port', async () => {
    const s = admin('sled0');
    const { host, port } = await s.listen();
    expect(host).toBe('127.0.0.1');
    const r = await fetch(`http://127.0.0.1:${port}/originated`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(['fd00:1::/64']);
  });
});
