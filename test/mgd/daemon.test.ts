// Two mgd daemons in one process (in-memory TCP, fake clock, memory FIB): configuration files to
// forwarding tables, static redistribution, reload (a bad file changes nothing; a good one applies
// without resetting sessions; a removed neighbour gets Cease/Peer De-configured), clean stop with
// and without flushing, and the command line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { MemoryConnectedRoutes } from '../../rib/connected.js';
import { MemoryFib } from '../../rib/fib/memory.js';
import { AsPathSegmentType, CeaseSubcode, ErrorCode, Origin } from '../../wire/bgp/constants.js';
import {
  formatAddr4,
  parseAddr4,
  parsePrefix,
  prefix4,
  type Prefix,
  type Prefix4,
} from '../../wire/ip/index.js';
import { MemoryNetwork } from '../../mgd/bgp/transport.js';
import { parseConfigText, formatConfigErrors } from '../../mgd/config/load.js';
import type { ConfigFile } from '../../mgd/config/schema.js';
import { MgdDaemon, OriginSinkFilter } from '../../mgd/daemon.js';
import { configFor, parseHostPort, parseMgdArgs } from '../../mgd/main.js';
import { makeUntil } from '../support/fake-clock.js';

const A4 = (s: string) => (parseAddr4(s) as { ok: true; value: number }).value;
const P = (s: string): Prefix => {
  const r = parsePrefix(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const until = makeUntil(100, 2000);

const daemons: MgdDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const dir = mkdtempSync(join(tmpdir(), 'mgd-daemon-'));
let fileNo = 0;
function file(cfg: unknown): string {
  const f = join(dir, `c${fileNo++}.json`);
  writeFileSync(f, typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  return f;
}

const FAST = { holdTime: 9, keepaliveTime: 3, connectRetryTime: 5, idleHoldTime: 1 };

function configA(extra: Partial<ConfigFile> = {}): ConfigFile {
  return {
    routers: [{ asn: 65001, routerId: '10.0.0.1', listen: { host: '10.0.0.1', port: 179 } }],
    neighbors: [
      {
        router: 65001,
        address: '10.0.0.2',
        remoteAsn: 65002,
        importPolicy: 'all',
        exportPolicy: 'all',
        ...FAST,
      },
    ],
    policies: { all: { statements: [], default: 'accept' } },
    originate: { ipv4: ['198.51.100.0/24'] },
    staticRoutes: [{ prefix: '203.0.113.0/24', nexthops: [{ address: '10.0.0.254' }] }],
    redistributeStatic: true,
    fib: { backend: 'memory' },
    ...extra,
  };
}

const configB: ConfigFile = {
  routers: [{ asn: 65002, routerId: '10.0.0.2', listen: { host: '10.0.0.2', port: 179 } }],
  neighbors: [
    {
      router: 65002,
      address: '10.0.0.1',
      remoteAsn: 65001,
      importPolicy: 'all',
      exportPolicy: 'all',
      ...FAST,
    },
  ],
  policies: { all: { statements: [], default: 'accept' } },
  fib: { backend: 'memory' },
};

async function daemon(
  net: MemoryNetwork,
  clock: FakeClock,
  addr: string,
  cfg: ConfigFile,
  flushOnExit = false,
  fromConfig = false,
) {
  const parsed = parseConfigText(JSON.stringify(cfg));
  if (!parsed.ok) throw new Error(formatConfigErrors(parsed.error));
  const connected = new MemoryConnectedRoutes();
  connected.set([{ afi: 4, prefix: prefix4(A4('10.0.0.0'), 24), ifname: 'eth0' }], ['lo', 'eth0']);
  const fib = new MemoryFib();
  const d = new MgdDaemon({
    config: parsed.value,
    transport: net.transport(addr),
    clock,
    ...(fromConfig ? {} : { fib }),
    connected,
    flushOnExit,
  });
  daemons.push(d);
  await d.start();
  return { d, fib };
}

const inFib = (fib: MemoryFib, p: string) => {
  const r = fib.routes.get(P(p) as number);
  return r === undefined ? undefined : r.nexthops.map((h) => formatAddr4(h.addr as number));
};

describe('mgd daemon', () => {
  it('runs without a lower half with the none backend: routes are selected and advertised, not installed', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const A = await daemon(net, clock, '10.0.0.1', configA({ fib: { backend: 'none' } }), false, true);
    const B = await daemon(net, clock, '10.0.0.2', configB);
    expect(A.d.fib).toBeUndefined();
    expect(A.d.fibSync).toBeUndefined();
    await until(
      () => inFib(B.fib, '198.51.100.0/24') !== undefined && inFib(B.fib, '203.0.113.0/24') !== undefined,
      clock,
    );
    // A selected its static route and redistributed it, without a forwarding table of its own.
    expect(A.d.rib.selected(P('203.0.113.0/24'))).toBeDefined();
    expect(inFib(B.fib, '203.0.113.0/24')).toEqual(['10.0.0.1']);
    await A.d.stop();
  });

  it('runs configuration files into forwarding tables and reloads safely', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const A = await daemon(net, clock, '10.0.0.1', configA());
    const B = await daemon(net, clock, '10.0.0.2', configB);
    await until(
      () => inFib(B.fib, '198.51.100.0/24') !== undefined && inFib(B.fib, '203.0.113.0/24') !== undefined,
      clock,
    );
    expect(inFib(B.fib, '198.51.100.0/24')).toEqual(['10.0.0.1']);
    // A's own static route is in A's table; redistributed, it reaches B as INCOMPLETE from AS 65001.
    await until(() => inFib(A.fib, '203.0.113.0/24') !== undefined, clock);
    expect(inFib(A.fib, '203.0.113.0/24')).toEqual(['10.0.0.254']);
    // A's originated prefix is announced, not installed in A's own table.
    expect(A.d.rib.selected(P('198.51.100.0/24'))).toBeDefined();
    expect(inFib(A.fib, '198.51.100.0/24')).toBeUndefined();
    expect((await A.d.fib!.list()).length).toBe(2);
    const st = B.d.rib.selected(P('203.0.113.0/24'))?.paths[0]?.attrs.attrs;
    expect(st?.origin).toBe(Origin.INCOMPLETE);
    expect(st?.asPath).toEqual([{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001] }]);
    expect(B.d.rib.selected(P('198.51.100.0/24'))?.paths[0]?.attrs.attrs.origin).toBe(Origin.IGP);

    // A bad file (unknown policy, plus a changed origination) changes nothing.
    const bad = configA({ originate: { ipv4: ['192.0.2.0/24'] } });
    bad.neighbors![0]!.importPolicy = 'missing';
    const r = await A.d.reloadFile(file(bad));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.map((e) => e.path)).toEqual(['neighbors[0].importPolicy']);
    const junk = await A.d.reloadFile(file('{ not json'));
    expect(junk.ok).toBe(false);
    for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
    expect(A.d.rib.selected(P('198.51.100.0/24'))).toBeDefined();
    expect(A.d.rib.selected(P('192.0.2.0/24'))).toBeUndefined();
    expect(inFib(B.fib, '198.51.100.0/24')).toEqual(['10.0.0.1']);

    // A good file applies in place: new origination, static redistribution off, session kept.
    const peerAB = A.d.speakers.get(65001)!.peerOf('10.0.0.2');
    const ok = await A.d.reloadFile(
      file(configA({ originate: { ipv4: ['192.0.2.0/24'] }, redistributeStatic: false })),
    );
    expect(ok.ok).toBe(true);
    await until(
      () => inFib(B.fib, '192.0.2.0/24') !== undefined && inFib(B.fib, '198.51.100.0/24') === undefined,
      clock,
    );
    await until(() => inFib(B.fib, '203.0.113.0/24') === undefined, clock);
    expect(peerAB.counters.establishedTransitions).toBe(1);
    expect(A.d.neighbors()[0]).toMatchObject({ router: 65001, address: '10.0.0.2', state: 'Established' });

    // A valid file that cannot be applied (the new router's listener is taken) is reported.
    const taken = configA({ originate: { ipv4: ['192.0.2.0/24'] }, redistributeStatic: false });
    taken.routers.push({ asn: 65009, routerId: '10.0.0.9', listen: { host: '10.0.0.5', port: 179 } });
    const partial = await A.d.reloadFile(file(taken));
    expect(partial.ok).toBe(false);
    if (!partial.ok) expect(partial.error[0]?.message).toMatch(/applying the configuration failed/);
    expect(peerAB.state).toBe('Established');

    // Removing the neighbour closes the session with Cease/Peer De-configured.
    expect((await A.d.reloadFile(file(configA({ neighbors: [] })))).ok).toBe(true);
    const peerBA = B.d.speakers.get(65002)!.peerOf('10.0.0.1');
    await until(() => peerBA.state !== 'Established', clock, 0);
    await until(() => peerBA.lastTransition?.reason.kind === 'notification-received', clock, 0, 50);
    expect(peerBA.lastTransition?.reason).toMatchObject({
      kind: 'notification-received',
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.PEER_DECONFIGURED,
    });
    await until(() => inFib(B.fib, '192.0.2.0/24') === undefined, clock);
    expect(A.d.neighbors()).toEqual([]);
  });

  it('a clean stop leaves routes in the table unless asked to flush', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const keep = await daemon(net, clock, '10.0.0.1', configA({ neighbors: [] }));
    const flush = await daemon(
      net,
      clock,
      '10.0.0.3',
      {
        ...configA({ neighbors: [] }),
        routers: [{ asn: 65003, routerId: '10.0.0.3', listen: { host: '10.0.0.3', port: 179 } }],
      },
      true,
    );
    // The static route reaches the kernel table; the originated prefix is held back.
    await until(() => keep.fib.routes.size === 1 && flush.fib.routes.size === 1, clock);
    await keep.d.fibSync!.settled();
    expect([...keep.fib.routes.values()].map((r) => r.prefix)).toEqual([P('203.0.113.0/24')]);
    await keep.d.stop();
    await flush.d.stop();
    expect(keep.fib.routes.size).toBe(1);
    expect(flush.fib.routes.size).toBe(0);
  });
});

