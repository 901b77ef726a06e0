// A small in-memory DDM rack for the ddmd rack, admin, metrics and CLI tests: two transit switches and N
// sleds on the in-memory fabric with a fake clock; routes go to memory FIBs through the real lower
// half. Each sled can keep its originated prefixes in a state file.
import { FakeClock } from '../../lib/clock.js';
import { DdmDaemon } from '../../ddmd/daemon.js';
import { MemoryFabric } from '../../ddmd/io.js';
import { MemoryFib } from '../../rib/fib/memory.js';
import { formatAfPrefix, formatNextHop } from '../../rib/types.js';
import { parsePrefix6, type Prefix6 } from '../../wire/ip/index.js';

export const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

export interface RackNode {
  d: DdmDaemon;
  fib: MemoryFib;
  interfaces: { name: string; addr: string }[];
}

export function prefix(text: string): Prefix6 {
  const p = parsePrefix6(text);
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

export class Rack {
  readonly clock = new FakeClock(1000);
  readonly fabric = new MemoryFabric(this.clock);
  readonly nodes = new Map<string, RackNode>();

  /** Build and start the rack; `stateFile(name)` gives a node its state file. */
  async build(sleds: number, stateFile?: (node: string) => string | undefined): Promise<void> {
    const ifs = new Map<string, { name: string; addr: string }[]>();
    const addIf = (node: string, name: string, addr: string) => {
      const l = ifs.get(node) ?? [];
      l.push({ name, addr });
      ifs.set(node, l);
    };
    for (let i = 0; i < sleds; i++) {
      for (const [j, sw] of ['sw0', 'sw1'].entries()) {
        const sledIf = { node: `sled${i}`, ifname: `eth${j}`, addr: `fe80::${i + 1}:${j + 1}` };
        const swIf = { node: sw, ifname: `p${i}`, addr: `fe80::${(j + 1) * 100}:${i + 1}` };
        this.fabric.link(sledIf, swIf);
        addIf(sledIf.node, sledIf.ifname, sledIf.addr);
        addIf(swIf.node, swIf.ifname, swIf.addr);
      }
    }
    for (const [name, list] of ifs) {
      const fib = new MemoryFib();
      this.nodes.set(name, { d: this.daemon(name, list, fib, stateFile?.(name)), fib, interfaces: list });
    }
    for (const n of this.nodes.values()) await n.d.start();
    for (let i = 0; i < sleds; i++) this.node(`sled${i}`).d.originate([prefix(`fd00:${i + 1}::/64`)]);
  }

  /** A daemon for a node of this rack (used again to restart one). */
  daemon(
    name: string,
    list: { name: string; addr: string }[],
    fib: MemoryFib,
    stateFile?: string,
  ): DdmDaemon {
    return new DdmDaemon({
      hostname: name,
      role: name.startsWith('sw') ? 'transit' : 'server',
      interfaces: list,
      clock: this.clock,
      datagrams: this.fabric.datagrams(name),
      exchange: this.fabric.exchange(name),
      fib,
      fibScanMs: 0,
      ...(stateFile !== undefined ? { stateFile } : {}),
    });
  }

  node(n: string): RackNode {
    const x = this.nodes.get(n);
    if (x === undefined) throw new Error(`no node ${n}`);
    return x;
  }

  async run(ms: number, step = 10): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      this.clock.advance(step);
      await settle();
    }
  }

  /** Our routes in a node's memory FIB: prefix → sorted next hops as text. */
  async fibRoutes(n: string): Promise<Record<string, string[]>> {
    const routes = await this.node(n).fib.list();
    return Object.fromEntries(routes.map((r) => [formatAfPrefix(r), r.nexthops.map(formatNextHop).sort()]));
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) await n.d.stop();
  }
}
