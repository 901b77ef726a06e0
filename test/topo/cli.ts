// Command line for exploring topologies by hand (`npm run build && npm run topo -- ...`):
//
//   topo launch FILE [--keep]      launch a JSON topology file, print it, keep it up until Ctrl-C
//   topo list                      topologies launched on this machine, with nodes and addresses
//   topo exec [TOPO:]NODE -- CMD   run CMD inside a node (interactive; exit code passed through)
//   topo destroy [NAME...]         tear down the named topologies (default: all)
//
// Namespaces are anonymous, so `launch` records holder PIDs in /run/lodestone-topo/<name>.json.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { killQuietly, sleep, waitFor } from './proc.js';
import {
  buildTopology,
  holderAlive,
  parseTopologyFile,
  readStates,
  removeState,
  statePath,
  writeState,
} from './spec.js';
import type { StateFile } from './spec.js';
import { pidsInNetns } from './topology.js';
import type { TopologySummary } from './topology.js';

// ===== Printing =====

function printSummary(s: TopologySummary): void {
  console.log(`topology ${s.name}${s.dir !== null ? `  (files in ${s.dir})` : ''}`);
  for (const n of s.nodes) {
    console.log(`  node ${n.name}  pid ${n.pid ?? '-'}  lo ${n.loopback4} ${n.loopback6}`);
    for (const i of n.interfaces) {
      console.log(`    ${i.ifname} -> ${i.peer}:${i.peerIfname}  ${i.addr4}  ${i.addr6}  ${i.linkLocal6}`);
    }
  }
  for (const l of s.links) {
    const rate = l.rate !== undefined ? `  tbf ${l.rate.rate}` : '';
    console.log(`  link ${l.index}  ${l.a} <-> ${l.b}  ${l.prefix4}  ${l.prefix6}${rate}`);
  }
}

function isUp(st: StateFile): boolean {
  return Object.values(st.holders).some((h) => holderAlive(h));
}

// ===== Commands =====

async function launch(file: string, opts: { keep?: boolean }): Promise<void> {
  const spec = parseTopologyFile(JSON.parse(readFileSync(file, 'utf8')));
  const existing = readStates().find((s) => s.name === spec.name);
  if (existing !== undefined && isUp(existing)) {
    throw new Error(`topology ${spec.name} is already up (launcher PID ${existing.launcherPid})`);
  }
  const topo = buildTopology(spec, { keepDir: opts.keep === true });
  await topo.launch();
  const state = writeState(topo);
  printSummary(state.summary);
  console.log(`state in ${statePath(topo.name)}; Ctrl-C (or 'topo destroy ${topo.name}') tears it down`);
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: destroying ${topo.name}`);
    try {
      await topo.destroy();
    } finally {
      removeState(topo.name);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('interrupted'));
  process.on('SIGTERM', () => void stop('terminated'));
  process.on('SIGHUP', () => void stop('hangup'));
  // If the namespaces are torn down from elsewhere, go too.
  while (!stopping) {
    await sleep(1_000);
    if (!isUp(state)) await stop('namespaces gone');
  }
}

function list(): void {
  const states = readStates();
  if (states.length === 0) {
    console.log('no topologies');
    return;
  }
  for (const st of states) {
    const up = isUp(st);
    console.log(`${up ? 'UP  ' : 'GONE'} launcher ${st.launcherPid} since ${st.createdAt}`);
    printSummary(st.summary);
  }
}

function findNode(target: string, topoOpt?: string): { st: StateFile; pid: number } {
  const [a, b] = target.includes(':') ? target.split(':', 2) : [topoOpt, target];
  const up = readStates().filter(isUp);
  const candidates = a !== undefined ? up.filter((s) => s.name === a) : up.filter((s) => b in s.holders);
  if (candidates.length === 0) throw new Error(`no running topology has node ${target}`);
  if (candidates.length > 1) {
    throw new Error(`node ${b} is in ${candidates.map((s) => s.name).join(', ')}; say TOPO:${b}`);
  }
  const st = candidates[0]!;
  const h = st.holders[b];
  if (h === undefined || !holderAlive(h)) throw new Error(`node ${b} of ${st.name} is not running`);
  return { st, pid: h.pid };
}

async function execIn(target: string, cmd: string[], opts: { topo?: string }): Promise<number> {
  const { pid } = findNode(target, opts.topo);
  // With pass-through options the `--` separator reaches us as an argument.
  const rest = cmd[0] === '--' ? cmd.slice(1) : cmd;
  const argv = rest.length > 0 ? rest : [process.env.SHELL ?? 'bash'];
  const child = spawn('nsenter', ['-t', String(pid), '-n', '--', ...argv], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
    child.on('error', (e) => {
      console.error(e.message);
      resolve(127);
    });
  });
}

async function destroy(names: string[]): Promise<void> {
  const states = readStates().filter((s) => names.length === 0 || names.includes(s.name));
  for (const n of names) {
    if (!states.some((s) => s.name === n)) console.error(`no topology ${n}`);
  }
  for (const st of states) {
    const holders = Object.values(st.holders).filter((h) => holderAlive(h));
    for (const h of holders) {
      for (const p of pidsInNetns(h.pid)) if (p !== h.pid) killQuietly(p, 'SIGKILL');
      killQuietly(h.pid, 'SIGKILL');
    }
    await waitFor(() => holders.every((h) => !holderAlive(h)), {
      what: `holders of ${st.name} to exit`,
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    // The launcher notices and cleans its directory; tell it now rather than at its next poll.
    killQuietly(st.launcherPid, 'SIGTERM');
    removeState(st.name);
    console.log(`destroyed ${st.name} (${holders.length} namespaces)`);
  }
}

// ===== Main =====

const program = new Command();
program.name('topo').description('lodestone network-topology harness').enablePositionalOptions();
program
  .command('launch')
  .argument('<file>', 'topology JSON file')
  .option('--keep', 'keep the topology directory (logs, configs) after teardown')
  .description('launch a topology and keep it up until Ctrl-C')
  .action(launch);
program.command('list').description('list launched topologies').action(list);
program
  .command('exec')
  .argument('<node>', 'NODE or TOPO:NODE')
  .argument('[cmd...]', 'command (after --); default a shell')
  .option('--topo <name>', 'topology holding the node')
  .passThroughOptions()
  .description('run a command inside a node')
  .action(async (node: string, cmd: string[], opts: { topo?: string }) => {
    process.exitCode = await execIn(node, cmd, opts);
  });
program
  .command('destroy')
  .argument('[names...]', 'topologies to destroy (default all)')
  .description('tear topologies down')
  .action(destroy);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
