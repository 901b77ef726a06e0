// The ddmd command line: flags to configuration, one-line errors, and finding each interface's
// link-local address (waiting while it is tentative, naming the interface when it never comes).
import { describe, expect, it } from 'vitest';
import { findLinkLocal, parseDdmdArgs, parseHostPort, parseIfInet6, type IfAddr6 } from '../../ddmd/main.js';

describe('ddmd flags', () => {
  it('reads a full command line', () => {
    const c = parseDdmdArgs(
      [
        '--role',
        'transit',
        '--hostname',
        'sw0',
        '--interface',
        'p0',
        '--interface',
        'p1',
        '--admin',
        '[::1]:9000',
        '--metrics',
        '127.0.0.1:9001',
        '--fib',
        'memory',
        '--state-file',
        '/tmp/s.json',
        '--token',
        't',
        '--flush-on-exit',
        '--solicit-interval',
        '500',
        '--expiry',
        '1500',
        '--probe-interval',
        '50',
        '--dead-after',
        '3',
        '--log-level',
        'debug',
        '--prefix',
        'fd00:1::/64',
        '--prefix',
        'fd00:2::/64',
      ],
      {},
    );
    expect(c.kind).toBe('run');
    if (c.kind !== 'run') return;
    const cfg = c.config;
    expect(cfg).toMatchObject({
      role: 'transit',
      hostname: 'sw0',
      interfaces: ['p0', 'p1'],
      admin: { host: '::1', port: 9000 },
      metrics: { host: '127.0.0.1', port: 9001 },
      fib: 'memory',
      stateFile: '/tmp/s.json',
      token: 't',
      flushOnExit: true,
      session: { solicitIntervalMs: 500, expiryMs: 1500, probeIntervalMs: 50, deadAfter: 3 },
      logLevel: 'debug',
    });
    expect(cfg.prefixes.map(String)).toEqual(['fd00:1::/64', 'fd00:2::/64']);
  });

  it('has the documented defaults', () => {
    const c = parseDdmdArgs(['--role', 'server', '--interface', 'eth0'], {});
    if (c.kind !== 'run') throw new Error(JSON.stringify(c));
    expect(c.config).toMatchObject({
      admin: { host: '127.0.0.1', port: 8000 },
      metrics: { host: '127.0.0.1', port: 8001 },
      fib: 'linux',
      fibProto: 198,
      flushOnExit: false,
      session: {},
      logLevel: 'info',
      prefixes: [],
    });
    expect(c.config.token).toBeUndefined();
    expect(c.config.stateFile).toBeUndefined();
  });

  it('takes the token from $DDMD_TOKEN', () => {
    const c = parseDdmdArgs(['--role', 'server', '--interface', 'eth0', '--admin', '0.0.0.0:8000'], {
      DDMD_TOKEN: 'env-token',
    });
    expect(c.kind === 'run' && c.config.token).toBe('env-token');
  });

  const bad: [string[], RegExp][] = [
    [['--interface', 'eth0'], /^ddmd: --role is required \(server or transit\)\n$/],
    [
      ['--role', 'router', '--interface', 'eth0'],
      /^ddmd: option '--role <role>' argument 'router' is invalid\. Allowed choices are server, transit\.\n$/,
    ],
    [['--role', 'server'], /^ddmd: give at least one --interface\n$/],
    [['--role', 'server', '--interface', 'a', '--interface', 'a'], /^ddmd: --interface a is given twice\n$/],
    [
      ['--role', 'server', '--interface', 'a', '--probe-interval', 'fast'],
      /^ddmd: option '--probe-interval <ms>' argument 'fast' is invalid\. It must be a whole number from 1 to/,
    ],
    [
      ['--role', 'server', '--interface', 'a', '--prefix', 'fd00::1/64'],
      /^ddmd: --prefix: 'fd00::1\/64' has host bits set; the network is fd00::\/64\n$/,
    ],
    [['--role', 'server', '--interface', 'a', '--admin', '8000'], /^ddmd: --admin: '8000' is not ADDR:PORT/],
    [
      ['--role', 'server', '--interface', 'a', '--admin', '0.0.0.0:8000'],
      /^ddmd: --admin 0\.0\.0\.0:8000 is not a loopback address; give --token/,
    ],
    [['--role', 'server', '--interface', 'a', '--bogus'], /^ddmd: unknown option '--bogus'\n$/],
    [['--role', 'server', '--interface', 'a', 'extra'], /^ddmd: too many arguments/],
  ];
  for (const [args, message] of bad) {
    it(`refuses ${args.join(' ')} with one line`, () => {
      const c = parseDdmdArgs(args, {});
      expect(c.kind).toBe('exit');
      if (c.kind !== 'exit') return;
      expect(c.code).not.toBe(0);
      expect(c.text).toMatch(message);
      expect(c.text.trimEnd().split('\n')).toHaveLength(1);
    });
  }

  it('--help exits 0 with the usage; --write-openapi needs nothing else', () => {
    const h = parseDdmdArgs(['--help'], {});
    expect(h).toMatchObject({ kind: 'exit', code: 0 });
    expect(h.kind === 'exit' && h.text).toMatch(/--flush-on-exit/);
    expect(parseDdmdArgs(['--write-openapi', 'x.json'], {})).toEqual({ kind: 'openapi', out: 'x.json' });
  });

  it('parses ADDR:PORT', () => {
    expect(parseHostPort('127.0.0.1:0')).toEqual({ ok: true, value: { host: '127.0.0.1', port: 0 } });
    expect(parseHostPort('[fe80::1]:80')).toEqual({ ok: true, value: { host: 'fe80::1', port: 80 } });
    expect(parseHostPort('::1:80').ok).toBe(false);
    expect(parseHostPort('a:70000').ok).toBe(false);
  });
});

