// The BGP propagation benchmark's test peer: the small eBGP speaker that both the route injector
// (bgp-injector.ts) and the counting sink (bgp-sink.ts) are built on, plus what they share: the
// plan of prefixes and attribute sets, the injector's packed UPDATEs (wire/bgp/builder.ts), and
// the sink's counter of distinct prefixes.
//
// It opens the TCP connection itself (the daemon under test is configured passive towards both
// test peers), sends its OPEN (RFC 4271 §4.2) with the multiprotocol IPv4 unicast (RFC 4760),
// four-octet AS (RFC 6793) and route-refresh (RFC 2918) capabilities, answers the peer's OPEN with
// a KEEPALIVE (§8.2.2 OpenSent → OpenConfirm), and calls itself Established on the peer's first
// KEEPALIVE. It then sends a KEEPALIVE every third of the negotiated hold time (§10) and hands
// each whole UPDATE frame (header.ts nextFrame) to its owner. A NOTIFICATION or a closed
// connection ends the process: a benchmark run with a broken session is a failed run.
//
// Progress is reported to the parent as JSON lines on stdout: `{"event": NAME, "t": MS, ...}`,
// where MS is wall-clock epoch milliseconds with sub-millisecond precision. The parent runs every
// process on the same machine, so these timestamps share one clock.

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildAnnouncements, endOfRib } from '../../wire/bgp/builder.js';
import { AsPathSegmentType, MessageType, Origin, Afi, Safi } from '../../wire/bgp/constants.js';
import { nextFrame } from '../../wire/bgp/header.js';
import { decodeMessage, encodeMessageBytes } from '../../wire/bgp/message.js';
import { capabilitiesOf } from '../../wire/bgp/open.js';
import type { CodecContext, OpenMessage, PathAttributes } from '../../wire/bgp/types.js';
import {
  isPrefix4,
  parseAddr4,
  prefix4Addr,
  prefix4Len,
  prefix4Unchecked,
  type Addr4,
  type Prefix,
  type Prefix4,
} from '../../wire/ip/index.js';

// ===== Reporting =====

/** Wall-clock epoch milliseconds with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Print one progress event for the parent. */
export function report(event: string, fields: Record<string, number | string> = {}): void {
  process.stdout.write(JSON.stringify({ event, t: nowMs(), ...fields }) + '\n');
}

/** Report a fatal error and exit non-zero. */
export function fail(reason: string): never {
  report('error', { reason });
  process.exit(1);
}

// ===== Arguments =====

/** `--name value` pairs from argv. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === undefined || !k.startsWith('--') || v === undefined) fail(`bad arguments: ${argv.join(' ')}`);
    out.set(k.slice(2), v);
  }
  return out;
}

/** A required flag. */
export function flag(flags: Map<string, string>, name: string): string {
  const v = flags.get(name);
  if (v === undefined) fail(`missing --${name}`);
  return v;
}

/** A required integer flag. */
export function intFlag(flags: Map<string, string>, name: string): number {
  const v = Number(flag(flags, name));
  if (!Number.isInteger(v) || v < 0) fail(`--${name} must be a non-negative integer`);
  return v;
}

/** A required IPv4 address flag, as a number. */
export function addrFlag(flags: Map<string, string>, name: string): Addr4 {
  const r = parseAddr4(flag(flags, name));
  if (!r.ok) fail(`--${name}: ${r.error}`);
  return r.value;
}

// ===== The prefix plan =====

/** First prefix: 100.0.0.0/24; prefix i is the i-th /24 after it. */
export const PLAN_BASE = 0x64000000;

/** Most prefixes the plan holds before it would reach 127.0.0.0/8. */
export const PLAN_MAX = (127 - 100) * 65536;

/** Prefix number i of the plan. */
export function planPrefix(i: number): Prefix4 {
  return prefix4Unchecked((PLAN_BASE + i * 256) >>> 0, 24);
}

/** Index of a prefix in a plan of `count`, or -1 when it is not one of them. */
export function planIndex(addr: Addr4, len: number, count: number): number {
  if (len !== 24) return -1;
  const i = (addr - PLAN_BASE) / 256;
  return Number.isInteger(i) && i >= 0 && i < count ? i : -1;
}