describe('originated prefixes and the kernel table', () => {
  it('holds sink routes back and swaps them with real routes for the same prefix', async () => {
    const inner = new MemoryFib();
    const f = new OriginSinkFilter(inner);
    const prefix = P('192.0.2.0/24') as Prefix4;
    const sink = { afi: 4 as const, prefix, nexthops: [{ addr: 0, ifname: 'lo' }] };
    const real = { afi: 4 as const, prefix, nexthops: [{ addr: A4('10.0.0.9') }] };
    expect(await f.apply([{ op: 'replace', route: sink, existing: false }])).toEqual([]);
    expect(inner.routes.size).toBe(0);
    expect(await f.list()).toEqual([sink]);
    await f.apply([{ op: 'replace', route: real, existing: true }]);
    expect([...inner.routes.values()]).toEqual([real]);
    expect(f.heldRoutes).toBe(0);
    await f.apply([{ op: 'replace', route: sink, existing: true }]);
    expect(inner.routes.size).toBe(0);
    expect(await f.list()).toEqual([sink]);
    expect(await f.apply([{ op: 'delete', route: { afi: 4, prefix } }])).toEqual([]);
    expect(await f.list()).toEqual([]);
    // A refused real route comes back as the synchroniser's own operation.
    inner.refuse = () => 'Network is unreachable';
    const op = { op: 'replace' as const, route: real, existing: false };
    const failed = await f.apply([op]);
    expect(failed).toEqual([{ op, error: 'Network is unreachable' }]);
  });
});

