// Captures real BGP sessions between reference speakers (BIRD <-> GoBGP, FRR <-> BIRD, FRR <-> GoBGP)
// and writes every distinct message each speaker sent as a codec test vector:
// test/vectors/bgp/captured-{bird,frr,gobgp}.json, entries {name, source, hex, ctx} (no `decoded`:
// the BGP vector runner fills it in). Not a test; run by hand to regenerate the vectors:
//
//   npm run build && node dist/test/topo/capture-bgp.js [--out test/vectors/bgp] [--keep]
//
// Each pair runs an IPv4 and an IPv6 session (one family each, see interop-notes.md), originates
// IPv4 and IPv6 prefixes with communities and large communities, withdraws one prefix of each family,
// then each side shuts one session down administratively (Cease NOTIFICATION). tshark records the
// link inside one node; the TCP payload is put back in order per direction and split into messages
// by the BGP header's length field (RFC 4271 §4.1). ctx is what the two OPENs of that TCP connection
// negotiated: 4-octet AS (RFC 6793), extended message (RFC 8654) and ADD-PATH (RFC 7911).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { startBird, startFrr, startGobgp, waitEstablished, waitRoutes } from './bgp.js';
import type { BgpSpeaker, BgpSpeakerConfig, Originate } from './bgp.js';
import { execArgv, requireRoot, sleep, waitFor } from './proc.js';
import { Topology } from './topology.js';
import type { Link, Node } from './topology.js';

type Kind = 'bird' | 'frr' | 'gobgp';

const START: Record<Kind, (node: Node, cfg: BgpSpeakerConfig) => Promise<BgpSpeaker>> = {
  bird: startBird,
  frr: startFrr,
  gobgp: startGobgp,
};

const ASN: Record<Kind, number> = { bird: 65001, frr: 65002, gobgp: 65003 };
const NUM: Record<Kind, number> = { bird: 1, frr: 2, gobgp: 3 };

/** What speaker `kind` originates: two prefixes per family, one of each with communities. */
function originateFor(kind: Kind): readonly (string | Originate)[] {
  const n = NUM[kind];
  const asn = ASN[kind];
  return [
    {
      prefix: `10.${100 + n}.0.0/24`,
      communities: [`${asn}:100`, `${asn}:200`],
      largeCommunities: [`${asn}:1:2`],
    },
    `10.${100 + n}.1.0/24`,
    { prefix: `2001:db8:${n}::/48`, communities: [`${asn}:600`], largeCommunities: [`${asn}:6:6`] },
    `2001:db8:${n}:1::/64`,
  ];
}

function speakerConfig(kind: Kind, peerKind: Kind, link: Link, side: 'a' | 'b'): BgpSpeakerConfig {
  const me = side === 'a' ? link.a : link.b;
  const peer = side === 'a' ? link.b : link.a;
  return {
    asn: ASN[kind],
    routerId: me.node.loopback4,
    neighbors: [
      { address: peer.addr4, asn: ASN[peerKind], passive: side === 'b' },
      { address: peer.addr6, asn: ASN[peerKind], passive: side === 'b' },
    ],
    originate: originateFor(kind),
    holdTime: 9,
  };
}

// ===== Driving one pair =====

/** Withdraw one originated prefix through the speaker's own tools. */
async function withdrawOne(s: BgpSpeaker, kind: Kind, family: 4 | 6): Promise<string> {
  const n = NUM[kind];
  const prefix = family === 4 ? `10.${100 + n}.1.0/24` : `2001:db8:${n}:1::/64`;
  switch (kind) {
    case 'gobgp':
      await s.node.run([
        'gobgp',
        '-u',
        '127.0.0.1',
        '-p',
        '50051',
        'global',
        'rib',
        '-a',
        `ipv${family}`,
        'del',
        prefix,
      ]);
      break;
    case 'frr':
      await s.node.run([
        'vtysh',
        '--vty_socket',
        join(s.node.dir, 'frr'),
        '-c',
        'configure terminal',
        '-c',
        `router bgp ${ASN.frr}`,
        '-c',
        `address-family ipv${family} unicast`,
        '-c',
        `no network ${prefix}`,
      ]);
      break;
    case 'bird': {
      // BIRD has no per-route command: reconfigure without the prefix.
      const conf = join(s.node.dir, 'bird', 'bird.conf');
      const text = readFileSync(conf, 'utf8').replace(`  route ${prefix} blackhole;\n`, '');
      writeFileSync(conf, text);
      await s.node.run(['birdc', '-s', join(s.node.dir, 'bird', 'bird.ctl'), 'configure']);
      break;
    }
  }
  return prefix;
}

interface PairCapture {
  readonly pcap: string;
  /** Sender kind by source address. */
  readonly senders: ReadonlyMap<string, Kind>;
}

