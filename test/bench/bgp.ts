// BGP propagation benchmark: how fast a daemon passes a table from one eBGP neighbour to another,
// and what that costs it in memory and CPU. mgd against BIRD 2, FRR (zebra + bgpd) and GoBGP.
//
//   npm run bench:bgp        (root; needs bird2, frr, gobgpd for the reference daemons)
//
//   BENCH_SIZES=100000,1000000   prefix counts
//   BENCH_RUNS=3                 runs per daemon for sizes below 500k (median reported)
//   BENCH_RUNS_LARGE=1           runs per daemon for sizes of 500k and above
//   BENCH_DAEMONS=mgd,bird,frr,gobgp   (reference daemons that are not installed are skipped)
//   BENCH_PER_SET=15             prefixes per attribute set
//   BENCH_TIMEOUT_S=600          give up on one run after this long (printed as "timeout")
//   BENCH_KEEP=1                 keep each run's directory (configs, logs of every process)
//   BENCH_MGD_NODE_ARGS='--trace-gc'   extra node flags for mgd (its log is in the run directory)
//   BENCH_MGD_FIB=none           mgd's FIB backend: none (default) or memory
//   BENCH_MGD_SNAPSHOT=DIR       write a heap snapshot of mgd into DIR once the sink has everything
//   BENCH_MGD_PROF=DIR           run mgd under node --cpu-prof, profiles written to DIR
//
//   injector ──eth── DUT ──eth── sink        three network namespaces (test/topo)
//
// The injector (bgp-injector.ts) builds all its UPDATEs first, opens its session and writes them;
// the sink (bgp-sink.ts) counts distinct prefixes. Time to propagate runs from the injector's
// first UPDATE to the moment the sink has seen every prefix; both stamp the same wall clock.
// The DUT is passive towards both, imports and exports everything, and sets itself as next hop.
// No DUT installs routes in a kernel: mgd runs without a lower half (`--fib none`; BENCH_MGD_FIB=memory
// adds the in-process table and its synchroniser), bgpd runs with -n (zebra still
// runs and is counted), BIRD has no kernel protocol, GoBGP never installs. Peak RSS is VmHWM of
// the DUT's processes (summed for FRR) when the sink completes; CPU is utime+stime spent between
// the sink's session coming up and completion. Runs interleave the daemons: run 1 of each, then
// run 2 of each, and so on.

import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBird, startFrr, startGobgp, type BgpSpeakerConfig } from '../topo/bgp.js';
import { findBinary, requireRoot, sleep, Topology, type Node, type Proc } from '../topo/index.js';

// ===== Settings =====

type Daemon = 'mgd' | 'bird' | 'frr' | 'gobgp';

const ALL_DAEMONS: readonly Daemon[] = ['mgd', 'bird', 'frr', 'gobgp'];
const BINARY: Readonly<Record<Daemon, string>> = {
  mgd: 'node',
  bird: 'bird',
  frr: '/usr/lib/frr/bgpd',
  gobgp: 'gobgpd',
};

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

