// RIB benchmark: a full-table load. Two eBGP neighbours each announce PATHS/2 IPv4 prefixes
// (the same prefixes, so best-path selection runs on every one) with ~70k distinct attribute
// sets (AS paths of 2-6 hops, a few communities, MED on some); then both withdraw everything.
// Prints the median of 3 runs for insert and withdraw time (wall and process CPU, which includes
// V8's GC helper threads), and heap/RSS after GC.
//
//   npm run bench:rib                 (PATHS=1000000 by default; set PATHS=2000000 for 1M prefixes x 2)

import { cpus, loadavg } from 'node:os';
import { MemoryConnectedRoutes, Rib, type PathInput } from '../../rib/index.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { prefix4Unchecked, type Prefix4 } from '../../wire/ip/index.js';

const PATHS = Number(process.env['PATHS'] ?? 1_000_000);
const ATTR_SETS = Number(process.env['ATTR_SETS'] ?? 70_000);
const RUNS = Number(process.env['RUNS'] ?? 3);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 12;
    return (s >>> 0) / 4294967296;
  };
}

/** One UPDATE's worth of input: an attribute set and the prefixes that carry it. */
interface Peer {
  readonly id: string;
  readonly as: number;
  readonly hop: number;
  ups: Update[];
}

interface RunResult {
  readonly tIns: number;
  readonly tWd: number;
  readonly cIns: number;
  readonly cWd: number;
  readonly heap: number;
  readonly rss: number;
  readonly stats: string;
}

interface Update {
  readonly attrs: PathAttributes;
  readonly prefixes: Prefix4[];
}

function makeUpdates(peerAs: number, prefixes: readonly Prefix4[], seed: number): Update[] {
  const r = rng(seed);
  const n = Math.min(ATTR_SETS / 2, prefixes.length);
  const ups: Update[] = [];
  for (let i = 0; i < n; i++) {
    const hops = 2 + Math.floor(r() * 5);
    const asns = [peerAs];
    for (let h = 1; h < hops; h++) asns.push(1000 + Math.floor(r() * 60000));
    const communities: number[] = [];
    const nc = Math.floor(r() * 4);
    for (let c = 0; c < nc; c++) communities.push(((peerAs & 0xffff) << 16) | Math.floor(r() * 500));
    const attrs: PathAttributes = {
      origin: r() < 0.9 ? 0 : 2,
      asPath: [{ type: 2, asns }],
      ...(r() < 0.3 ? { med: Math.floor(r() * 100) } : {}),
      ...(communities.length > 0 ? { communities } : {}),
    };
    ups.push({ attrs, prefixes: [] });
  }
  // Spread prefixes over the sets, as a real table does (a few large, many small groups).
  for (let i = 0; i < prefixes.length; i++) ups[Math.floor(r() * r() * n)]!.prefixes.push(prefixes[i]!);
  return ups.filter((u) => u.prefixes.length > 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

/** One load and withdrawal in a fresh RIB; everything it allocates dies with this frame. */
function runOnce(peers: readonly Peer[]): RunResult {
  gc!();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  // The neighbours' addresses are on a connected subnet, as on a real peering LAN.
  const connected = new MemoryConnectedRoutes();
  connected.set([{ afi: 4, prefix: prefix4Unchecked(0xc0000200, 24), ifname: 'eth0' }]);
  const rib = new Rib({ connected });
  const sub = rib.bus.subscribe('fib');
  for (const p of peers) {
    rib.addSource({ id: p.id, kind: 'bgp', ebgp: true, peerAddr: p.hop, routerId: p.hop });
  }

  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r0 = rib;
  r0.batch(() => {
    for (const p of peers) {
      const nexthops = [{ addr: p.hop }];
      for (const u of p.ups) {
        const input: PathInput = { source: p.id, attrs: u.attrs, nexthops };
        for (const px of u.prefixes) r0.addPath(px, input);
      }
    }
  });
  const tIns = performance.now() - t0;
  const cIns = cpuMs(process.cpuUsage(c0));
  sub.drain();
  gc!();
  const m = process.memoryUsage();
  const s = rib.stats();
  const stats = `${s.prefixes4} prefixes, ${s.paths} paths, ${s.selected} selected, ${s.attrSets} attribute sets`;

  const c1 = process.cpuUsage();
  const t1 = performance.now();
  r0.batch(() => {
    for (const p of peers) for (const u of p.ups) for (const px of u.prefixes) r0.removePath(px, p.id);
  });
  const tWd = performance.now() - t1;
  const cWd = cpuMs(process.cpuUsage(c1));
  sub.drain();
  const s2 = rib.stats();
  if (s2.paths !== 0 || s2.attrSets !== 0) throw new Error(`withdraw left ${JSON.stringify(s2)}`);
  return { tIns, tWd, cIns, cWd, heap: m.heapUsed - heap0, rss: m.rss - rss0, stats };
}

function main(): void {
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  );
  const nPrefixes = Math.floor(PATHS / 2);
  const prefixes: Prefix4[] = [];
  const r = rng(42);
  const seen = new Set<number>();
  while (prefixes.length < nPrefixes) {
    const len = r() < 0.6 ? 24 : 16 + Math.floor(r() * 8);
    const addr = (Math.floor(r() * 0xdfffffff) + 0x01000000) >>> 0;
    const p = prefix4Unchecked((addr & (0xffffffff << (32 - len))) >>> 0, len);
    if (seen.has(p)) continue;
    seen.add(p);
    prefixes.push(p);
  }
  seen.clear();
  const peers: Peer[] = [
    { id: 'bgp:192.0.2.1', as: 64501, hop: 0xc0000201, ups: [] },
    { id: 'bgp:192.0.2.2', as: 64502, hop: 0xc0000202, ups: [] },
  ];
  peers[0]!.ups = makeUpdates(peers[0]!.as, prefixes, 1);
  peers[1]!.ups = makeUpdates(peers[1]!.as, prefixes, 2);

  const ins: number[] = [];
  const wd: number[] = [];
  const heap: number[] = [];
  const rss: number[] = [];
  const insCpu: number[] = [];
  const wdCpu: number[] = [];
  let stats = '';
  for (let run = 0; run < RUNS; run++) {
    const r = runOnce(peers);
    stats = r.stats;
    ins.push(r.tIns);
    wd.push(r.tWd);
    insCpu.push(r.cIns);
    wdCpu.push(r.cWd);
    heap.push(r.heap);
    rss.push(r.rss);
    console.log(
      `run ${run + 1}: insert ${r.tIns.toFixed(0)} ms (cpu ${r.cIns.toFixed(0)}), withdraw ${r.tWd.toFixed(0)} ms (cpu ${r.cWd.toFixed(0)}), RIB heap ${mb(r.heap)}, RSS growth ${mb(r.rss)}`,
    );
  }
  const paths = peers[0]!.ups.reduce((n, u) => n + u.prefixes.length, 0) * 2;
  console.log(`table: ${stats}`);
  console.log(
    `median of ${RUNS}: insert ${median(ins).toFixed(0)} ms (cpu ${median(insCpu).toFixed(0)} ms; ` +
      `${((paths / median(ins)) * 1000).toFixed(0)} paths/s), withdraw ${median(wd).toFixed(0)} ms (cpu ${median(wdCpu).toFixed(0)} ms), RIB heap ${mb(median(heap))} (${(median(heap) / paths).toFixed(0)} B/path), ` +
      `RSS growth ${mb(median(rss))}`,
  );
}

main();
