// A DDM rack in network namespaces for tests and benchmarks: two transit switches and N sleds,
// each running the real ddmd (dist/ddmd/main.js) with the linux lower half. Each sled originates
// its own /64 and has an address from it on lo, so traffic can be sent between sleds.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireRoot, Topology, type Link, type Node } from '../topo/index.js';

/** The repository root, whether this module runs from test/ (vitest) or dist/test/ (benchmarks). */
export const ROOT = ((): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
})();
export const DDMD = join(ROOT, 'dist', 'ddmd', 'main.js');
export const DDMADM = join(ROOT, 'dist', 'ddmd', 'ddmadm.js');
export const PROTO = 198; // RT_PROTO_DDMD

/** Why rack tests cannot run here, or null. */
export const rackSkip =
  requireRoot('ip', 'nft', 'tc', 'ping') ??
  (existsSync(DDMD) ? null : 'dist/ddmd/main.js is missing: run npm run build first');

export interface Rack {
  topo: Topology;
  sw: Node[];
  sleds: Node[];
  /** links[i][j]: sled i to switch j. */
  links: Link[][];
  cable?: Link;
}

export function sledPrefix(i: number): string {
  return `fd00:${i + 1}::/64`;
}

/** Launch the rack and start every daemon; `weights: 'equal'` runs plain equal-weight ECMP. */
export async function buildRack(
  name: string,
  sleds: number,
  cable: boolean,
  weights: 'delay' | 'equal' = 'delay',
): Promise<Rack> {
  const topo = new Topology(name);
  const sw = [topo.node('sw0'), topo.node('sw1')];
  const nodes = Array.from({ length: sleds }, (_, i) => topo.node(`sled${i}`));
  const links = nodes.map((s) => sw.map((x) => topo.link(s, x)));
  const rack: Rack = { topo, sw, sleds: nodes, links };
  if (cable) rack.cable = topo.link(sw[0]!, sw[1]!);
  await topo.launch();
  for (const [i, s] of nodes.entries())
    await s.run(['ip', '-6', 'addr', 'add', `fd00:${i + 1}::1/64`, 'dev', 'lo']);
  const start = (n: Node, role: 'server' | 'transit', extra: string[]) => {
    const ifs =
      (n === sw[0] || n === sw[1] ? sw.indexOf(n) : -1) >= 0 ? switchIfs(rack, n) : sledIfs(rack, n);
    n.spawn(
      process.execPath,
      [
        DDMD,
        '--role',
        role,
        '--hostname',
        n.name,
        ...ifs.flatMap((i) => ['--interface', i]),
        '--fib',
        'linux',
        '--solicit-interval',
        '500',
        '--expiry',
        '3000',
        '--probe-interval',
        '100',
        '--log-level',
        process.env.DDM_DEBUG !== undefined ? 'debug' : 'info',
        '--weights',
        weights,
        ...extra,
      ],
      { logFile: join(topo.dir, `${n.name}-ddmd.log`) },
    );
  };
  for (const s of sw) start(s, 'transit', []);
  for (const [i, s] of nodes.entries()) start(s, 'server', ['--prefix', sledPrefix(i)]);
  return rack;
}

function switchIfs(rack: Rack, n: Node): string[] {
  const j = rack.sw.indexOf(n);
  const ifs = rack.links.map((l) => l[j]!.b.ifname);
  if (rack.cable !== undefined) ifs.push(j === 0 ? rack.cable.a.ifname : rack.cable.b.ifname);
  return ifs;
}

function sledIfs(rack: Rack, n: Node): string[] {
  const i = rack.sleds.indexOf(n);
  return rack.links[i]!.map((l) => l.a.ifname);
}

/** Next hops (interface → weight) of our route to `prefix` in a node's kernel. */
export async function kernelHops(n: Node, prefix: string): Promise<Record<string, number>> {
  const routes = await n.routes({ family: 6, proto: PROTO });
  const r = routes.find((x) => x.dst === prefix);
  return Object.fromEntries((r?.nexthops ?? []).map((h) => [h.dev ?? '?', h.weight ?? 1]));
}

/** The nexthop object id our route to `prefix` uses, and the object's type (e.g. resilient). */
export async function kernelGroup(
  n: Node,
  prefix: string,
): Promise<{ nhid: number | undefined; type: string | undefined }> {
  const routes = await n.routes({ family: 6, proto: PROTO });
  const nhid = routes.find((x) => x.dst === prefix)?.nhid;
  if (nhid === undefined) return { nhid, type: undefined };
  const objs = JSON.parse(await n.run(['ip', '-j', 'nexthop', 'show', 'id', String(nhid)])) as
    { type?: string }[] | { type?: string };
  const o = Array.isArray(objs) ? objs[0] : objs;
  return { nhid, type: o?.type };
}

/** ddmd's own view via ddmadm (exercises the CLI and the admin API). */
export async function ddmadm(n: Node, ...args: string[]): Promise<unknown> {
  return JSON.parse(await n.run([process.execPath, DDMADM, '--json', ...args])) as unknown;
}

export async function counter(n: Node, name: string): Promise<number> {
  const text = await n.run([
    process.execPath,
    '-e',
    "require('http').get('http://127.0.0.1:8001/metrics', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => process.stdout.write(b)); })",
  ]);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

/** Paced UDP load for `ms` to [addr]:9, about 10 Mbit/s. */
export const FLOOD = `const s = require('dgram').createSocket('udp6'); const b = Buffer.alloc(1250);
const [to, ms] = process.argv.slice(1); const end = Date.now() + Number(ms);
const t = setInterval(() => { if (Date.now() > end) { clearInterval(t); s.close(); return; }
for (let i = 0; i < 10; i++) s.send(b, 9, to); }, 10);`;

/** Send one datagram from each of `n` source ports to [addr]:9 (n new flows). */
export const FLOWS = `const d = require('dgram'); const [to, n] = process.argv.slice(1); let left = Number(n);
for (let i = 0; i < Number(n); i++) { const s = d.createSocket('udp6');
s.bind(20000 + i, () => s.send(Buffer.alloc(64), 9, to, () => { s.close(); if (--left === 0) process.exit(0); })); }`;

export async function txPackets(n: Node, ifname: string): Promise<number> {
  // sysfs shows the root namespace here; iproute2 reads the namespace's own counters.
  const j = JSON.parse(await n.run(['ip', '-j', '-s', 'link', 'show', 'dev', ifname])) as {
    stats64: { tx: { packets: number } };
  }[];
  return j[0]!.stats64.tx.packets;
}
