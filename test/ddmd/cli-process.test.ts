// The real `ddmd` and `ddmadm` processes. Without root: bad flags and a missing interface end
// the process with one clear line. With root: a sled and a switch in two network namespaces joined
// by a veth pair discover each other over UDP, exchange over HTTP on their link-local addresses,
// and the switch installs the sled's prefix in its kernel; ddmadm and /metrics are read inside the
// namespaces; SIGTERM stops cleanly, leaving routes in place unless --flush-on-exit.
//
// The sources are transpiled (not type-checked; tsc does that) into a directory under
// node_modules/.cache so that the processes resolve the installed packages.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot, Topology, waitFor, type Node, type Proc } from '../topo/index.js';
import { parsePrometheus } from '../lib/prom-parse.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(REPO, 'node_modules', '.cache', `ddmd-process-test-${process.pid}`);
const MAIN = join(OUT, 'ddmd', 'main.js');
const DDMADM = join(OUT, 'ddmd', 'ddmadm.js');

function transpileTree(dir: string): void {
  for (const name of readdirSync(join(REPO, dir))) {
    const rel = join(dir, name);
    if (statSync(join(REPO, rel)).isDirectory()) {
      transpileTree(rel);
      continue;
    }
    if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
    const out = ts.transpileModule(readFileSync(join(REPO, rel), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: rel,
    });
    const dest = join(OUT, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
}

beforeAll(() => {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'package.json'), '{ "type": "module" }\n');
  for (const d of ['lib', 'wire', 'rib', 'ddmd']) transpileTree(d);
});

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

function node(script: string, args: string[], timeout = 15_000) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ddmd process: start-up errors', () => {
  it('bad flags: exit 2 and one line on stderr', () => {
    const r = node(MAIN, ['--role', 'router', '--interface', 'eth0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "ddmd: option '--role <role>' argument 'router' is invalid. Allowed choices are server, transit.\n",
    );
    expect(r.stdout).toBe('');
  });

  it('an interface that never appears: exit 1 naming it', () => {
    const r = node(MAIN, [
      '--role',
      'server',
      '--interface',
      'nosuch0',
      '--addr-wait',
      '300',
      '--fib',
      'memory',
      '--admin',
      '127.0.0.1:0',
      '--metrics',
      '127.0.0.1:0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ddmd: interface nosuch0: the interface does not exist after waiting 300 ms\n');
    const log = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      level: number;
      msg: string;
      name: string;
    };
    expect(log).toMatchObject({ level: 60, msg: 'ddmd failed to start', name: 'ddmd' });
  });

  it('ddmadm: an unreachable daemon is an error with status 1', () => {
    const r = node(DDMADM, ['-p', '1', 'peers']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot reach the ddmd admin API at http:\/\/127\.0\.0\.1:1: /);
  });
});

const skip = requireRoot();

