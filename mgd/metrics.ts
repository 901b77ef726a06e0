// Prometheus metrics of mgd (GET /metrics on the admin API): per-neighbour FSM state, message and
// import counters and prefix counts per family, the RIB's sizes, and the lower half's counters and
// refused routes. Values are read from the daemon at scrape time (lib/metrics.ts registry).
//
// Names follow Prometheus conventions: `mgd_` prefix, `_total` on counters. Neighbour series are
// labelled with the local AS (`router`) and the neighbour's address (`neighbor`).

import type pino from 'pino';
import { MetricsRegistry, registerProcessMetrics, type Sample } from '../lib/metrics.js';
import type { PeerCounters } from './bgp/peer.js';
import type { FamilyCounts, NeighborStatus, SpeakerCounters } from './bgp/speaker.js';
import type { MgdDaemon } from './daemon.js';

// ===== Neighbour counters =====

/** Every counter a neighbour reports, with its meaning; the API and the metrics both use it. */
export const NEIGHBOR_COUNTERS: readonly (readonly [
  key: keyof (PeerCounters & SpeakerCounters),
  help: string,
])[] = [
  ['opensSent', 'OPEN messages sent.'],
  ['opensReceived', 'OPEN messages received.'],
  ['updatesSent', 'UPDATE messages sent.'],
  ['updatesReceived', 'UPDATE messages received.'],
  ['keepalivesSent', 'KEEPALIVE messages sent.'],
  ['keepalivesReceived', 'KEEPALIVE messages received.'],
  ['notificationsSent', 'NOTIFICATION messages sent.'],
  ['notificationsReceived', 'NOTIFICATION messages received.'],
  ['routeRefreshReceived', 'ROUTE-REFRESH messages received.'],
  ['routeRefreshSent', 'ROUTE-REFRESH messages sent.'],
  ['establishedTransitions', 'Times the session reached Established.'],
  ['connectionsAccepted', 'Inbound TCP connections accepted.'],
  ['connectionsRejected', 'Inbound TCP connections rejected.'],
  ['decodeErrors', 'Messages that failed to decode.'],
  ['treatAsWithdraw', 'UPDATEs treated as withdrawals (RFC 7606).'],
  ['rejectedByRules', 'Routes rejected by the built-in import rules (AS loop, own router id...).'],
  ['rejectedByPolicy', 'Routes rejected by the import policy.'],
  ['unusableNextHop', 'Routes rejected for an unusable next hop.'],
  ['ignoredFamily', 'Routes of a family not negotiated, ignored.'],
  ['maxPrefixExceeded', 'Times the maximum-prefix limit was exceeded.'],
  ['endOfRibReceived', 'End-of-RIB markers received (RFC 4724).'],
  ['endOfRibSent', 'End-of-RIB markers sent.'],
  ['staleRemoved', 'Stale routes removed after a graceful restart.'],
  ['backpressureWaits', 'Times outbound work waited for a full socket buffer to drain.'],
];

/** `opensSent` → `opens_sent`. */
export function snakeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

const FAMILY_COUNTS: readonly [key: keyof FamilyCounts, help: string][] = [
  ['received', 'Prefixes in the Adj-RIB-In, per family.'],
  ['accepted', 'Prefixes the import policy accepted, per family.'],
  ['advertised', 'Prefixes in the Adj-RIB-Out, per family.'],
  ['stale', 'Prefixes kept stale while the neighbour restarts, per family.'],
];

// ===== Registry =====

