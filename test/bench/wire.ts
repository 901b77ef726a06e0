// Benchmark of the BGP UPDATE codec: packed IPv4 UPDATEs with realistic attributes (ORIGIN, a
// 3-5 hop 4-octet AS_PATH, NEXT_HOP, MED, communities), built by the UPDATE builder and decoded
// by the UPDATE body decoder, in two shapes: about 900 prefixes per 4096-byte message, and 15
// prefixes per attribute set. Prints prefixes per second (median of several runs, one core);
// asserts nothing. Run with `npm run bench:wire`.

import { buildAnnouncements } from '../../wire/bgp/builder.js';
import { decodeUpdateBody, encodeUpdateBody, updateBodyLength } from '../../wire/bgp/update.js';
import type { CodecContext, PathAttributes, UpdateMessage } from '../../wire/bgp/types.js';
import { prefix4, type Prefix } from '../../wire/ip/index.js';

const CTX: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
const RUNS = 7;
const WARMUP = 2;
const MIN_RUN_MS = 200;

// ===== Workload =====

/** A deterministic pseudo-random source (xorshift32), so every run sees the same table. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

interface Group {
  readonly attrs: PathAttributes;
  readonly prefixes: Prefix[];
}

function makeGroups(groups: number, perGroup: number, seed: number): Group[] {
  const r = rng(seed);
  const out: Group[] = [];
  let next = 0x01000000;
  for (let g = 0; g < groups; g++) {
    const hops = 3 + (r() % 3);
    const asns = Array.from({ length: hops }, () =>
      r() % 2 === 0 ? 64512 + (r() % 1000) : 4200000000 + (r() % 100000),
    );
    const attrs: PathAttributes = {
      origin: 0,
      asPath: [{ type: 2, asns }],
      nextHop: 0xc0000200 + (r() % 250) + 1,
      med: r() % 1000,
      communities: [((asns[0]! & 0xffff) << 16) | (r() % 1000), 0xfde80000 + (r() % 100)].map((c) => c >>> 0),
    };
    const prefixes: Prefix[] = [];
    for (let i = 0; i < perGroup; i++) {
      const len = 22 + (r() % 3);
      // Spread prefixes over the address space, each aligned to its own length.
      next = (next + 1024) >>> 0;
      prefixes.push(prefix4(next, len));
    }
    out.push({ attrs, prefixes });
  }
  return out;
}

// ===== Measurement =====

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median rate over RUNS runs; each run repeats `fn` for at least MIN_RUN_MS so timer noise is small. */
function timeRuns(fn: () => number): { rate: number; rates: number[] } {
  for (let i = 0; i < WARMUP; i++) fn();
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    let n = 0;
    let ns = 0;
    do {
      n += fn();
      ns = Number(process.hrtime.bigint() - t0);
    } while (ns < MIN_RUN_MS * 1e6);
    rates.push((n * 1e9) / ns);
  }
  return { rate: median(rates), rates };
}

function fmt(rate: number): string {
  return `${(rate / 1e6).toFixed(2)} M prefixes/s`;
}

function bench(label: string, groups: Group[]): void {
  const total = groups.reduce((n, g) => n + g.prefixes.length, 0);
  const messages: Uint8Array[] = [];
  for (const g of groups) messages.push(...buildAnnouncements(g.attrs, g.prefixes, CTX));
  const avgLen = messages.reduce((n, m) => n + m.length, 0) / messages.length;
  console.log(
    `\n${label}: ${total} prefixes, ${groups.length} attribute sets, ${messages.length} messages ` +
      `(${(total / messages.length).toFixed(0)} prefixes and ${avgLen.toFixed(0)} bytes per message)`,
  );

  let sink = 0;
  const build = timeRuns(() => {
    for (const g of groups) sink += buildAnnouncements(g.attrs, g.prefixes, CTX).length;
    return total;
  });

  const decoded: UpdateMessage[] = [];
  const decode = timeRuns(() => {
    decoded.length = 0;
    let n = 0;
    for (const m of messages) {
      const u = decodeUpdateBody(m, 19, m.length, CTX);
      n += u.nlri.length;
      decoded.push(u);
    }
    return n;
  });

  const scratch = new Uint8Array(65536);
  const encode = timeRuns(() => {
    let n = 0;
    for (const u of decoded) {
      const len = updateBodyLength(u, CTX);
      sink += encodeUpdateBody(u, scratch, 19, CTX) - len;
      n += u.nlri.length;
    }
    return n;
  });

  console.log(
    `  decode (decodeUpdateBody):          ${fmt(decode.rate)}   runs: ${decode.rates.map((r) => (r / 1e6).toFixed(2)).join(' ')}`,
  );
  console.log(
    `  encode (builder, whole messages):   ${fmt(build.rate)}   runs: ${build.rates.map((r) => (r / 1e6).toFixed(2)).join(' ')}`,
  );
  console.log(
    `  encode (encodeUpdateBody, re-encode): ${fmt(encode.rate)}   runs: ${encode.rates.map((r) => (r / 1e6).toFixed(2)).join(' ')}`,
  );
  if (sink === -1) console.log('unreachable');
}

console.log(
  `UPDATE codec benchmark: node ${process.version}, median of ${RUNS} runs of at least ${MIN_RUN_MS} ms after ${WARMUP} warm-up runs, one core`,
);
bench('Packed (about 900 prefixes per 4096-byte message)', makeGroups(300, 900, 1));
bench('Sparse (15 prefixes per attribute set)', makeGroups(18000, 15, 2));