async function capturePair(x: Kind, y: Kind, keep: boolean): Promise<PairCapture> {
  const topo = new Topology(`capture-${x}-${y}`, { keepDir: keep });
  const link = topo.link(topo.node(x), topo.node(y));
  await topo.launch();
  try {
    const pcap = join(topo.dir, 'bgp.pcapng');
    const tshark = link.a.node.spawn(
      'tshark',
      ['-q', '-i', link.a.ifname, '-f', 'tcp port 179', '-w', pcap, '-a', 'duration:90'],
      { logFile: join(topo.dir, 'tshark.log') },
    );
    await waitFor(
      () => existsSync(tshark.logFile) && readFileSync(tshark.logFile, 'utf8').includes('Capturing on'),
      {
        what: `tshark capturing on ${x}:${link.a.ifname}`,
        timeoutMs: 15_000,
      },
    );
    const sx = await START[x](link.a.node, speakerConfig(x, y, link, 'a'));
    const sy = await START[y](link.b.node, speakerConfig(y, x, link, 'b'));
    await Promise.all([waitEstablished(sx), waitEstablished(sy)]);
    const all = (k: Kind, f: 4 | 6): string[] =>
      originateFor(k)
        .map((o) => (typeof o === 'string' ? o : o.prefix))
        .filter((p) => p.includes(':') === (f === 6));
    for (const [s, peer] of [
      [sx, y],
      [sy, x],
    ] as const) {
      await waitRoutes(s, 4, all(peer, 4));
      await waitRoutes(s, 6, all(peer, 6));
    }
    // One withdrawal per family from each side, seen by the other side.
    for (const [s, k, other] of [
      [sx, x, sy],
      [sy, y, sx],
    ] as const) {
      for (const f of [4, 6] as const) {
        const gone = await withdrawOne(s, k, f);
        await waitFor(async () => !(await other.routes(f)).some((r) => r.learned && r.prefix === gone), {
          what: `${other.kind} to drop withdrawn ${gone}`,
          timeoutMs: 15_000,
          intervalMs: 200,
        });
      }
    }
    // x shuts the IPv4 session plainly, y the IPv6 one with an RFC 9003 shutdown communication.
    await sx.shutdownNeighbor(link.b.addr4);
    await sy.shutdownNeighbor(link.a.addr6, `maintenance by ${y}`);
    await waitFor(async () => (await sx.sessions()).every((s) => s.state !== 'established'), {
      what: `${x} sessions down after administrative shutdown`,
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    await sleep(500);
    await tshark.stop(5_000);
    const senders = new Map<string, Kind>([
      [link.a.addr4, x],
      [link.a.addr6, x],
      [link.b.addr4, y],
      [link.b.addr6, y],
    ]);
    const copy = join(process.env.TMPDIR ?? '/tmp', `lodestone-capture-${x}-${y}.pcapng`);
    writeFileSync(copy, readFileSync(pcap));
    return { pcap: copy, senders };
  } finally {
    await topo.destroy();
  }
}

// ===== From packets to BGP messages =====

interface Segment {
  readonly seq: number;
  readonly bytes: Buffer;
}

interface Flow {
  readonly stream: string;
  readonly src: string;
  readonly family: 4 | 6;
  readonly segments: Map<number, Buffer>;
}

/** Per direction of each TCP connection, the payload in sequence order (retransmissions dropped). */
async function readFlows(pcap: string): Promise<Flow[]> {
  const r = await execArgv(
    [
      'tshark',
      '-r',
      pcap,
      '-Y',
      'tcp.len > 0',
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-e',
      'tcp.stream',
      '-e',
      'ip.src',
      '-e',
      'ipv6.src',
      '-e',
      'tcp.seq',
      '-e',
      'tcp.payload',
    ],
    { check: true, timeoutMs: 60_000 },
  );
  const flows = new Map<string, Flow>();
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [stream = '', src4 = '', src6 = '', seq = '', payload = ''] = line.split('\t');
    const src = src4 !== '' ? src4 : src6;
    const key = `${stream}|${src}`;
    let f = flows.get(key);
    if (f === undefined) {
      f = { stream, src, family: src4 !== '' ? 4 : 6, segments: new Map() };
      flows.set(key, f);
    }
    if (!f.segments.has(Number(seq)))
      f.segments.set(Number(seq), Buffer.from(payload.replace(/:/g, ''), 'hex'));
  }
  return [...flows.values()];
}

/** Concatenate a flow's segments from its first sequence number until the first gap. */
function flowBytes(f: Flow): Buffer {
  const segs: Segment[] = [...f.segments.entries()]
    .map(([seq, bytes]) => ({ seq, bytes }))
    .sort((a, b) => a.seq - b.seq);
  const out: Buffer[] = [];
  let next = segs[0]?.seq ?? 0;
  for (const s of segs) {
    if (s.seq + s.bytes.length <= next) continue;
    if (s.seq > next) {
      console.warn(`stream ${f.stream} from ${f.src}: gap at ${next}; later bytes left out`);
      break;
    }
    out.push(s.bytes.subarray(next - s.seq));
    next = s.seq + s.bytes.length;
  }
  return Buffer.concat(out);
}

/** Split a byte stream into BGP messages by the header's marker and length. */
function splitMessages(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + 19 <= bytes.length) {
    for (let i = 0; i < 16; i++) {
      if (bytes[off + i] !== 0xff) throw new Error(`no BGP marker at offset ${off}`);
    }
    const len = bytes.readUInt16BE(off + 16);
    if (len < 19 || off + len > bytes.length) break;
    out.push(bytes.subarray(off, off + len));
    off += len;
  }
  return out;
}