describe('link-local addresses', () => {
  const PROC = [
    '00000000000000000000000000000001 01 80 10 80       lo',
    'fe8000000000000000fc00fffe000001 04 40 20 80     eth0',
    'fd000000000000000000000000000002 04 40 00 82     eth0',
    'fe80000000000000000000000000abcd 05 40 20 c0     eth1',
  ].join('\n');

  it('reads /proc/net/if_inet6 with scope and the tentative flag', () => {
    expect(parseIfInet6(PROC)).toEqual([
      { ifname: 'lo', addr: '::1', linkLocal: false, tentative: false },
      { ifname: 'eth0', addr: 'fe80::fc:ff:fe00:1', linkLocal: true, tentative: false },
      { ifname: 'eth0', addr: 'fd00::2', linkLocal: false, tentative: false },
      { ifname: 'eth1', addr: 'fe80::abcd', linkLocal: true, tentative: true },
    ]);
  });

  it('waits while the address is tentative, then returns it', async () => {
    let calls = 0;
    const read = (): IfAddr6[] => {
      calls++;
      return [{ ifname: 'eth1', addr: 'fe80::abcd', linkLocal: true, tentative: calls < 3 }];
    };
    expect(await findLinkLocal('eth1', { waitMs: 2000, pollMs: 5, read })).toBe('fe80::abcd');
    expect(calls).toBe(3);
  });

  it('fails naming the interface and why', async () => {
    const tentative = () => [{ ifname: 'eth1', addr: 'fe80::abcd', linkLocal: true, tentative: true }];
    await expect(
      findLinkLocal('eth1', { waitMs: 30, pollMs: 5, read: tentative, exists: () => true }),
    ).rejects.toThrow(
      /^interface eth1: its link-local address fe80::abcd is still tentative .* after waiting 30 ms$/,
    );
    await expect(findLinkLocal('eth2', { waitMs: 0, read: () => [], exists: () => true })).rejects.toThrow(
      'interface eth2: it has no IPv6 link-local address (is it down, or is IPv6 disabled on it?) after waiting 0 ms',
    );
    await expect(findLinkLocal('nosuch0', { waitMs: 0 })).rejects.toThrow(
      'interface nosuch0: the interface does not exist after waiting 0 ms',
    );
  });
});
