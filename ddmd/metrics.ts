// Prometheus metrics of ddmd (default 127.0.0.1:8001 /metrics): the daemon's counters, per-peer
// gauges from the delay probes (state, smoothed/minimum RTT, jitter, loss), route counts and the
// lower half's counters and refused routes. Values are read from the daemon at scrape time.
//
// Names follow Prometheus conventions: `ddm_` prefix, `_total` on counters, seconds and ratios as
// base units. Maghemite's ddm_session counters (solicitations, advertisements, updates, peer
// expirations) have their equivalents here.

import { MetricsRegistry, registerProcessMetrics, type Sample } from '../lib/metrics.js';
import type pino from 'pino';
import type { DdmCounters, DdmDaemon } from './daemon.js';

// ===== Counters =====

/** Daemon counters by metric name, with help text. */
const COUNTERS: readonly [name: string, key: keyof DdmCounters, help: string][] = [
  ['ddm_solicitations_sent_total', 'solicitationsSent', 'Discovery solicitations sent.'],
  ['ddm_advertisements_sent_total', 'advertisementsSent', 'Discovery advertisements sent.'],
  ['ddm_discovery_received_total', 'discoveryReceived', 'Discovery packets received and decoded.'],
  ['ddm_probes_sent_total', 'probesSent', 'Delay probes and probe replies sent.'],
  ['ddm_probes_received_total', 'probesReceived', 'Delay probes and probe replies received.'],
  ['ddm_bad_packets_total', 'badPackets', 'Discovery or probe packets that failed to decode.'],
  ['ddm_peer_ups_total', 'peerUps', 'Neighbours that reached the exchange state.'],
  ['ddm_peer_downs_total', 'peerDowns', 'Neighbours that were expired or lost.'],
  ['ddm_updates_sent_total', 'updatesSent', 'Exchange pushes sent.'],
  ['ddm_updates_received_total', 'updatesReceived', 'Exchange pushes accepted.'],
  ['ddm_update_send_failures_total', 'updateSendFailures', 'Exchange pushes that failed.'],
  ['ddm_pull_failures_total', 'pullFailures', 'Exchange pulls that failed.'],
  ['ddm_loops_dropped_total', 'loopsDropped', 'Path vectors dropped because they contained our hostname.'],
  ['ddm_bad_updates_total', 'badUpdates', 'Exchange bodies that failed validation.'],
];

const STATES = ['solicit', 'exchange', 'unreachable'] as const;

// ===== Registry =====

