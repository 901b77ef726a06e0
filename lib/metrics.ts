// A small Prometheus metrics registry and its HTTP endpoint, shared by both daemons. It renders the
// Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` lines per family, one line per
// sample `name{label="value",…} value`, with `\` and newline escaped in help text and `\`, `"`
// and newline escaped in label values.
//
// Most values already live in the daemons (counters objects, session state), so a family is a
// `collect` callback that reads them at scrape time; `counter()` and `gauge()` hold their own
// values for the few things nothing else counts.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pino from 'pino';

// ===== Types =====

export type MetricType = 'counter' | 'gauge';
export type Labels = Readonly<Record<string, string>>;

/** One sample of a family. */
export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

/** A metric family whose samples are read when scraped. */
export interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames?: readonly string[];
  readonly collect: () => Iterable<Sample>;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// ===== Text format =====

/** Escape HELP text: backslash and line feed. */
export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Escape a label value: backslash, double quote and line feed. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it (`NaN`, `+Inf`, `-Inf`, or a Go-style float). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function renderLabels(names: readonly string[], labels: Labels | undefined, family: string): string {
  const given = labels ?? {};
  for (const k of Object.keys(given)) {
    if (!names.includes(k)) throw new Error(`metric ${family}: label "${k}" is not declared`);
  }
  if (names.length === 0) return '';
  return `{${names.map((n) => `${n}="${escapeLabelValue(given[n] ?? '')}"`).join(',')}}`;
}

// ===== Registry =====

/** A counter held by the registry. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(private readonly labelNames: readonly string[]) {}

  /** Add `by` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error('a counter only goes up');
    const k = labelKey(this.labelNames, labels);
    const cur = this.values.get(k);
    if (cur === undefined) this.values.set(k, { labels, value: by });
    else cur.value += by;
  }

  samples(): Sample[] {
    return [...this.values.values()].map((x) => ({ labels: x.labels, value: x.value }));
  }
}

/** A gauge held by the registry. */
export class Gauge {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(private readonly labelNames: readonly string[]) {}

  /** Set the series with these labels. */
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(this.labelNames, labels), { labels, value });
  }

  samples(): Sample[] {
    return [...this.values.values()].map((x) => ({ labels: x.labels, value: x.value }));
  }
}

function labelKey(names: readonly string[], labels: Labels): string {
  return JSON.stringify(names.map((n) => labels[n] ?? ''));
}

/** A set of metric families rendered together. */
export class MetricsRegistry {
  private readonly families = new Map<string, FamilySpec>();
  /** Families whose collect callback threw during the last render. */
  collectErrors = 0;

  constructor(private readonly log?: pino.Logger) {}

  /** Add a family read at scrape time. */
  register(spec: FamilySpec): void {
    if (!NAME_RE.test(spec.name)) throw new Error(`bad metric name "${spec.name}"`);
    for (const l of spec.labelNames ?? []) {
      if (!LABEL_RE.test(l) || l.startsWith('__'))
        throw new Error(`metric ${spec.name}: bad label name "${l}"`);
    }
    if (this.families.has(spec.name)) throw new Error(`metric ${spec.name} is registered twice`);
    this.families.set(spec.name, spec);
  }

  /** Add a counter the caller increments. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const c = new Counter(labelNames);
    this.register({ name, help, type: 'counter', labelNames, collect: () => c.samples() });
    return c;
  }

  /** Add a gauge the caller sets. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const g = new Gauge(labelNames);
    this.register({ name, help, type: 'gauge', labelNames, collect: () => g.samples() });
    return g;
  }

  /** The exposition text of every family, in registration order. */
  render(): string {
    let out = '';
    for (const f of this.families.values()) {
      let lines: string;
      try {
        lines = '';
        const names = f.labelNames ?? [];
        for (const s of f.collect())
          lines += `${f.name}${renderLabels(names, s.labels, f.name)} ${formatValue(s.value)}\n`;
      } catch (e) {
        // One broken family must not cost the whole scrape.
        this.collectErrors++;
        this.log?.warn({ metric: f.name, error: (e as Error).message }, 'metric collection failed');
        continue;
      }
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n${lines}`;
    }
    return out;
  }
}

/** Families every process has: start time, resident memory, heap in use. */
export function registerProcessMetrics(r: MetricsRegistry): void {
  const start = Date.now() / 1000 - process.uptime();
  r.register({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch in seconds.',
    type: 'gauge',
    collect: () => [{ value: Math.round(start) }],
  });
  r.register({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    type: 'gauge',
    collect: () => [{ value: process.memoryUsage().rss }],
  });
  r.register({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use in bytes.',
    type: 'gauge',
    collect: () => [{ value: process.memoryUsage().heapUsed }],
  });
}

// ===== HTTP endpoint =====

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Serve `GET /metrics` (and HEAD) from the registry; returns once listening. */
export async function serveMetrics(
  r: MetricsRegistry,
  opts: { host: string; port: number; log?: pino.Logger },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
      return;
    }
    const body = r.render();
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  opts.log?.info({ host: a.address, port: a.port }, 'metrics listening');
  return {
    host: a.address,
    port: a.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
