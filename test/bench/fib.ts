// FIB benchmark: install, replace and remove 100k and 1M IPv4 routes in the Linux kernel through
// the `linux` backend (`ip -force -batch -`), inside a throw-away network namespace with a veth
// interface as the next hop's link; then the same 100k through the whole lower half (RIB batch →
// bus → FibSync → kernel). Prints routes per second (wall clock) and routes per CPU-second of
// this process plus its `ip` children, which stays meaningful on a loaded machine. Needs root.
//
//   npm run bench:fib                 (SIZES=100000,1000000 by default; LANES=n for n `ip` children)

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { FibSync, LinuxFib, MemoryConnectedRoutes, Rib, type FibOp } from '../../rib/index.js';
import { Topology, requireRoot } from '../topo/index.js';
import { prefix4Unchecked, type Prefix4 } from '../../wire/ip/index.js';

const SIZES = (process.env['SIZES'] ?? '100000,1000000').split(',').map(Number);
const LANES = process.env['LANES'] === undefined ? undefined : Number(process.env['LANES']);
const BATCH = 10_000;

/** CPU seconds used by this process and its reaped children (`ip`), from /proc/self/stat. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the parenthesised command name: utime is the 14th field overall.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((t, i) => t + Number(f[i]), 0);
  return ticks / 100;
}

async function timed(
  what: string,
  n: number,
  fn: () => Promise<void>,
  reap?: () => Promise<void>,
): Promise<number> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  // Let the batch process exit so its CPU time is counted (children are counted once reaped).
  await reap?.();
  const cpu = cpuSeconds() - c0;
  const rate = (n / ms) * 1000;
  console.log(
    `${what.padEnd(34)} ${String(n).padStart(8)} routes  ${ms.toFixed(0).padStart(7)} ms  ${rate.toFixed(0).padStart(8)} routes/s` +
      `   cpu ${cpu.toFixed(1).padStart(5)} s (${(n / Math.max(cpu, 0.01)).toFixed(0).padStart(7)} routes per CPU-second)`,
  );
  return rate;
}

async function applyAll(fib: LinuxFib, ops: FibOp[]): Promise<void> {
  // Batches are pipelined: the next is written while the kernel works through the previous.
  const pending: Promise<unknown>[] = [];
  let failed = 0;
  for (let i = 0; i < ops.length; i += BATCH) {
    pending.push(fib.apply(ops.slice(i, i + BATCH)).then((f) => (failed += f.length)));
  }
  await Promise.all(pending);
  if (failed > 0) throw new Error(`${failed} operations refused`);
}

async function main(): Promise<void> {
  const skip = requireRoot();
  if (skip !== null) {
    console.log(`bench:fib skipped: ${skip}`);
    return;
  }
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  );
  const topo = new Topology('benchfib');
  const a = topo.node('a');
  const b = topo.node('b');
  const l = topo.link(a, b);
  await topo.launch();
  try {
    await a.run(['ip', 'addr', 'add', '10.77.0.1/24', 'dev', l.a.ifname]);
    const prefix = a.nsArgv([]);
    const fib = new LinuxFib({ commandPrefix: prefix, ...(LANES === undefined ? {} : { lanes: LANES }) });
    const reap = (): Promise<void> => fib.close();
    const viaA = [{ addr: 0x0a4d0002 }];
    const viaB = [{ addr: 0x0a4d0003 }];
    const ecmp = [
      { addr: 0x0a4d0002, weight: 2 },
      { addr: 0x0a4d0003, weight: 1 },
    ];
    for (const n of SIZES) {
      const prefixes: Prefix4[] = [];
      for (let i = 0; i < n; i++) prefixes.push(prefix4Unchecked((0x0b000000 + i * 256) >>> 0, 24));
      console.log(`--- ${n} routes`);
      await timed('install (route add)', n, () =>
        applyAll(
          fib,
          prefixes.map((p) => ({
            op: 'replace',
            route: { afi: 4, prefix: p, nexthops: viaA },
            existing: false,
          })),
        ),
      );
      let listed = 0;
      await timed('read back (ip -j route show proto)', n, async () => {
        listed = (await fib.list()).length;
      });
      if (listed !== n) throw new Error(`kernel holds ${listed} of ${n} routes`);
      await timed('replace (new next hop)', n, () =>
        applyAll(
          fib,
          prefixes.map((p) => ({
            op: 'replace',
            route: { afi: 4, prefix: p, nexthops: viaB },
            existing: true,
          })),
        ),
      );
      await timed('replace (weighted multipath)', n, () =>
        applyAll(
          fib,
          prefixes.map((p) => ({
            op: 'replace',
            route: { afi: 4, prefix: p, nexthops: ecmp },
            existing: true,
          })),
        ),
      );
      await timed(
        'remove (route del)',
        n,
        () =>
          applyAll(
            fib,
            prefixes.map((p) => ({ op: 'delete', route: { afi: 4, prefix: p } })),
          ),
        reap,
      );
      if ((await fib.list()).length !== 0) throw new Error('routes left behind');
    }

    // The whole lower half: RIB batch → bus → FibSync (batches of 10k) → kernel.
    const n = SIZES[0]!;
    const connected = new MemoryConnectedRoutes();
    connected.set([{ afi: 4, prefix: prefix4Unchecked(0x0a4d0000, 24), ifname: l.a.ifname }]);
    const rib = new Rib({ connected });
    rib.addSource({ id: 'static', kind: 'static' });
    const sync = new FibSync(rib, fib, { scanMs: 0 });
    await sync.start();
    console.log(`--- ${n} routes through RIB + FibSync`);
    await timed(
      'RIB add → kernel',
      n,
      async () => {
        rib.batch(() => {
          for (let i = 0; i < n; i++) {
            rib.addPath(prefix4Unchecked((0x0b000000 + i * 256) >>> 0, 24), {
              source: 'static',
              nexthops: viaA,
            });
          }
        });
        await sync.settled();
      },
      reap,
    );
    await timed(
      'RIB next-hop change → kernel',
      n,
      async () => {
        rib.batch(() => {
          for (let i = 0; i < n; i++) {
            rib.addPath(prefix4Unchecked((0x0b000000 + i * 256) >>> 0, 24), {
              source: 'static',
              nexthops: viaB,
            });
          }
        });
        await sync.settled();
      },
      reap,
    );
    await timed(
      'RIB withdraw → kernel',
      n,
      async () => {
        rib.removeSource('static');
        await sync.settled();
      },
      reap,
    );
    await sync.stop({ flush: true });
    await fib.close();
  } finally {
    await topo.destroy();
  }
}

await main();