interface OpenInfo {
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
  readonly families: readonly string[];
  /** ADD-PATH entries: [afi, safi, send/receive flags]. */
  readonly addPath: readonly (readonly [number, number, number])[];
}

/** Capabilities of an OPEN message (RFC 5492 optional parameters, type 2). */
function openInfo(m: Buffer): OpenInfo {
  let four = false;
  let ext = false;
  const families: string[] = [];
  const addPath: [number, number, number][] = [];
  const optLen = m[28] ?? 0;
  let p = 29;
  const end = 29 + optLen;
  while (p + 2 <= end) {
    const type = m[p]!;
    const plen = m[p + 1]!;
    if (type === 2) {
      let c = p + 2;
      while (c + 2 <= p + 2 + plen) {
        const code = m[c]!;
        const clen = m[c + 1]!;
        const v = c + 2;
        if (code === 65) four = true;
        if (code === 6) ext = true;
        if (code === 1) families.push(`${m.readUInt16BE(v) === 1 ? 'ipv4' : 'ipv6'}-${m[v + 3]}`);
        if (code === 69) {
          for (let e = v; e + 4 <= v + clen; e += 4) addPath.push([m.readUInt16BE(e), m[e + 2]!, m[e + 3]!]);
        }
        c = v + clen;
      }
    }
    p += 2 + plen;
  }
  return { fourOctetAs: four, extendedMessage: ext, families, addPath };
}

/** A short name for a message's content: open-ipv4, update-ipv6-communities, notification-cease-admin-shutdown, ... */
function describeMessage(m: Buffer, sessionFamily: 4 | 6): string {
  const type = m[18] ?? 0;
  switch (type) {
    case 1: {
      const fams = openInfo(m).families.map((f) => f.replace(/-1$/, ''));
      return `open-${fams.length > 0 ? fams.join('-') : `ipv${sessionFamily}`}`;
    }
    case 2:
      return describeUpdate(m);
    case 3:
      if (m[19] === 6 && m[20] === 2) {
        return m.length > 21
          ? 'notification-cease-admin-shutdown-message'
          : 'notification-cease-admin-shutdown';
      }
      return `notification-${m[19]}-${m[20]}`;
    case 4:
      return 'keepalive';
    case 5:
      return 'route-refresh';
    default:
      return `type-${type}`;
  }
}

function describeUpdate(m: Buffer): string {
  const wlen = m.readUInt16BE(19);
  const alen = m.readUInt16BE(21 + wlen);
  const attrStart = 23 + wlen;
  const nlriLen = m.length - attrStart - alen;
  const types = new Set<number>();
  let mpReach = '';
  let mpUnreach = '';
  let p = attrStart;
  while (p + 3 <= attrStart + alen) {
    const flags = m[p]!;
    const code = m[p + 1]!;
    const extLen = (flags & 0x10) !== 0;
    const len = extLen ? m.readUInt16BE(p + 2) : m[p + 2]!;
    const v = p + (extLen ? 4 : 3);
    types.add(code);
    if (code === 14) mpReach = m.readUInt16BE(v) === 2 ? 'ipv6' : 'ipv4';
    if (code === 15) mpUnreach = (m.readUInt16BE(v) === 2 ? 'ipv6' : 'ipv4') + (len > 3 ? '' : '-eor');
    p = v + len;
  }
  if (wlen === 0 && alen === 0 && nlriLen === 0) return 'update-eor-ipv4';
  if (mpUnreach.endsWith('-eor') && alen <= 7) return `update-eor-${mpUnreach.replace('-eor', '')}`;
  const parts = ['update'];
  if (mpUnreach !== '' || wlen > 0) parts.push(`withdraw-${mpUnreach !== '' ? mpUnreach : 'ipv4'}`);
  if (mpReach !== '') parts.push(mpReach);
  else if (nlriLen > 0) parts.push('ipv4');
  if (types.has(8)) parts.push('communities');
  if (types.has(32)) parts.push('large-communities');
  return parts.join('-');
}