/** A registry with every ddmd metric family, reading from `d`. */
export function ddmMetrics(d: DdmDaemon, log?: pino.Logger): MetricsRegistry {
  const r = new MetricsRegistry(log);
  for (const [name, key, help] of COUNTERS) {
    r.register({ name, help, type: 'counter', collect: () => [{ value: d.counters[key] }] });
  }

  // Per-peer gauges. A peer's RTT families have no sample until the first probe answers.
  const peers = () => d.peers();
  const perPeer = (
    name: string,
    help: string,
    value: (p: ReturnType<DdmDaemon['peers']>[number]) => number | undefined,
  ) =>
    r.register({
      name,
      help,
      type: 'gauge',
      labelNames: ['interface', 'peer'],
      collect: () => {
        const out: Sample[] = [];
        for (const p of peers()) {
          const v = value(p);
          if (v !== undefined)
            out.push({ labels: { interface: p.ifname, peer: p.hostname ?? '' }, value: v });
        }
        return out;
      },
    });
  r.register({
    name: 'ddm_peer_state',
    help: 'Session state per interface: 1 for the current state, 0 for the others.',
    type: 'gauge',
    labelNames: ['interface', 'state'],
    collect: () =>
      peers().flatMap((p) =>
        STATES.map((s) => ({ labels: { interface: p.ifname, state: s }, value: p.state === s ? 1 : 0 })),
      ),
  });
  const sec = (us: number | undefined) => (us === undefined ? undefined : us / 1e6);
  perPeer('ddm_peer_srtt_seconds', 'Smoothed round-trip time of the delay probes.', (p) => sec(p.rtt.srttUs));
  perPeer('ddm_peer_min_rtt_seconds', 'Minimum round-trip time over the recent window.', (p) =>
    sec(p.rtt.minRttUs),
  );
  perPeer('ddm_peer_jitter_seconds', 'Smoothed deviation of the round-trip time.', (p) =>
    sec(p.rtt.jitterUs),
  );
  perPeer('ddm_peer_loss_ratio', 'Fraction of recent probes that went unanswered.', (p) => p.rtt.loss);
  perPeer(
    'ddm_peer_probes_lost',
    'Probes lost on the current link since the session began.',
    (p) => p.rtt.lost,
  );

  // Routes.
  r.register({
    name: 'ddm_routes',
    help: 'Destinations with an installed route.',
    type: 'gauge',
    collect: () => [{ value: d.routes().length }],
  });
  r.register({
    name: 'ddm_route_next_hops',
    help: 'Next hops of installed routes, by outgoing interface.',
    type: 'gauge',
    labelNames: ['interface'],
    collect: () => {
      const n = new Map<string, number>();
      for (const p of peers()) n.set(p.ifname, 0);
      for (const route of d.routes()) for (const h of route.nextHops) n.set(h.peer, (n.get(h.peer) ?? 0) + 1);
      return [...n].map(([ifname, value]) => ({ labels: { interface: ifname }, value }));
    },
  });
  r.register({
    name: 'ddm_imported_paths',
    help: 'Path vectors imported, by interface.',
    type: 'gauge',
    labelNames: ['interface'],
    collect: () =>
      d.router.imported().map((x) => ({ labels: { interface: x.peer.id }, value: x.paths.length })),
  });
  r.register({
    name: 'ddm_imported_tunnel_endpoints',
    help: 'Tunnel origins imported, by interface.',
    type: 'gauge',
    labelNames: ['interface'],
    collect: () =>
      d.router.importedTunnels().map((x) => ({ labels: { interface: x.peer.id }, value: x.tunnels.length })),
  });
  r.register({
    name: 'ddm_originated_prefixes',
    help: 'Prefixes this router originates.',
    type: 'gauge',
    collect: () => [{ value: d.router.originatedPrefixes().length }],
  });
  r.register({
    name: 'ddm_originated_tunnel_endpoints',
    help: 'Tunnel endpoints this router originates.',
    type: 'gauge',
    collect: () => [{ value: d.router.originatedTunnelList().length }],
  });

  // Lower half.
  r.register({
    name: 'ddm_fib_errors',
    help: 'Routes the kernel currently refuses (see GET /fib/errors).',
    type: 'gauge',
    collect: () => [{ value: d.fibErrors().length }],
  });
  const fib = (
    name: string,
    help: string,
    key: 'installed' | 'removed' | 'refused' | 'repaired' | 'scans' | 'batches',
  ) =>
    r.register({
      name,
      help,
      type: 'counter',
      collect: () => {
        const c = d.fibCounters();
        return c === undefined ? [] : [{ value: c[key] }];
      },
    });
  fib('ddm_fib_routes_installed_total', 'Route installs and replacements the kernel accepted.', 'installed');
  fib('ddm_fib_routes_removed_total', 'Route removals the kernel accepted.', 'removed');
  fib('ddm_fib_routes_refused_total', 'Route operations the kernel refused.', 'refused');
  fib('ddm_fib_routes_repaired_total', 'Routes the periodic scan found wrong and put right.', 'repaired');
  fib('ddm_fib_scans_total', 'Full comparisons of the kernel table with the RIB.', 'scans');
  fib('ddm_fib_batches_total', 'Batches of route operations sent to the kernel.', 'batches');

  registerProcessMetrics(r);
  return r;
}