describe.skipIf(skip !== null)(
  `ddmd processes in two namespaces${skip === null ? '' : ` (skipped: ${skip})`}`,
  () => {
    let topo: Topology;
    let sled: Node;
    let sw: Node;
    let sledIf: string;
    let swIf: string;
    let sledLl: string;

    beforeAll(async () => {
      topo = new Topology('ddmd-process');
      sled = topo.node('sled');
      sw = topo.node('sw');
      const l = topo.link(sled, sw);
      await topo.launch();
      await sled.waitInterfacesUp();
      await sw.waitInterfacesUp();
      sledIf = l.a.ifname;
      swIf = l.b.ifname;
      sledLl = l.a.linkLocal6;
    });

    afterAll(async () => {
      await topo?.destroy();
    });

    const fast = [
      '--solicit-interval',
      '200',
      '--expiry',
      '1000',
      '--probe-interval',
      '50',
      '--fib',
      'linux',
    ];
    const startSw = (extra: string[] = []): Proc =>
      sw.spawn(process.execPath, [
        MAIN,
        '--role',
        'transit',
        '--hostname',
        'sw',
        '--interface',
        swIf,
        ...fast,
        ...extra,
      ]);
    const swRoutes = async () =>
      JSON.parse(await sw.run(['ip', '-6', '-j', 'route', 'show', 'proto', '198'])) as {
        dst: string;
        gateway?: string;
        dev?: string;
      }[];

    it('discover, exchange, install, answer ddmadm and /metrics, and stop on SIGTERM', async () => {
      const pSw = startSw();
      const pSled = sled.spawn(process.execPath, [
        MAIN,
        '--role',
        'server',
        '--hostname',
        'sled',
        '--interface',
        sledIf,
        ...fast,
        '--prefix',
        'fd00:1::/64',
        '--state-file',
        join(sled.dir, 'ddmd-state.json'),
      ]);
      await waitFor(async () => (await swRoutes()).some((r) => r.dst === 'fd00:1::/64'), {
        what: "the sled's prefix in the switch's kernel",
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      expect((await swRoutes()).find((r) => r.dst === 'fd00:1::/64')).toMatchObject({
        gateway: sledLl,
        dev: swIf,
      });

      const peers = await sled.run([process.execPath, DDMADM, 'peers']);
      expect(peers.split('\n')[1]).toMatch(new RegExp(`^${sledIf}\\s+exchange\\s+sw\\s+transit\\s+fe80::`));
      const prefixes = await sw.run([process.execPath, DDMADM, 'prefixes']);
      expect(prefixes).toMatch(
        new RegExp(`fd00:1::/64\\s+${sledLl}%${swIf}\\s+sled\\s+\\d+(us|\\.\\d+ms)\\s+\\d+`),
      );
      const originated = await sled.run([process.execPath, DDMADM, '--json', 'originated']);
      expect(JSON.parse(originated)).toEqual(['fd00:1::/64']);

      const metricsText = await sw.run([
        process.execPath,
        '-e',
        "fetch('http://127.0.0.1:8001/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))",
      ]);
      const m = parsePrometheus(metricsText);
      const state = m
        .get('ddm_peer_state')!
        .samples.find((s) => s.labels.interface === swIf && s.labels.state === 'exchange');
      expect(state?.value).toBe(1);
      expect(m.get('ddm_routes')!.samples[0]!.value).toBe(1);

      pSled.signal('SIGTERM');
      expect(await pSled.exited).toBe(0);
      const sledLog = readFileSync(pSled.logFile, 'utf8');
      expect(sledLog).toMatch(/"msg":"stopping"/);
      expect(sledLog).toMatch(/"msg":"ddmd stopped"/);
      expect(JSON.parse(readFileSync(join(sled.dir, 'ddmd-state.json'), 'utf8')).originated).toEqual([
        'fd00:1::/64',
      ]);

      // The switch stops without flushing: its routes stay in the kernel (graceful restart).
      pSw.signal('SIGTERM');
      expect(await pSw.exited).toBe(0);
      expect((await swRoutes()).map((r) => r.dst)).toContain('fd00:1::/64');
    });

    it('--flush-on-exit removes the routes when stopping', async () => {
      const pSled = sled.spawn(process.execPath, [
        MAIN,
        '--role',
        'server',
        '--hostname',
        'sled',
        '--interface',
        sledIf,
        ...fast,
        '--state-file',
        join(sled.dir, 'ddmd-state.json'),
      ]);
      const pSw = startSw(['--flush-on-exit']);
      await waitFor(
        async () => {
          const out = await sw.exec([process.execPath, DDMADM, '--json', 'prefixes']);
          return out.code === 0 && out.stdout.includes('fd00:1::/64');
        },
        {
          what: 'the switch to learn the sled prefix from the state file',
          timeoutMs: 15_000,
          intervalMs: 200,
        },
      );
      await waitFor(async () => (await swRoutes()).some((r) => r.dst === 'fd00:1::/64'), {
        what: 'the route in the kernel',
        timeoutMs: 5_000,
        intervalMs: 100,
      });
      pSw.signal('SIGTERM');
      expect(await pSw.exited).toBe(0);
      expect(await swRoutes()).toEqual([]);
      pSled.signal('SIGINT');
      expect(await pSled.exited).toBe(0);
    });
  },
);