describe('mgd command line', () => {
  it('parses flags and refuses bad ones', () => {
    const r = parseMgdArgs([
      '--config',
      '/etc/mgd.json',
      '--listen',
      '[::1]:1179',
      '--fib',
      'memory',
      '--log-level',
      'debug',
    ]);
    expect(r).toEqual({
      kind: 'run',
      args: {
        config: '/etc/mgd.json',
        listen: { host: '::1', port: 1179 },
        fib: 'memory',
        logLevel: 'debug',
        flushOnExit: false,
      },
    });
    expect(parseMgdArgs(['--flush-on-exit'])).toMatchObject({ kind: 'run', args: { flushOnExit: true } });
    expect(parseMgdArgs(['--fib', 'bsd'])).toMatchObject({ kind: 'exit', code: 1 });
    expect(parseMgdArgs(['--listen', 'nope'])).toMatchObject({ kind: 'exit', code: 2 });
    expect(parseMgdArgs(['--help'])).toMatchObject({ kind: 'exit', code: 0 });
    expect(parseHostPort('127.0.0.1:99999').ok).toBe(false);
  });

  it('without --config runs the embedded default; --fib overrides the file', async () => {
    const d = await configFor({ logLevel: 'info', flushOnExit: false });
    if (!d.ok) throw new Error(d.error);
    expect(d.value.routers).toHaveLength(1);
    expect(d.value.routers[0]).toMatchObject({
      asn: 65000,
      listen: { host: '127.0.0.1', port: 1790 },
      neighbors: [],
    });
    expect(formatAddr4(d.value.routers[0]!.routerId)).toBe('10.0.0.1');
    expect(d.value.routers[0]!.originate).toEqual([P('192.0.2.0/24')]);
    expect(d.value.fib.backend).toBe('memory');
    const f = await configFor({ config: file(configB), fib: 'memory', logLevel: 'info', flushOnExit: false });
    expect(f.ok && f.value.fib.backend).toBe('memory');
    const bad = await configFor({ config: file('[]'), logLevel: 'info', flushOnExit: false });
    expect(bad.ok).toBe(false);
  });
});
