// ddmadm against a real admin server (ephemeral loopback port) in front of a daemon in an
// in-memory rack: tables, changes, errors, watch, JSON output and tokens.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDdmAdmin } from '../../ddmd/admin.js';
import { fmtUs, runDdmadm, table, type CliIo } from '../../ddmd/ddmadm.js';
import type { AdminServer } from '../../lib/admin.js';
import { Rack } from './memory-rack.js';

let rack: Rack;
let server: AdminServer;
let port: number;

interface Captured extends CliIo {
  stdout: string;
  stderr: string;
  sleeps: number[];
}

function capture(): Captured {
  const c: Captured = {
    stdout: '',
    stderr: '',
    sleeps: [],
    tty: false,
    out: (s) => void (c.stdout += s),
    err: (s) => void (c.stderr += s),
    sleep: async (ms) => {
      c.sleeps.push(ms);
      await rack.run(100);
    },
  };
  return c;
}

async function ddmadm(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string; sleeps: number[] }> {
  const io = capture();
  const code = await runDdmadm(['-p', String(port), ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr, sleeps: io.sleeps };
}

async function serve(token?: string): Promise<void> {
  server = createDdmAdmin(rack.node('sled0').d, {
    host: '127.0.0.1',
    port: 0,
    clock: rack.clock,
    ...(token !== undefined ? { token } : {}),
  });
  port = (await server.listen()).port;
}

beforeEach(async () => {
  rack = new Rack();
  await rack.build(2);
  await rack.run(3000);
});

afterEach(async () => {
  await server.close();
  await rack.stop();
});

describe('ddmadm', () => {
  it('peers prints one row per interface with the delay statistics', async () => {
    await serve();
    const r = await ddmadm('peers');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^INTERFACE\s+STATE\s+PEER\s+KIND\s+ADDRESS\s+SRTT\s+MIN\s+JITTER\s+LOSS\s+SINCE$/,
    );
    expect(lines[1]).toMatch(
      /^eth0\s+exchange\s+sw0\s+transit\s+fe80::100:1\s+\d+us\s+\d+us\s+\d+us\s+0\.0%\s+\d+s$/,
    );
    expect(lines[2]).toMatch(/^eth1\s+exchange\s+sw1\s+transit\s+fe80::200:1\s/);
    expect(lines).toHaveLength(3);
  });

  it('prefixes prints destination, next hop, path, delay and weight', async () => {
    await serve();
    const r = await ddmadm('prefixes');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DESTINATION\s+NEXT HOP\s+PATH\s+DELAY\s+WEIGHT$/);
    expect(lines[1]).toMatch(/^fd00:2::\/64\s+fe80::100:1%eth0\s+sled1 sw0\s+\d+us\s+100$/);
    expect(lines[2]).toMatch(/^\s+fe80::200:1%eth1\s+sled1 sw1\s+\d+us\s+100$/);
  });

  it('originate, originated and withdraw', async () => {
    await serve();
    expect(await ddmadm('originate', 'fd00:99::/64', 'fd00:1::/64')).toMatchObject({
      code: 0,
      stdout: 'originated fd00:99::/64\n',
    });
    expect((await ddmadm('originated')).stdout).toBe('fd00:1::/64\nfd00:99::/64\n');
    expect((await ddmadm('withdraw', 'fd00:99::/64')).stdout).toBe('withdrew fd00:99::/64\n');
    expect((await ddmadm('withdraw', 'fd00:99::/64')).stdout).toBe('nothing to withdraw\n');
    // Maghemite's command names work too.
    expect((await ddmadm('advertise-prefixes', 'fd00:98::/64')).stdout).toBe('originated fd00:98::/64\n');
    expect((await ddmadm('get-originated')).stdout).toBe('fd00:1::/64\nfd00:98::/64\n');
  });

  it('an API error is printed as "error: <message>" with status 1', async () => {
    await serve();
    const r = await ddmadm('originate', 'fd00:1::1/64');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "error: body.prefixes[0]: must be an IPv6 prefix such as fd00:1::/64; 'fd00:1::1/64' has host bits set; the network is fd00:1::/64\n",
    );
    const e = await ddmadm('expire-peer', 'eth7');
    expect(e.code).toBe(1);
    expect(e.stderr).toBe(
      'error: params.ifname: ddmd does not run on "eth7"; its interfaces are eth0, eth1\n',
    );
  });

  it('expire-peer, sync, tunnels and fib-errors', async () => {
    await serve();
    expect((await ddmadm('expire-peer', 'eth1')).stdout).toBe(
      'expired the neighbour on eth1 (was exchange)\n',
    );
    expect((await ddmadm('sync')).stdout).toBe('pulling from 1 neighbour\n');
    const adv = await ddmadm(
      'tunnel-advertise',
      '--overlay',
      '10.9.0.0/16',
      '--boundary',
      'fd00:1::9',
      '--vni',
      '7',
    );
    expect(adv).toMatchObject({ code: 0, stdout: 'advertised 10.9.0.0/16 via fd00:1::9\n' });
    const t = await ddmadm('tunnels');
    expect(t.stdout.split('\n')[1]).toMatch(/^10\.9\.0\.0\/16\s+fd00:1::9\s+7\s+0\s+local$/);
    expect((await ddmadm('fib-errors')).stdout).toBe('PREFIX  OP  ATTEMPTS  ERROR\n');
  });

  it('--json prints the raw response', async () => {
    await serve();
    const r = await ddmadm('--json', 'peers');
    const peers = JSON.parse(r.stdout) as { ifname: string; rtt: { srtt_us: number } }[];
    expect(peers.map((p) => p.ifname)).toEqual(['eth0', 'eth1']);
    expect(peers[0]!.rtt.srtt_us).toBeGreaterThan(0);
  });

  it('watch prints peers and prefixes each round until the count is reached', async () => {
    await serve();
    const r = await ddmadm('watch', '--count', '3', '--interval', '250');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^INTERFACE/gm)).toHaveLength(3);
    expect(r.stdout.match(/^DESTINATION/gm)).toHaveLength(3);
    expect(r.sleeps).toEqual([250, 250]);
  });

  it('sends the token; without it the API refuses', async () => {
    await serve('tok');
    const none = await ddmadm('peers');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: this admin API needs a bearer token/);
    expect((await ddmadm('--token', 'tok', 'peers')).code).toBe(0);
  });

  it('says so when nothing listens, and rejects unknown commands', async () => {
    await serve();
    await server.close();
    const r = await ddmadm('peers');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error: cannot reach the ddmd admin API at http://127\\.0\\.0\\.1:${port}: `),
    );
    const u = await ddmadm('peerz');
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/^error: unknown command 'peerz'/);
    const bad = await runDdmadm(['-p', 'eighty', 'peers'], capture());
    expect(bad).toBe(1);
  });
});

describe('ddmadm formatting', () => {
  it('aligns columns', () => {
    expect(table(['a', 'long name', 'c'], [['xx', 'y', 'zzz']])).toBe(
      'A   LONG NAME  C\nxx  y          zzz\n',
    );
  });

  it('writes delays with units', () => {
    expect([undefined, 85, 999.6, 1250, 2_100_000].map(fmtUs)).toEqual([
      '-',
      '85us',
      '1.00ms',
      '1.25ms',
      '2.10s',
    ]);
  });
});