/** First four-octet ASN of the per-set AS numbers (private range, RFC 6996). */
const SET_ASN_BASE = 4_200_000_000;

/**
 * Attribute set number s: an AS path of 2 to 5 hops whose last hop is unique to the set, and two
 * communities, so every set is distinct and the sets vary in length and content. The middle hops
 * stay in 64512..64911, clear of the benchmark's own ASNs (65000-65002), so no daemon drops a
 * path for an AS loop.
 */
export function planAttributes(s: number, localAs: number, nextHop: Addr4): PathAttributes {
  const asns = [localAs];
  for (let k = 0; k < s % 4; k++) asns.push(64512 + ((s * 7 + k) % 400));
  asns.push(SET_ASN_BASE + s);
  return {
    origin: Origin.IGP,
    asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns }],
    nextHop,
    communities: [(localAs * 65536 + (s % 65536)) >>> 0, (localAs * 65536 + 1000 + (s % 10)) >>> 0],
  };
}

/** `planPrefix` for every index in [from, to). */
export function planPrefixes(from: number, to: number): Prefix4[] {
  const out: Prefix4[] = [];
  for (let i = from; i < to; i++) out.push(planPrefix(i));
  return out;
}

/** Size of one socket write: UPDATEs are concatenated up to this many bytes. */
const CHUNK = 256 * 1024;

/**
 * Every UPDATE of a plan of `count` prefixes, `perSet` to an attribute set, packed by the UPDATE
 * builder and concatenated into write chunks; the IPv4 unicast End-of-RIB comes last.
 */
export function buildPlanUpdates(
  count: number,
  perSet: number,
  localAs: number,
  nextHop: Addr4,
  ctx: CodecContext,
): Buffer[] {
  const chunks: Buffer[] = [];
  let parts: Uint8Array[] = [];
  let bytes = 0;
  const push = (m: Uint8Array): void => {
    if (bytes + m.length > CHUNK) {
      chunks.push(Buffer.concat(parts, bytes));
      parts = [];
      bytes = 0;
    }
    parts.push(m);
    bytes += m.length;
  };
  for (let from = 0, s = 0; from < count; from += perSet, s++) {
    const prefixes = planPrefixes(from, Math.min(count, from + perSet));
    for (const m of buildAnnouncements(planAttributes(s, localAs, nextHop), prefixes, ctx)) push(m);
  }
  push(endOfRib(Afi.IPV4, Safi.UNICAST));
  chunks.push(Buffer.concat(parts, bytes));
  return chunks;
}

// ===== Counting =====

/** Distinct plan prefixes seen so far (a byte per plan prefix). */
export class Counter {
  private readonly seen: Uint8Array;
  count = 0;
  updates = 0;

  constructor(readonly total: number) {
    this.seen = new Uint8Array(total);
  }

  /** Mark the plan prefixes among `prefixes`; returns true when this call completed the set. */
  mark(prefixes: readonly Prefix[]): boolean {
    const before = this.count;
    for (const p of prefixes) {
      if (!isPrefix4(p)) continue;
      const i = planIndex(prefix4Addr(p), prefix4Len(p), this.total);
      if (i < 0 || this.seen[i] === 1) continue;
      this.seen[i] = 1;
      this.count++;
    }
    return before < this.total && this.count === this.total;
  }
}

// ===== The session =====

/** What the test peer is told. */
export interface PeerOptions {
  readonly localAs: number;
  readonly routerId: Addr4;
  readonly localAddress: string;
  readonly peerAddress: string;
  readonly peerAs: number;
  readonly holdTime: number;
  /** Called with each whole UPDATE message, `buf[off, end)`, after Established. */
  readonly onUpdate?: (buf: Uint8Array, off: number, end: number, ctx: CodecContext) => void;
  /** How long to keep retrying the connection (ms). */
  readonly connectForMs: number;
}

/** A connected, Established session. */
export interface Established {
  readonly socket: Socket;
  readonly ctx: CodecContext;
}

