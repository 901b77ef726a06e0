// The Prometheus registry and text format: escaping, special values, label checks, collection
// errors, held counters and gauges; every rendering is read back with a strict parser.
import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatValue, MetricsRegistry } from '../../lib/metrics.js';
import { parsePrometheus } from './prom-parse.js';

describe('metrics text format', () => {
  it('escapes help text and label values so that they read back unchanged', () => {
    expect(escapeHelp('a\\b\nc"d')).toBe('a\\\\b\\nc"d');
    expect(escapeLabelValue('a\\b\nc"d')).toBe('a\\\\b\\nc\\"d');
    const r = new MetricsRegistry();
    const nasty = 'eth0 "uplink"\\\nsecond line';
    r.register({
      name: 'x_total',
      help: 'Help with a backslash \\ and\na newline.',
      type: 'counter',
      labelNames: ['interface'],
      collect: () => [{ labels: { interface: nasty }, value: 3 }],
    });
    const text = r.render();
    expect(text).toBe(
      '# HELP x_total Help with a backslash \\\\ and\\na newline.\n# TYPE x_total counter\n' +
        'x_total{interface="eth0 \\"uplink\\"\\\\\\nsecond line"} 3\n',
    );
    const f = parsePrometheus(text).get('x_total')!;
    expect(f.help).toBe('Help with a backslash \\ and\na newline.');
    expect(f.samples[0]!.labels.interface).toBe(nasty);
  });

  it('writes NaN and infinities as Prometheus does', () => {
    expect([NaN, Infinity, -Infinity, 0.25, 1e21, -3].map(formatValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '0.25',
      '1e+21',
      '-3',
    ]);
    const r = new MetricsRegistry();
    r.register({ name: 'g', help: 'g.', type: 'gauge', collect: () => [{ value: Infinity }] });
    expect(parsePrometheus(r.render()).get('g')!.samples[0]!.value).toBe(Infinity);
  });

  it('writes labels in declared order and fills missing ones with an empty value', () => {
    const r = new MetricsRegistry();
    const g = r.gauge('peer_rtt_seconds', 'RTT.', ['interface', 'peer']);
    g.set({ peer: 'sw0', interface: 'eth0' }, 0.0001);
    g.set({ interface: 'eth1' }, 0.0002);
    g.set({ peer: 'sw0', interface: 'eth0' }, 0.0003);
    expect(r.render().split('\n').slice(2)).toEqual([
      'peer_rtt_seconds{interface="eth0",peer="sw0"} 0.0003',
      'peer_rtt_seconds{interface="eth1",peer=""} 0.0002',
      '',
    ]);
  });

  it('held counters only go up and keep one series per label set', () => {
    const r = new MetricsRegistry();
    const c = r.counter('requests_total', 'Requests.', ['code']);
    c.inc({ code: '200' });
    c.inc({ code: '200' }, 2);
    c.inc({ code: '404' });
    expect(() => c.inc({ code: '200' }, -1)).toThrow(/only goes up/);
    const f = parsePrometheus(r.render()).get('requests_total')!;
    expect(f.samples.map((s) => [s.labels.code, s.value])).toEqual([
      ['200', 3],
      ['404', 1],
    ]);
  });

  it('rejects bad names and duplicates at registration', () => {
    const r = new MetricsRegistry();
    const spec = { help: 'h', type: 'gauge' as const, collect: () => [] };
    expect(() => r.register({ ...spec, name: '1bad' })).toThrow(/bad metric name/);
    expect(() => r.register({ ...spec, name: 'ok', labelNames: ['__reserved'] })).toThrow(/bad label name/);
    expect(() => r.register({ ...spec, name: 'ok', labelNames: ['has-dash'] })).toThrow(/bad label name/);
    r.register({ ...spec, name: 'ok' });
    expect(() => r.register({ ...spec, name: 'ok' })).toThrow(/twice/);
  });

  it('a family whose collection fails is left out; the others are still served', () => {
    const r = new MetricsRegistry();
    r.register({ name: 'a', help: 'a.', type: 'gauge', collect: () => [{ value: 1 }] });
    r.register({
      name: 'b',
      help: 'b.',
      type: 'gauge',
      collect: () => {
        throw new Error('daemon stopped');
      },
    });
    r.register({
      name: 'c',
      help: 'c.',
      type: 'gauge',
      collect: () => [{ labels: { undeclared: 'x' }, value: 1 }],
    });
    r.register({ name: 'd', help: 'd.', type: 'gauge', collect: () => [{ value: 4 }] });
    const m = parsePrometheus(r.render());
    expect([...m.keys()]).toEqual(['a', 'd']);
    expect(r.collectErrors).toBe(2);
  });

  it('a family with no samples still has its HELP and TYPE', () => {
    const r = new MetricsRegistry();
    r.register({ name: 'empty', help: 'Nothing yet.', type: 'gauge', collect: () => [] });
    expect(r.render()).toBe('# HELP empty Nothing yet.\n# TYPE empty gauge\n');
  });
});