/** A registry with every mgd metric family, reading from `d`. */
export function mgdMetrics(d: MgdDaemon, log?: pino.Logger): MetricsRegistry {
  const r = new MetricsRegistry(log);

  // One neighbour list and one RIB walk per scrape: the families of one render share them, and
  // the cache is dropped once the (synchronous) render is over.
  let neighbors: (NeighborStatus & { router: number })[] | undefined;
  let ribStats: ReturnType<MgdDaemon['rib']['stats']> | undefined;
  const forget = () => {
    neighbors = undefined;
    ribStats = undefined;
  };
  const nbs = () => {
    if (neighbors === undefined) {
      neighbors = d.neighbors();
      queueMicrotask(forget);
    }
    return neighbors;
  };
  const stats = () => {
    if (ribStats === undefined) {
      ribStats = d.rib.stats();
      queueMicrotask(forget);
    }
    return ribStats;
  };
  const labels = (n: { router: number; address: string }) => ({
    router: String(n.router),
    neighbor: n.address,
  });

  r.register({
    name: 'mgd_neighbor_state',
    help: 'BGP FSM state per neighbour: 1 for the current state, 0 for the others.',
    type: 'gauge',
    labelNames: ['router', 'neighbor', 'state'],
    collect: () =>
      nbs().flatMap((n) =>
        STATES.map((s) => ({ labels: { ...labels(n), state: s }, value: n.state === s ? 1 : 0 })),
      ),
  });
  r.register({
    name: 'mgd_neighbor_up',
    help: 'Whether the session is Established.',
    type: 'gauge',
    labelNames: ['router', 'neighbor'],
    collect: () => nbs().map((n) => ({ labels: labels(n), value: n.state === 'Established' ? 1 : 0 })),
  });
  for (const [key, help] of NEIGHBOR_COUNTERS) {
    r.register({
      name: `mgd_neighbor_${snakeCase(key)}_total`,
      help,
      type: 'counter',
      labelNames: ['router', 'neighbor'],
      collect: () => nbs().map((n) => ({ labels: labels(n), value: n.counters[key] })),
    });
  }
  for (const [key, help] of FAMILY_COUNTS) {
    r.register({
      name: `mgd_neighbor_prefixes_${key}`,
      help,
      type: 'gauge',
      labelNames: ['router', 'neighbor', 'family'],
      collect: () => {
        const out: Sample[] = [];
        for (const n of nbs()) {
          for (const [family, c] of Object.entries(n.families))
            out.push({ labels: { ...labels(n), family }, value: c[key] });
        }
        return out;
      },
    });
  }

  // RIB.
  r.register({
    name: 'mgd_rib_prefixes',
    help: 'Prefixes in the RIB (with at least one path), per family.',
    type: 'gauge',
    labelNames: ['family'],
    collect: () => [
      { labels: { family: 'ipv4' }, value: stats().prefixes4 },
      { labels: { family: 'ipv6' }, value: stats().prefixes6 },
    ],
  });
  const ribGauge = (name: string, help: string, key: 'paths' | 'selected' | 'attrSets' | 'nhLists') =>
    r.register({ name, help, type: 'gauge', collect: () => [{ value: stats()[key] }] });
  ribGauge('mgd_rib_paths', 'Paths in the RIB, both families.', 'paths');
  ribGauge('mgd_rib_selected_routes', 'Prefixes with a selected route, both families.', 'selected');
  ribGauge('mgd_rib_attribute_sets', 'Distinct interned attribute sets.', 'attrSets');
  ribGauge('mgd_rib_nexthop_lists', 'Distinct interned next-hop lists.', 'nhLists');

  // Lower half (no samples with the `none` backend).
  r.register({
    name: 'mgd_fib_info',
    help: 'The forwarding-table backend (1 for the one in use; backend="none" without a lower half).',
    type: 'gauge',
    labelNames: ['backend'],
    collect: () => [{ labels: { backend: d.fib?.name ?? 'none' }, value: 1 }],
  });
  r.register({
    name: 'mgd_fib_errors',
    help: 'Routes the forwarding table currently refuses (retried with backoff; see GET /fib).',
    type: 'gauge',
    collect: () => (d.fibSync === undefined ? [] : [{ value: d.fibSync.errors().length }]),
  });
  r.register({
    name: 'mgd_fib_grace_period',
    help: 'Whether the lower half is in its start-up grace period.',
    type: 'gauge',
    collect: () => (d.fibSync === undefined ? [] : [{ value: d.fibSync.inGracePeriod ? 1 : 0 }]),
  });
  const fib = (
    name: string,
    help: string,
    key: 'installed' | 'removed' | 'refused' | 'repaired' | 'scans' | 'batches' | 'adopted',
  ) =>
    r.register({
      name,
      help,
      type: 'counter',
      collect: () => (d.fibSync === undefined ? [] : [{ value: d.fibSync.counters[key] }]),
    });
  fib('mgd_fib_routes_installed_total', 'Route installs and replacements the table accepted.', 'installed');
  fib('mgd_fib_routes_removed_total', 'Route removals the table accepted.', 'removed');
  fib('mgd_fib_routes_refused_total', 'Route operations the table refused.', 'refused');
  fib('mgd_fib_routes_repaired_total', 'Routes the periodic scan found wrong and put right.', 'repaired');
  fib(
    'mgd_fib_routes_adopted_total',
    'Routes of a previous run kept through the start-up grace period.',
    'adopted',
  );
  fib('mgd_fib_scans_total', 'Full comparisons of the table with the RIB.', 'scans');
  fib('mgd_fib_batches_total', 'Batches of route operations sent to the table.', 'batches');

  registerProcessMetrics(r);
  return r;
}