/** Our OPEN: IPv4 unicast, four-octet AS, route refresh. */
function ourOpen(o: PeerOptions): OpenMessage {
  return {
    type: MessageType.OPEN,
    version: 4,
    myAs: o.localAs > 65535 ? 23456 : o.localAs,
    holdTime: o.holdTime,
    bgpId: o.routerId,
    params: [
      {
        kind: 'capabilities',
        capabilities: [
          { kind: 'multiprotocol', afi: Afi.IPV4, safi: Safi.UNICAST },
          { kind: 'four-octet-as', asn: o.localAs },
          { kind: 'route-refresh' },
        ],
      },
    ],
    extendedParams: false,
  };
}

const OPEN_CTX: CodecContext = { fourOctetAs: false, extendedMessage: false, addPath: new Set() };

function connectOnce(o: PeerOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: o.peerAddress, port: 179, localAddress: o.localAddress });
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', reject);
  });
}

async function connectRetrying(o: PeerOptions): Promise<Socket> {
  const deadline = Date.now() + o.connectForMs;
  for (;;) {
    try {
      return await connectOnce(o);
    } catch (e) {
      if (Date.now() > deadline) fail(`connect to ${o.peerAddress}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Connect, exchange OPENs and KEEPALIVEs, and resolve once Established. Afterwards the session
 * keeps answering with KEEPALIVEs and passes UPDATEs to `onUpdate`.
 */
export async function establish(o: PeerOptions): Promise<Established> {
  const socket = await connectRetrying(o);
  socket.setNoDelay(true);
  const keepalive = encodeMessageBytes({ type: MessageType.KEEPALIVE }, OPEN_CTX);
  let ctx: CodecContext = OPEN_CTX;
  let state: 'opensent' | 'openconfirm' | 'established' = 'opensent';
  let pending: Buffer | null = null;
  return new Promise((resolve) => {
    const onFrame = (buf: Buffer, off: number, end: number, type: number): void => {
      if (type === MessageType.NOTIFICATION) {
        const m = decodeMessage(buf, off, end, ctx);
        const what =
          m.ok && m.value.type === MessageType.NOTIFICATION ? `${m.value.code}/${m.value.subcode}` : '?';
        fail(`NOTIFICATION ${what} from ${o.peerAddress}`);
      }
      if (state === 'opensent') {
        if (type !== MessageType.OPEN) fail(`expected OPEN, got type ${type}`);
        const m = decodeMessage(buf, off, end, ctx);
        if (!m.ok || m.value.type !== MessageType.OPEN) fail(`bad OPEN from ${o.peerAddress}`);
        const caps = capabilitiesOf(m.value);
        ctx = {
          fourOctetAs: caps.some((c) => c.kind === 'four-octet-as'),
          extendedMessage: false,
          addPath: new Set(),
        };
        const hold = Math.min(o.holdTime, m.value.holdTime);
        if (hold > 0) setInterval(() => socket.write(keepalive), (hold * 1000) / 3).unref();
        socket.write(keepalive);
        state = 'openconfirm';
        return;
      }
      if (state === 'openconfirm') {
        if (type !== MessageType.KEEPALIVE) fail(`expected KEEPALIVE, got type ${type}`);
        state = 'established';
        resolve({ socket, ctx });
        return;
      }
      if (type === MessageType.UPDATE) o.onUpdate?.(buf, off, end, ctx);
    };
    socket.on('data', (chunk: Buffer) => {
      const buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      for (;;) {
        const f = nextFrame(buf, off, buf.length, ctx);
        if (f.kind === 'partial') break;
        if (f.kind === 'error') fail(`framing: ${f.error.message}`);
        const end = off + f.header.length;
        onFrame(buf, off, end, f.header.type);
        off = end;
      }
      pending = off === buf.length ? null : buf.subarray(off);
    });
    socket.on('error', (e) => fail(`socket: ${e.message}`));
    socket.on('close', () => fail(`connection to ${o.peerAddress} closed`));
    socket.write(encodeMessageBytes(ourOpen(o), OPEN_CTX));
  });
}
