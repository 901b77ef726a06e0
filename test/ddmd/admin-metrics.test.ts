// ddmd's Prometheus metrics against daemons in an in-memory rack: the text parses and carries the
// expected families, labels and values; the HTTP endpoint serves it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ddmMetrics } from '../../ddmd/metrics.js';
import { METRICS_CONTENT_TYPE, serveMetrics, type MetricsServer } from '../../lib/metrics.js';
import { Rack } from './memory-rack.js';
import { parsePrometheus, type ParsedFamily } from '../lib/prom-parse.js';

let rack: Rack;
let server: MetricsServer | undefined;

beforeEach(async () => {
  rack = new Rack();
  await rack.build(2);
  await rack.run(3000);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await rack.stop();
});

function sample(f: ParsedFamily | undefined, labels: Record<string, string> = {}): number | undefined {
  return f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('ddmd metrics', () => {
  it('renders the counters, per-peer gauges, route counts and FIB families', () => {
    const m = parsePrometheus(ddmMetrics(rack.node('sled0').d).render());
    for (const [name, type] of [
      ['ddm_solicitations_sent_total', 'counter'],
      ['ddm_probes_sent_total', 'counter'],
      ['ddm_updates_received_total', 'counter'],
      ['ddm_peer_state', 'gauge'],
      ['ddm_peer_srtt_seconds', 'gauge'],
      ['ddm_peer_min_rtt_seconds', 'gauge'],
      ['ddm_peer_jitter_seconds', 'gauge'],
      ['ddm_peer_loss_ratio', 'gauge'],
      ['ddm_routes', 'gauge'],
      ['ddm_route_next_hops', 'gauge'],
      ['ddm_fib_errors', 'gauge'],
      ['ddm_fib_routes_installed_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
    ]) {
      expect(m.get(name!)?.type, name).toBe(type);
    }
    expect(sample(m.get('ddm_solicitations_sent_total'))).toBeGreaterThan(0);
    expect(sample(m.get('ddm_probes_sent_total'))).toBeGreaterThan(20);
    expect(sample(m.get('ddm_peer_ups_total'))).toBe(2);
    expect(sample(m.get('ddm_peer_state'), { interface: 'eth0', state: 'exchange' })).toBe(1);
    expect(sample(m.get('ddm_peer_state'), { interface: 'eth0', state: 'solicit' })).toBe(0);
    expect(m.get('ddm_peer_state')!.samples).toHaveLength(6);
    const srtt = sample(m.get('ddm_peer_srtt_seconds'), { interface: 'eth1', peer: 'sw1' })!;
    expect(srtt).toBeGreaterThan(50e-6);
    expect(srtt).toBeLessThan(500e-6);
    expect(sample(m.get('ddm_peer_min_rtt_seconds'), { interface: 'eth0', peer: 'sw0' })).toBeLessThanOrEqual(
      sample(m.get('ddm_peer_srtt_seconds'), { interface: 'eth0', peer: 'sw0' })!,
    );
    expect(sample(m.get('ddm_peer_loss_ratio'), { interface: 'eth0' })).toBe(0);
    expect(sample(m.get('ddm_routes'))).toBe(1);
    expect(sample(m.get('ddm_route_next_hops'), { interface: 'eth0' })).toBe(1);
    expect(sample(m.get('ddm_imported_paths'), { interface: 'eth1' })).toBe(1);
    expect(sample(m.get('ddm_originated_prefixes'))).toBe(1);
    expect(sample(m.get('ddm_fib_errors'))).toBe(0);
    expect(sample(m.get('ddm_fib_routes_installed_total'))).toBeGreaterThanOrEqual(1);
  });

  it('follows the daemon: a lost link shows in state, loss, next hops and refused routes', async () => {
    const sled0 = rack.node('sled0');
    sled0.fib.refuse = (r) => (r.nexthops.length === 1 ? 'Network is unreachable' : undefined);
    rack.fabric.setLink('sled0', 'eth1', { up: false });
    await rack.run(1500);
    const m = parsePrometheus(ddmMetrics(sled0.d).render());
    expect(sample(m.get('ddm_peer_state'), { interface: 'eth1', state: 'exchange' })).toBe(0);
    expect(sample(m.get('ddm_peer_downs_total'))).toBeGreaterThanOrEqual(1);
    expect(sample(m.get('ddm_route_next_hops'), { interface: 'eth1' })).toBe(0);
    expect(sample(m.get('ddm_fib_errors'))).toBe(1);
    expect(sample(m.get('ddm_fib_routes_refused_total'))).toBeGreaterThanOrEqual(1);
  });

  it('serves GET /metrics over HTTP', async () => {
    server = await serveMetrics(ddmMetrics(rack.node('sw0').d), { host: '127.0.0.1', port: 0 });
    const r = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
    const m = parsePrometheus(await r.text());
    expect(sample(m.get('ddm_routes'))).toBe(2);
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
