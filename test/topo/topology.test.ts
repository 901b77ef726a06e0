// test/topo: namespaces, links, addresses, static routing across a middle node, link cuts,
// nftables drops and leak-free teardown.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, pidAlive, pidsInNetns, requireRoot, sleep, waitFor } from './index.js';
import type { Link, Node } from './index.js';

const skip = requireRoot('ping', 'nft', 'tc');
if (skip !== null) console.warn(`[topo] skipping topology tests: ${skip}`);

/** Does one ping (bounded) from node to addr get an answer? */
async function pings(node: Node, addr: string): Promise<boolean> {
  const r = await node.exec(['ping', '-c', '1', '-W', '1', '-n', addr], { timeoutMs: 5_000 });
  return r.code === 0;
}

describe.skipIf(skip !== null)('three-node chain a-b-c with static routes', () => {
  const topo = new Topology('chain');
  const a = topo.node('a');
  const b = topo.node('b');
  const c = topo.node('c');
  const ab = topo.link(a, b);
  const bc = topo.link(b, c);
  let launched: number[] = [];

  beforeAll(async () => {
    await topo.launch();
    launched = topo.pids();
    // a and c reach each other's link and loopback only through b.
    await a.run(['ip', 'route', 'add', bc.prefix4, 'via', ab.b.addr4, 'proto', 'static']);
    await a.run(['ip', 'route', 'add', `${c.loopback4}/32`, 'via', ab.b.addr4, 'proto', 'static']);
    await a.run(['ip', '-6', 'route', 'add', bc.prefix6, 'via', ab.b.addr6, 'proto', 'static']);
    await c.run(['ip', 'route', 'add', ab.prefix4, 'via', bc.a.addr4, 'proto', 'static']);
    await c.run(['ip', 'route', 'add', `${a.loopback4}/32`, 'via', bc.a.addr4, 'proto', 'static']);
    await c.run(['ip', '-6', 'route', 'add', ab.prefix6, 'via', bc.a.addr6, 'proto', 'static']);
    await b.run(['ip', 'route', 'add', `${a.loopback4}/32`, 'via', ab.a.addr4, 'proto', 'static']);
    await b.run(['ip', 'route', 'add', `${c.loopback4}/32`, 'via', bc.b.addr4, 'proto', 'static']);
  });
  afterAll(() => topo.destroy());

  it('assigns predictable names and addresses', async () => {
    expect([ab.a.ifname, ab.b.ifname, bc.a.ifname, bc.b.ifname]).toEqual(['eth0', 'eth0', 'eth1', 'eth0']);
    expect([ab.a.addr4, ab.b.addr4, bc.a.addr4, bc.b.addr4]).toEqual([
      '10.0.1.1',
      '10.0.1.2',
      '10.0.2.1',
      '10.0.2.2',
    ]);
    expect([ab.prefix6, bc.b.addr6]).toEqual(['fd00:0:1::/64', 'fd00:0:2::2']);
    expect([a.loopback4, c.loopback6]).toEqual(['10.255.0.1', 'fd00:ff::3']);
    const addrs = JSON.parse(await b.run(['ip', '-j', 'addr', 'show'])) as {
      ifname: string;
      operstate: string;
      addr_info: { local: string; prefixlen: number }[];
    }[];
    const byIf = new Map(addrs.map((x) => [x.ifname, x.addr_info.map((i) => `${i.local}/${i.prefixlen}`)]));
    expect(byIf.get('lo')).toEqual(expect.arrayContaining(['10.255.0.2/32', 'fd00:ff::2/128']));
    expect(byIf.get('eth0')).toEqual(
      expect.arrayContaining(['10.0.1.2/30', 'fd00:0:1::2/64', `${ab.b.linkLocal6}/64`]),
    );
    expect(byIf.get('eth1')).toEqual(
      expect.arrayContaining(['10.0.2.1/30', 'fd00:0:2::1/64', `${bc.a.linkLocal6}/64`]),
    );
    expect(await b.run(['cat', '/proc/sys/net/ipv6/conf/eth0/keep_addr_on_down'])).toBe('1\n');
    expect(await b.run(['cat', '/proc/sys/net/ipv6/fib_multipath_hash_policy'])).toBe('1\n');
    expect(await b.run(['cat', '/proc/sys/net/ipv4/ip_forward'])).toBe('1\n');
  });

  it('forwards IPv4 and IPv6 across the middle node', async () => {
    expect(await pings(a, bc.b.addr4)).toBe(true);
    expect(await pings(a, bc.b.addr6)).toBe(true);
    expect(await pings(c, ab.a.addr6)).toBe(true);
    const r = await a.exec(['ping', '-c', '1', '-W', '1', '-n', '-I', a.loopback4, c.loopback4]);
    expect(r.code).toBe(0);
    // The reply came through b: TTL 63 (64 minus one hop).
    expect(r.stdout).toMatch(/ttl=63/);
  });

  it('pings over link-local addresses on a link', async () => {
    expect(await pings(a, `${ab.b.linkLocal6}%${ab.a.ifname}`)).toBe(true);
  });

  it('reads kernel routes as data, filtered by protocol', async () => {
    const v4 = await a.routes({ family: 4, proto: 'static' });
    expect(v4.map((r) => r.dst).sort()).toEqual([bc.prefix4, `${c.loopback4}/32`].sort());
    expect(v4[0]!.nexthops).toEqual([{ gateway: ab.b.addr4, dev: 'eth0', weight: 1 }]);
    const v6 = await a.routes({ family: 6 });
    const r6 = v6.find((r) => r.dst === bc.prefix6);
    expect(r6).toMatchObject({
      proto: 'static',
      metric: 1024,
      nexthops: [{ gateway: ab.b.addr6, dev: 'eth0' }],
    });
  });

  it('reads weighted multipath routes', async () => {
    // Two next hops on one link are enough to see the kernel's multipath rendering.
    await b.run([
      'ip',
      'route',
      'add',
      '192.0.2.0/24',
      'proto',
      '99',
      'metric',
      '20',
      'nexthop',
      'via',
      ab.a.addr4,
      'weight',
      '3',
      'nexthop',
      'via',
      bc.b.addr4,
      'weight',
      '1',
    ]);
    await b.run([
      'ip',
      '-6',
      'route',
      'add',
      '2001:db8::/32',
      'proto',
      '99',
      'nexthop',
      'via',
      ab.a.addr6,
      'weight',
      '2',
      'nexthop',
      'via',
      bc.b.addr6,
      'weight',
      '5',
    ]);
    const [v4] = await b.routes({ family: 4, proto: 99 });
    expect(v4).toMatchObject({ dst: '192.0.2.0/24', proto: '99', metric: 20 });
    expect(v4!.nexthops).toEqual([
      { gateway: ab.a.addr4, dev: 'eth0', weight: 3 },
      { gateway: bc.b.addr4, dev: 'eth1', weight: 1 },
    ]);
    const [v6] = await b.routes({ family: 6, proto: 99 });
    expect(v6!.dst).toBe('2001:db8::/32');
    expect(v6!.nexthops).toEqual([
      { gateway: ab.a.addr6, dev: 'eth0', weight: 2 },
      { gateway: bc.b.addr6, dev: 'eth1', weight: 5 },
    ]);
  });

  it('reads routes that use nexthop objects and blackholes', async () => {
    await b.sh(
      [
        `ip nexthop add id 1 via ${ab.a.addr4} dev ${ab.b.ifname}`,
        `ip nexthop add id 2 via ${bc.b.addr4} dev ${bc.a.ifname}`,
        'ip nexthop add id 10 group 1,3/2 type resilient buckets 32',
        'ip route add 198.51.100.0/24 nhid 10 proto 98',
        'ip route add blackhole 203.0.113.0/24 proto 98',
      ].join('\n'),
    );
    const routes = await b.routes({ family: 4, proto: 98 });
    expect(routes).toEqual([
      {
        family: 4,
        dst: '198.51.100.0/24',
        type: 'unicast',
        proto: '98',
        metric: 0,
        nhid: 10,
        nexthops: [
          { gateway: ab.a.addr4, dev: 'eth0', weight: 3 },
          { gateway: bc.b.addr4, dev: 'eth1', weight: 1 },
        ],
      },
      { family: 4, dst: '203.0.113.0/24', type: 'blackhole', proto: '98', metric: 0, nexthops: [] },
    ]);
  });

  it('leaves nothing behind after destroy', async () => {
    const p = b.spawn('sleep', ['300']);
    const holders = topo.nodes.map((n) => n.pid);
    await waitFor(() => pidsInNetns(b.pid).includes(p.pid), { what: 'sleep to enter the namespace' });
    const dir = topo.dir;
    await topo.destroy();
    await topo.destroy();
    for (const pid of [...launched, ...holders, p.pid]) expect(pidAlive(pid), `PID ${pid}`).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe.skipIf(skip !== null)('cutting and dropping on a link', () => {
  const topo = new Topology('faults');
  const a = topo.node('a');
  const b = topo.node('b');
  let l: Link;

  beforeAll(async () => {
    l = topo.link(a, b);
    await topo.launch();
  });
  afterAll(() => topo.destroy());

  it('a cut link stops traffic and restoring it resumes traffic', async () => {
    expect(await pings(a, l.b.addr4)).toBe(true);
    await l.cut();
    expect(await pings(a, l.b.addr4)).toBe(false);
    expect(await pings(a, l.b.addr6)).toBe(false);
    await l.restore();
    await waitFor(() => pings(a, l.b.addr4), { what: 'IPv4 ping after restore', timeoutMs: 5_000 });
    // keep_addr_on_down kept the IPv6 address through the flap.
    await waitFor(() => pings(a, l.b.addr6), { what: 'IPv6 ping after restore', timeoutMs: 5_000 });
  });

  it('an nftables drop stops traffic and removing it resumes traffic', async () => {
    await l.drop();
    expect(await pings(a, l.b.addr4)).toBe(false);
    expect(await pings(b, l.a.addr6)).toBe(false);
    await l.undrop();
    expect(await pings(a, l.b.addr4)).toBe(true);
    expect(await pings(b, l.a.addr6)).toBe(true);
    await l.undrop();
  });

  it('drops one UDP port only', async () => {
    b.spawn(process.execPath, ['-e', UDP_ECHO, '5555']);
    const udpWorks = async () =>
      (await a.exec([process.execPath, '-e', UDP_PROBE, l.b.addr4, '5555'], { timeoutMs: 5_000 })).code === 0;
    await waitFor(udpWorks, { what: 'UDP echo on b:5555', timeoutMs: 5_000 });
    await l.drop({ udpPort: 5555 });
    expect(await udpWorks()).toBe(false);
    expect(await pings(a, l.b.addr4)).toBe(true);
    await l.undrop();
    expect(await udpWorks()).toBe(true);
  });
});

// A UDP echo server on the port given as argument.
const UDP_ECHO = `const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(Number(process.argv[1]));`;

// Sends one datagram to argv[1]:argv[2]; exits 0 if echoed within 500 ms.
const UDP_PROBE = `const s = require('dgram').createSocket('udp4');
s.on('message', () => process.exit(0));
s.send('probe', Number(process.argv[2]), process.argv[1]);
setTimeout(() => process.exit(1), 500);`;

describe.skipIf(skip !== null)('a rate-limited link', () => {
  const topo = new Topology('tbf');
  const a = topo.node('a');
  const b = topo.node('b');
  const l = topo.link(a, b, { rate: { rate: '5mbit', burst: '16kb', latency: '50ms' } });

  beforeAll(() => topo.launch());
  afterAll(() => topo.destroy());

  /** Median RTT in ms of n pings from a to b, 100 ms apart. */
  async function medianRtt(n: number): Promise<number> {
    const r = await a.run(['ping', '-n', '-c', String(n), '-i', '0.1', '-W', '1', l.b.addr4], {
      timeoutMs: 10_000,
    });
    const rtts = [...r.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((x, y) => x - y);
    expect(rtts.length, `ping output: ${r}`).toBeGreaterThan(n / 2);
    return rtts[Math.floor(rtts.length / 2)]!;
  }

  it('applies tbf at both ends', async () => {
    for (const e of [l.a, l.b]) {
      expect(await e.node.run(['tc', 'qdisc', 'show', 'dev', e.ifname])).toMatch(/tbf .*rate 5Mbit/);
    }
  });

  it('shows RTT rising under a UDP load that saturates the link', async () => {
    const idle = await medianRtt(10);
    // About 10 Mbit/s of UDP for 3 s (twice the rate limit) to b's discard port.
    const flood = a.spawn(process.execPath, ['-e', UDP_FLOOD, l.b.addr4, '3000']);
    await sleep(500);
    const loaded = await medianRtt(15);
    await flood.exited;
    console.info(`[topo] tbf 5mbit: median RTT idle ${idle} ms, under load ${loaded} ms`);
    expect(loaded).toBeGreaterThan(20);
    expect(loaded).toBeGreaterThan(idle * 10);
    const after = await medianRtt(5);
    expect(after).toBeLessThan(10);
  });
});

// Paced UDP load: 10 datagrams of 1250 bytes every 10 ms (10 Mbit/s) to argv[1]:9 for argv[2] ms.
const UDP_FLOOD = `const s = require('dgram').createSocket('udp4');
const buf = Buffer.alloc(1250);
const t = setInterval(() => { for (let i = 0; i < 10; i++) s.send(buf, 9, process.argv[1]); }, 10);
setTimeout(() => { clearInterval(t); s.close(); }, Number(process.argv[2]));`;
