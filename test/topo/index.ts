// Public API of the topology harness (test/topo): describe nodes and links, launch them as network
// namespaces joined by veth pairs, run commands and daemons inside, read kernel routes, tear down.
//
//   import { Topology, requireRoot, waitFor } from '../topo/index.js';
//   const skip = requireRoot();               // null, or the one-line reason to skip
//   const topo = new Topology('name');        // { keepDir?, baseDir? }
//   const a = topo.node('a');                 // { loopback4?, loopback6?, forwarding? }
//   const b = topo.node('b');
//   const l = topo.link(a, b);                // { rate?: { rate, burst?, latency? }, mtu? }
//   await topo.launch();
//   l.a.ifname, l.a.addr4, l.b.addr6, l.b.linkLocal6, a.loopback4   // predictable addresses
//   const r = await a.exec(['ip', '-j', 'route']);  // { code, stdout, stderr }, timeout 15 s
//   await a.run([...]) / a.sh('...')                 // same, throwing on non-zero exit; returns stdout
//   const p = a.spawn('bird', [...], { logFile });   // long-lived; killed by PID at destroy
//   await a.routes({ family: 4, proto: 'static' })   // KernelRoute[] (multipath next hops, weights)
//   await l.cut(); await l.restore(); await l.setRate({ rate: '5mbit' }); await l.drop({ udpPort: 3784 });
//   await waitFor(() => cond(), { what: 'BGP up', timeoutMs: 10_000 });
//   await topo.destroy();                            // idempotent; kills everything; namespaces vanish
//
// Daemon helpers (FRR, BIRD, GoBGP) live in ./bgp.js.

export { Topology, Node, Link, LinkEnd, pidsInNetns } from './topology.js';
export type {
  TopologyOptions,
  NodeOptions,
  LinkOptions,
  RateLimit,
  DropSpec,
  TopologySummary,
} from './topology.js';
export {
  execArgv,
  spawnArgv,
  waitFor,
  sleep,
  requireRoot,
  findBinary,
  pidAlive,
  Proc,
  ExecError,
  WaitTimeout,
} from './proc.js';
export type { ExecResult, ExecOptions, SpawnOptions, WaitOptions } from './proc.js';
export { parseIpRoutes } from './routes.js';
export type { KernelRoute, KernelNexthop, RouteQuery } from './routes.js';
