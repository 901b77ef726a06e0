// Topology files (JSON) for the CLI, and the state files that let `list`, `exec` and `destroy` in
// another shell find a topology launched by `launch` (its namespaces are anonymous).
//
// Topology file:
//   { "name": "square",
//     "nodes": ["a", { "name": "b", "forwarding": true, "loopback4": "10.255.0.2" }],
//     "links": [{ "a": "a", "b": "b", "rate": { "rate": "5mbit" }, "mtu": 1500 }] }
//
// State file /run/lodestone-topo/<name>.json: the launcher's PID, the per-topology directory and,
// per node, the holder PID together with its network namespace identity, so a PID reused by an
// unrelated process after a crash is never mistaken for a holder.

import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Topology } from './topology.js';
import type { LinkOptions, NodeOptions, TopologySummary } from './topology.js';

// ===== Topology files =====

export interface TopologyFile {
  readonly name: string;
  readonly nodes: readonly (string | ({ readonly name: string } & NodeOptions))[];
  readonly links: readonly ({ readonly a: string; readonly b: string } & LinkOptions)[];
}

/** A typed error for a malformed topology file. */
export class TopologyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyFileError';
  }
}

/** Check a parsed topology file's shape. */
export function parseTopologyFile(value: unknown): TopologyFile {
  const fail = (why: string): never => {
    throw new TopologyFileError(`topology file: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string') return fail('"name" must be a string');
  if (!Array.isArray(v.nodes)) return fail('"nodes" must be an array');
  if (!Array.isArray(v.links)) return fail('"links" must be an array');
  const nodes = v.nodes as unknown[];
  nodes.forEach((n, i) => {
    if (typeof n === 'string') return;
    if (typeof n !== 'object' || n === null) return fail(`nodes[${i}] must be a name or an object`);
    const o = n as Record<string, unknown>;
    if (typeof o.name !== 'string') fail(`nodes[${i}].name must be a string`);
    for (const k of ['loopback4', 'loopback6'])
      if (o[k] !== undefined && typeof o[k] !== 'string') fail(`nodes[${i}].${k} must be a string`);
    if (o.forwarding !== undefined && typeof o.forwarding !== 'boolean')
      fail(`nodes[${i}].forwarding must be a boolean`);
  });
  (v.links as unknown[]).forEach((l, i) => {
    if (typeof l !== 'object' || l === null) return fail(`links[${i}] must be an object`);
    const o = l as Record<string, unknown>;
    if (typeof o.a !== 'string' || typeof o.b !== 'string') fail(`links[${i}] needs node names "a" and "b"`);
    if (o.mtu !== undefined && typeof o.mtu !== 'number') fail(`links[${i}].mtu must be a number`);
    if (o.rate !== undefined) {
      const r: unknown = o.rate;
      if (typeof r !== 'object' || r === null || typeof (r as { rate?: unknown }).rate !== 'string')
        fail(`links[${i}].rate.rate must be a string`);
    }
  });
  return value as TopologyFile;
}

/** Build (not launch) a topology from a file description. */
export function buildTopology(file: TopologyFile, opts: { readonly keepDir?: boolean } = {}): Topology {
  const topo = new Topology(file.name, opts.keepDir === true ? { keepDir: true } : {});
  for (const n of file.nodes) {
    if (typeof n === 'string') topo.node(n);
    else {
      const { name, ...rest } = n;
      topo.node(name, rest);
    }
  }
  for (const l of file.links) {
    const { a, b, ...rest } = l;
    topo.link(topo.get(a), topo.get(b), rest);
  }
  return topo;
}

// ===== State files =====

/** Where launched topologies are recorded. */
export const STATE_DIR = process.env.LODESTONE_TOPO_STATE_DIR ?? '/run/lodestone-topo';

export interface StateFile {
  readonly name: string;
  readonly launcherPid: number;
  readonly createdAt: string;
  readonly summary: TopologySummary;
  /** Holder PID and `readlink /proc/PID/ns/net` per node name. */
  readonly holders: Readonly<Record<string, { readonly pid: number; readonly netns: string }>>;
}

/** The state file path of a topology. */
export function statePath(name: string): string {
  return join(STATE_DIR, `${name}.json`);
}

/** Record a launched topology. */
export function writeState(topo: Topology): StateFile {
  const holders: Record<string, { pid: number; netns: string }> = {};
  for (const n of topo.nodes) holders[n.name] = { pid: n.pid, netns: netnsOf(n.pid) ?? '' };
  const state: StateFile = {
    name: topo.name,
    launcherPid: process.pid,
    createdAt: new Date().toISOString(),
    summary: topo.describe(),
    holders,
  };
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(statePath(topo.name), JSON.stringify(state, null, 2) + '\n');
  return state;
}

/** Every recorded topology. */
export function readStates(): StateFile[] {
  let files: string[];
  try {
    files = readdirSync(STATE_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: StateFile[] = [];
  for (const f of files) {
    try {
      out.push(JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8')) as StateFile);
    } catch {
      // A file being written or not ours.
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Forget a recorded topology. */
export function removeState(name: string): void {
  rmSync(statePath(name), { force: true });
}

/** `readlink /proc/PID/ns/net`, or null when the process is gone. */
export function netnsOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

/** True when the recorded holder still holds the recorded namespace (and it is not ours). */
export function holderAlive(h: { readonly pid: number; readonly netns: string }): boolean {
  const ns = netnsOf(h.pid);
  return ns !== null && ns === h.netns && ns !== netnsOf(process.pid);
}