function envList(name: string, dflt: string): string[] {
  return (process.env[name] ?? dflt)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const SIZES = envList('BENCH_SIZES', '100000,1000000').map(Number);
const RUNS = envInt('BENCH_RUNS', 3);
const RUNS_LARGE = envInt('BENCH_RUNS_LARGE', 1);
const PER_SET = envInt('BENCH_PER_SET', 15);
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_S', 600) * 1000;
const MGD_PROF = process.env['BENCH_MGD_PROF'];
const MGD_NODE_ARGS = (process.env['BENCH_MGD_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
const KEEP = process.env['BENCH_KEEP'] === '1';
const MGD_FIB = process.env['BENCH_MGD_FIB'] ?? 'none';
const MGD_SNAPSHOT = process.env['BENCH_MGD_SNAPSHOT'];
if (MGD_FIB !== 'none' && MGD_FIB !== 'memory') throw new Error('BENCH_MGD_FIB must be none or memory');
const HOLD = 90;
const DUT_AS = 65000;
const INJ_AS = 65001;
const SINK_AS = 65002;

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');

// ===== Process accounting =====

/** VmHWM of a process in bytes (0 when it is gone). */
function peakRss(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

const TICKS = 100;

/** Command names of processes, joined with '+' (which processes a figure accounts). */
function commands(pids: readonly number[]): string {
  return pids
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {
        return `${p}?`;
      }
    })
    .join('+');
}

/** utime + stime of a process in seconds (0 when it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5); the slice starts at field 3.
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return 0;
  }
}

// ===== Child event logs =====

interface ChildEvent {
  readonly event: string;
  readonly t: number;
  readonly [k: string]: unknown;
}

function eventsOf(logFile: string): ChildEvent[] {
  if (!existsSync(logFile)) return [];
  const out: ChildEvent[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as ChildEvent);
    } catch {
      // A line still being written.
    }
  }
  return out;
}

/** Wait until a child reports `event`; fails on its `error` event, its exit, or the deadline. */
async function waitEvent(proc: Proc, name: string, event: string, deadline: number): Promise<ChildEvent> {
  for (;;) {
    const evs = eventsOf(proc.logFile);
    const hit = evs.find((e) => e.event === event);
    if (hit !== undefined) return hit;
    const bad = evs.find((e) => e.event === 'error');
    if (bad !== undefined) throw new Error(`${name}: ${String(bad['reason'])}`);
    if (!proc.running) throw new Error(`${name} exited before '${event}'; see ${proc.logFile}`);
    if (Date.now() > deadline) throw new RunTimeout(`${name}: no '${event}' in time`, evs);
    await sleep(50);
  }
}

class RunTimeout extends Error {
  constructor(
    message: string,
    readonly events: readonly ChildEvent[],
  ) {
    super(message);
  }
}

// ===== Daemons under test =====

/** A running DUT: the PIDs to account. */
interface Dut {
  pids(): number[];
}

function mgdConfig(injector: string, sink: string): unknown {
  const neighbour = (address: string, remoteAsn: number): unknown => ({
    router: DUT_AS,
    address,
    remoteAsn,
    passive: true,
    holdTime: HOLD,
    families: ['ipv4-unicast'],
    nextHopSelf: true,
    importPolicy: 'all',
    exportPolicy: 'all',
  });
  return {
    routers: [{ asn: DUT_AS, routerId: '10.255.0.2', listen: { host: '0.0.0.0', port: 179 } }],
    neighbors: [neighbour(injector, INJ_AS), neighbour(sink, SINK_AS)],
    policies: { all: { statements: [], default: 'accept' } },
    fib: { backend: MGD_FIB },
  };
}

async function startDut(daemon: Daemon, node: Node, injector: string, sink: string): Promise<Dut> {
  if (daemon === 'mgd') {
    const conf = join(node.dir, 'mgd.json');
    writeFileSync(conf, JSON.stringify(mgdConfig(injector, sink), null, 2));
    const prof = [
      ...(MGD_PROF !== undefined ? ['--cpu-prof', '--cpu-prof-dir', resolve(MGD_PROF)] : []),
      ...(MGD_SNAPSHOT !== undefined
        ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${resolve(MGD_SNAPSHOT)}`]
        : []),
    ];
    const main = join(ROOT, 'dist/mgd/main.js');
    const proc = node.spawn(
      'node',
      [...MGD_NODE_ARGS, ...prof, main, '--config', conf, '--fib', MGD_FIB, '--log-level', 'warn'],
      {
        logFile: join(node.dir, 'mgd.log'),
      },
    );
    return { pids: () => (proc.running ? [proc.pid] : []) };
  }
  const cfg: BgpSpeakerConfig = {
    asn: DUT_AS,
    routerId: '10.255.0.2',
    holdTime: HOLD,
    neighbors: [
      { address: injector, asn: INJ_AS, passive: true },
      { address: sink, asn: SINK_AS, passive: true },
    ],
  };
  switch (daemon) {
    case 'bird':
      return startBird(node, cfg);
    case 'frr':
      return startFrr(node, cfg);
    case 'gobgp':
      return startGobgp(node, cfg);
  }
}

// ===== One run =====

interface RunResult {
  readonly daemon: Daemon;
  readonly size: number;
  /** Seconds from the first UPDATE to the sink's last prefix, or null on timeout/failure. */
  readonly seconds: number | null;
  readonly rssBytes: number;
  readonly cpuSeconds: number;
  readonly note: string;
}

function childArgs(role: 'injector' | 'sink', o: Record<string, string | number>): string[] {
  const script = join(ROOT, `dist/test/bench/bgp-${role}.js`);
  return [script, ...Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)])];
}

async function runOnce(daemon: Daemon, size: number): Promise<RunResult> {
  const topo = new Topology(`bench-bgp-${daemon}`, { keepDir: KEEP });
  const inj = topo.node('inj');
  const dut = topo.node('dut');
  const sink = topo.node('sink');
  const l1 = topo.link(inj, dut);
  const l2 = topo.link(dut, sink);
  let pids: number[] = [];
  // Read when the run ends: a process named at spawn may not have exec'd yet.
  const result = (seconds: number | null, note: string, cpu0 = 0): RunResult => ({
    daemon,
    size,
    seconds,
    rssBytes: pids.reduce((n, p) => n + peakRss(p), 0),
    cpuSeconds: pids.reduce((n, p) => n + cpuSeconds(p), 0) - cpu0,
    note: pids.length === 0 ? note : `${commands(pids)}; ${note}`,
  });
  try {
    await topo.launch();
    const d = await startDut(daemon, dut, l1.a.addr4, l2.b.addr4);
    pids = d.pids();
    const setup = Date.now() + 60_000;
    const sinkProc = sink.spawn(
      'node',
      childArgs('sink', {
        'local-as': SINK_AS,
        'router-id': l2.b.addr4,
        local: l2.b.addr4,
        peer: l2.a.addr4,
        'peer-as': DUT_AS,
        count: size,
        hold: HOLD,
      }),
      { logFile: join(sink.dir, 'sink.log') },
    );
    await waitEvent(sinkProc, 'sink', 'established', setup);
    const cpu0 = pids.reduce((n, p) => n + cpuSeconds(p), 0);
    const injProc = inj.spawn(
      'node',
      childArgs('injector', {
        'local-as': INJ_AS,
        'router-id': l1.a.addr4,
        local: l1.a.addr4,
        peer: l1.b.addr4,
        'peer-as': DUT_AS,
        count: size,
        'per-set': PER_SET,
        hold: HOLD,
      }),
      { logFile: join(inj.dir, 'injector.log') },
    );
    const first = await waitEvent(injProc, 'injector', 'first-update', setup + 120_000);
    try {
      const done = await waitEvent(sinkProc, 'sink', 'complete', Date.now() + TIMEOUT_MS);
      const sent = eventsOf(injProc.logFile).find((x) => x.event === 'sent');
      const wrote =
        sent === undefined ? '' : `, injector wrote all in ${((sent.t - first.t) / 1000).toFixed(3)} s`;
      return result(
        (done.t - first.t) / 1000,
        `${String(done['updates'])} UPDATEs at the sink${wrote}`,
        cpu0,
      );
    } catch (e) {
      if (!(e instanceof RunTimeout)) throw e;
      const progress = eventsOf(sinkProc.logFile).filter((x) => x.event === 'progress');
      const last = progress[progress.length - 1];
      const got = last === undefined ? 0 : Number(last['prefixes']);
      return result(null, `timeout after ${TIMEOUT_MS / 1000} s with ${got}/${size} prefixes`, cpu0);
    }
  } catch (e) {
    return result(null, `failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (daemon === 'mgd' && MGD_SNAPSHOT !== undefined) {
      mkdirSync(resolve(MGD_SNAPSHOT), { recursive: true });
      const before = readdirSync(resolve(MGD_SNAPSHOT)).length;
      for (const p of pids) process.kill(p, 'SIGUSR2');
      // Writing a snapshot of a full table's heap takes a while; the file appears when done.
      const dir = resolve(MGD_SNAPSHOT);
      const size = () => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      const until = Date.now() + 300_000;
      let last = -1;
      while (Date.now() < until) {
        await sleep(2_000);
        const n = size();
        if (readdirSync(dir).length > before && n > 0 && n === last) break;
        last = n;
      }
    }
    if (daemon === 'mgd' && MGD_PROF !== undefined) {
      // SIGINT lets node write its CPU profile on the way out.
      for (const p of pids) process.kill(p, 'SIGINT');
      await sleep(3_000);
    }
    await topo.destroy();
  }
}

// ===== Reporting =====

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Row {
  readonly daemon: Daemon;
  readonly size: number;
  readonly runs: number;
  readonly ok: number;
  readonly seconds: number | null;
  readonly rssMiB: number | null;
  readonly cpu: number | null;
  readonly all: string;
}

function summarise(results: readonly RunResult[], daemon: Daemon, size: number): Row | null {
  const mine = results.filter((r) => r.daemon === daemon && r.size === size);
  if (mine.length === 0) return null;
  const good = mine.filter((r) => r.seconds !== null);
  const pick = (f: (r: RunResult) => number): number | null =>
    good.length === 0 ? null : median(good.map(f));
  const rss = pick((r) => r.rssBytes);
  return {
    daemon,
    size,
    runs: mine.length,
    ok: good.length,
    seconds: pick((r) => r.seconds!),
    rssMiB: rss === null ? null : rss / 1048576,
    cpu: pick((r) => r.cpuSeconds),
    all: mine.map((r) => (r.seconds === null ? 'timeout' : r.seconds.toFixed(2))).join(' '),
  };
}

function fmt(v: number | null, digits: number): string {
  return v === null ? 'timeout' : v.toFixed(digits);
}

function printTable(results: readonly RunResult[], daemons: readonly Daemon[]): void {
  const lines = [
    '| daemon | prefixes | runs (ok) | time s (median) | each run s | peak RSS MiB | CPU s |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  const rows: Row[] = [];
  for (const size of SIZES) {
    for (const d of daemons) {
      const r = summarise(results, d, size);
      if (r === null) continue;
      rows.push(r);
      lines.push(
        `| ${d} | ${size} | ${r.runs} (${r.ok}) | ${fmt(r.seconds, 2)} | ${r.all} | ${fmt(r.rssMiB, 0)} | ${fmt(r.cpu, 2)} |`,
      );
    }
  }
  console.log(lines.join('\n'));
  const ratios: string[] = [];
  for (const size of SIZES) {
    const m = rows.find((r) => r.daemon === 'mgd' && r.size === size);
    if (m === undefined) continue;
    for (const o of rows.filter((r) => r.daemon !== 'mgd' && r.size === size)) {
      const t = m.seconds !== null && o.seconds !== null ? (m.seconds / o.seconds).toFixed(2) : 'n/a';
      const mem = m.rssMiB !== null && o.rssMiB !== null ? (m.rssMiB / o.rssMiB).toFixed(2) : 'n/a';
      ratios.push(`| ${size} | mgd / ${o.daemon} | ${t}× | ${mem}× |`);
    }
  }
  if (ratios.length > 0) {
    console.log(
      ['', '| prefixes | ratio | time | peak RSS |', '| ---: | --- | ---: | ---: |', ...ratios].join('\n'),
    );
  }
}

// ===== Main =====

async function main(): Promise<void> {
  const skip = requireRoot('node');
  if (skip !== null) {
    console.error(`bench:bgp: ${skip}`);
    process.exit(1);
  }
  const wanted = envList('BENCH_DAEMONS', ALL_DAEMONS.join(',')) as Daemon[];
  const daemons: Daemon[] = [];
  for (const d of wanted) {
    if (!ALL_DAEMONS.includes(d)) throw new Error(`unknown daemon '${d}' in BENCH_DAEMONS`);
    if (findBinary(BINARY[d]) === null) console.log(`skipping ${d}: ${BINARY[d]} is not installed`);
    else daemons.push(d);
  }
  console.log(
    `BGP propagation: injector -> DUT -> sink, ${PER_SET} prefixes per attribute set, packed UPDATEs; ` +
      `no DUT installs routes (mgd --fib ${MGD_FIB}, bgpd -n, BIRD without kernel protocol, GoBGP). ` +
      `Load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}.`,
  );
  const results: RunResult[] = [];
  for (const size of SIZES) {
    const runs = size >= 500_000 ? RUNS_LARGE : RUNS;
    for (let run = 1; run <= runs; run++) {
      for (const d of daemons) {
        const r = await runOnce(d, size);
        results.push(r);
        const rss = (r.rssBytes / 1048576).toFixed(0);
        console.log(
          `${d} ${size} run ${run}/${runs}: ${r.seconds === null ? '-' : r.seconds.toFixed(3) + ' s'}, ` +
            `peak RSS ${rss} MiB, CPU ${r.cpuSeconds.toFixed(2)} s (${r.note})`,
        );
      }
    }
  }
  console.log('');
  printTable(results, daemons);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