// ===== Vectors =====

interface CapturedVector {
  name: string;
  source: Kind;
  hex: string;
  ctx: { fourOctetAs: boolean; extendedMessage: boolean; addPath: [number, number][] };
}

/** Turn captured pairs into vectors per sender; identical bytes from one sender are kept once. */
async function vectorsFrom(
  captures: readonly (PairCapture & { readonly peerOf: (k: Kind) => Kind })[],
): Promise<Map<Kind, CapturedVector[]>> {
  const out = new Map<Kind, CapturedVector[]>([
    ['bird', []],
    ['frr', []],
    ['gobgp', []],
  ]);
  const seen = new Set<string>();
  const names = new Set<string>();
  for (const cap of captures) {
    const flows = await readFlows(cap.pcap);
    const byStream = new Map<string, { flow: Flow; msgs: Buffer[] }[]>();
    for (const f of flows) {
      const list = byStream.get(f.stream) ?? [];
      list.push({ flow: f, msgs: splitMessages(flowBytes(f)) });
      byStream.set(f.stream, list);
    }
    // IPv4 connections first, so names do not depend on which session came up first.
    const streams = [...byStream.values()].sort(
      (a, b) => (a[0]?.flow.family ?? 0) - (b[0]?.flow.family ?? 0),
    );
    for (const dirs of streams) {
      // ctx as negotiated by the two OPENs of this connection, per direction.
      const opens = dirs
        .map((d) => d.msgs.find((m) => m[18] === 1))
        .map((m) => (m !== undefined ? openInfo(m) : null));
      for (const [i, d] of dirs.entries()) {
        const kind = cap.senders.get(d.flow.src);
        if (kind === undefined) continue;
        const mine = opens[i];
        const theirs = opens[1 - i];
        const both = mine !== null && mine !== undefined && theirs !== null && theirs !== undefined;
        const ctx = {
          fourOctetAs: both && mine.fourOctetAs && theirs.fourOctetAs,
          extendedMessage: both && mine.extendedMessage && theirs.extendedMessage,
          addPath: both
            ? mine.addPath
                .filter(
                  ([afi, safi, f]) =>
                    (f & 2) !== 0 &&
                    theirs.addPath.some((t) => t[0] === afi && t[1] === safi && (t[2] & 1) !== 0),
                )
                .map(([afi, safi]): [number, number] => [afi, safi])
            : [],
        };
        for (const m of d.msgs) {
          const hex = m.toString('hex');
          if (seen.has(`${kind}|${hex}`)) continue;
          seen.add(`${kind}|${hex}`);
          // Named by sender and content; the receiver is added only where that is not unique.
          const base = `${kind}-${describeMessage(m, d.flow.family)}`;
          let name = names.has(base) ? `${base}-to-${cap.peerOf(kind)}` : base;
          for (let n = 2; names.has(name); n++) name = `${base}-to-${cap.peerOf(kind)}-${n}`;
          names.add(name);
          out.get(kind)!.push({ name, source: kind, hex, ctx });
        }
      }
    }
  }
  return out;
}

// ===== Main =====

async function main(opts: { out: string; keep?: boolean }): Promise<void> {
  const why = requireRoot('tshark', 'bird', 'birdc', 'gobgpd', 'gobgp', 'vtysh');
  if (why !== null) throw new Error(why);
  const pairs: [Kind, Kind][] = [
    ['bird', 'gobgp'],
    ['frr', 'bird'],
    ['frr', 'gobgp'],
  ];
  const captures = await Promise.all(
    pairs.map(async ([x, y]) => ({
      peerOf: (k: Kind): Kind => (k === x ? y : x),
      ...(await capturePair(x, y, opts.keep === true)),
    })),
  );
  for (const c of captures) console.log(`capture kept in ${c.pcap}`);
  const vectors = await vectorsFrom(captures);
  for (const [kind, list] of vectors) {
    const file = join(opts.out, `captured-${kind}.json`);
    writeFileSync(file, JSON.stringify(list, null, 2) + '\n');
    console.log(`${file}: ${list.length} vectors: ${list.map((v) => v.name).join(', ')}`);
  }
}

const program = new Command();
program
  .name('capture-bgp')
  .description('capture BGP sessions between reference speakers and write codec test vectors')
  .option('--out <dir>', 'vector directory', 'test/vectors/bgp')
  .option('--keep', 'keep the topology directories (configs, logs, pcaps)')
  .action(main);
program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
