// The DDM delay probe: our addition to DDM (Maghemite measures no delay). Each router probes each
// neighbour over the link and computes the round-trip time the way Babel's RTT extension does
// (RFC 9616 §3): RTT = (t4 − t1) − (t3 − t2), where t1 and t4 are read from the requester's clock
// and t2 and t3 from the responder's, so the clocks need not be synchronised.
//
// Transport: UDP over IPv6 link-local unicast between the two neighbours, port 3550
// (`DDM_PROBE_PORT`): next to discovery's 3549 and distinct from it, so a probe can never be
// mistaken for discovery and the two sockets can be opened independently. The first byte, the
// magic 0xdd, also differs from any discovery version byte (2 or 3), so even a misdirected
// datagram is told apart.
//
// Timestamps are u32 microseconds of the sender's own monotonic clock, taken modulo 2^32, as in
// RFC 9616 §3.1. Why not u64 nanoseconds: a JavaScript number holds only 53 bits, so u64 would
// mean a BigInt per field and per packet; microseconds are finer than anything the daemon's event
// loop can timestamp, and match the `delay` unit of the exchange. The clock wraps every ~71.6
// minutes; differences are taken modulo 2^32 and are unambiguous as long as every measured
// interval is under 2^31 µs (~35.8 minutes), which a probe that is not discarded as lost always is.
//
// The instance id is a random nonzero u32 chosen when the sender's probe process starts: a change
// tells the other side that the neighbour restarted (and its sequence numbers started again).

import { err, ok, type Result } from '../result.js';
import { Reader, writeU32 } from '../reader.js';
import { DdmDecodeError } from './errors.js';

// Request (16 bytes):
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  magic 0xdd   |  version 1    |   type 1      |   reserved    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        sequence number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 sender (requester) instance id                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 t1: requester transmit time (µs)              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Reply (28 bytes):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  magic 0xdd   |  version 1    |   type 2      |   reserved    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 sequence number (echoed)                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 sender (responder) instance id                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 requester instance id (echoed)                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 t1 (echoed, requester clock)                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 t2: responder receive time (µs)               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 t3: responder transmit time (µs)              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The reserved byte is sent as zero and ignored on receipt; bytes after the packet are ignored, so
// a later version can append fields without a new type.

// ===== Constants =====

/** UDP port of probes, both directions. */
export const DDM_PROBE_PORT = 3550;

/** First byte of every probe. */
export const DDM_PROBE_MAGIC = 0xdd;

/** The probe format version. */
export const DDM_PROBE_VERSION = 1;

/** The type byte. */
export const DdmProbeType = {
  REQUEST: 1,
  REPLY: 2,
} as const;
export type DdmProbeType = (typeof DdmProbeType)[keyof typeof DdmProbeType];

/** Encoded sizes. */
export const DDM_PROBE_REQUEST_LENGTH = 16;
export const DDM_PROBE_REPLY_LENGTH = 28;

/** 2^32: the timestamp and sequence number space. */
const SPACE = 0x100000000;
/** Half of it: the largest interval a modular difference can stand for unambiguously. */
const HALF = 0x80000000;

// ===== Types =====

/** A probe request: carries t1. */
export interface DdmProbeRequest {
  readonly type: typeof DdmProbeType.REQUEST;
  readonly sequence: number;
  /** The requester's instance id. */
  readonly instance: number;
  readonly t1: number;
}

/** A probe reply: echoes the request and adds the responder's t2 and t3. */
export interface DdmProbeReply {
  readonly type: typeof DdmProbeType.REPLY;
  readonly sequence: number;
  /** The responder's instance id. */
  readonly instance: number;
  /** The requester's instance id, echoed, so replies to a previous incarnation are ignored. */
  readonly requesterInstance: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
}

/** Either probe packet. */
export type DdmProbe = DdmProbeRequest | DdmProbeReply;

// ===== Codec =====

/** Bytes the encoded probe takes. */
export function encodingLengthDdmProbe(p: DdmProbe): number {
  return p.type === DdmProbeType.REQUEST ? DDM_PROBE_REQUEST_LENGTH : DDM_PROBE_REPLY_LENGTH;
}

/** Write `p` at `off`; returns the offset after it. */
export function encodeDdmProbe(p: DdmProbe, buf: Uint8Array, off: number): number {
  buf[off] = DDM_PROBE_MAGIC;
  buf[off + 1] = DDM_PROBE_VERSION;
  buf[off + 2] = p.type;
  buf[off + 3] = 0;
  let o = writeU32(buf, off + 4, p.sequence);
  o = writeU32(buf, o, p.instance);
  if (p.type === DdmProbeType.REQUEST) return writeU32(buf, o, p.t1);
  o = writeU32(buf, o, p.requesterInstance);
  o = writeU32(buf, o, p.t1);
  o = writeU32(buf, o, p.t2);
  return writeU32(buf, o, p.t3);
}

/** Decode the probe in `buf[off, end)`; bytes after it are ignored. */
export function decodeDdmProbe(buf: Uint8Array, off: number, end: number): Result<DdmProbe, DdmDecodeError> {
  const have = end - off;
  if (have < 4) return err(new DdmDecodeError('truncated', `${have} bytes, the header needs 4`));
  const magic = buf[off] as number;
  if (magic !== DDM_PROBE_MAGIC) return err(new DdmDecodeError('bad-magic', `first byte ${magic}`));
  const version = buf[off + 1] as number;
  if (version !== DDM_PROBE_VERSION)
    return err(new DdmDecodeError('unsupported-version', `version ${version}`));
  const type = buf[off + 2] as number;
  if (type !== DdmProbeType.REQUEST && type !== DdmProbeType.REPLY) {
    return err(new DdmDecodeError('unknown-type', `type ${type}`));
  }
  const need = type === DdmProbeType.REQUEST ? DDM_PROBE_REQUEST_LENGTH : DDM_PROBE_REPLY_LENGTH;
  if (have < need)
    return err(new DdmDecodeError('truncated', `${have} bytes, this probe type needs ${need}`));
  const r = new Reader(buf, off + 4, end);
  const sequence = r.u32();
  const instance = r.u32();
  if (type === DdmProbeType.REQUEST) return ok({ type, sequence, instance, t1: r.u32() });
  const requesterInstance = r.u32();
  const t1 = r.u32();
  const t2 = r.u32();
  const t3 = r.u32();
  return ok({ type, sequence, instance, requesterInstance, t1, t2, t3 });
}

// ===== Timestamps and RTT =====

/** A probe timestamp from a monotonic clock reading in microseconds (any size). */
export function probeTimestamp(micros: number): number {
  const m = Math.floor(micros) % SPACE;
  return m < 0 ? m + SPACE : m;
}

/** `later − earlier` in 32-bit modular arithmetic, as a number in [0, 2^32). */
export function timestampDiff(later: number, earlier: number): number {
  return (later - earlier + SPACE) % SPACE;
}

/** Why a set of probe timestamps cannot give an RTT. */
export type RttError =
  /** A timestamp is not an integer in [0, 2^32). */
  | 'invalid-timestamp'
  /** t4 − t1 or t3 − t2 is 2^31 µs or more: a clock went backwards, or the probe is too old. */
  | 'interval-overflow'
  /** The responder held the probe for longer than the requester waited for it. */
  | 'negative'
  /** Above the caller's ceiling. */
  | 'too-large';

/** Options of `probeRtt`. */
export interface RttOptions {
  /**
   * Negative results down to −tolerance µs are taken as 0 (default 2): each of the four readings
   * is truncated to whole microseconds, so a sub-microsecond link can come out a little below zero.
   */
  readonly toleranceUs?: number;
  /** Results above this are rejected (default 10 s: far beyond any link we would keep). */
  readonly maxRttUs?: number;
}

function isTimestamp(t: number): boolean {
  return Number.isInteger(t) && t >= 0 && t < SPACE;
}

/** RTT in microseconds from the four timestamps, RTT = (t4 − t1) − (t3 − t2), wrap-safe (RFC 9616 §3). */
export function probeRtt(
  t1: number,
  t2: number,
  t3: number,
  t4: number,
  options: RttOptions = {},
): Result<number, RttError> {
  if (!isTimestamp(t1) || !isTimestamp(t2) || !isTimestamp(t3) || !isTimestamp(t4)) {
    return err('invalid-timestamp');
  }
  const elapsed = timestampDiff(t4, t1);
  const held = timestampDiff(t3, t2);
  if (elapsed >= HALF || held >= HALF) return err('interval-overflow');
  const rtt = elapsed - held;
  const tolerance = options.toleranceUs ?? 2;
  if (rtt < -tolerance) return err('negative');
  const value = rtt < 0 ? 0 : rtt;
  if (value > (options.maxRttUs ?? 10_000_000)) return err('too-large');
  return ok(value);
}

/** The RTT a reply gives when it arrives at `t4`. */
export function probeReplyRtt(
  reply: DdmProbeReply,
  t4: number,
  options?: RttOptions,
): Result<number, RttError> {
  return probeRtt(reply.t1, reply.t2, reply.t3, t4, options);
}

/** The reply a responder sends: `t2` when the request arrived, `t3` just before sending. */
export function ddmProbeReply(req: DdmProbeRequest, instance: number, t2: number, t3: number): DdmProbeReply {
  return {
    type: DdmProbeType.REPLY,
    sequence: req.sequence,
    instance,
    requesterInstance: req.instance,
    t1: req.t1,
    t2,
    t3,
  };
}

// ===== JSON rendering =====

/** The JSON form used by test vectors: the packet with its type named. */
export type DdmProbeJson =
  | (Omit<DdmProbeRequest, 'type'> & { readonly type: 'request' })
  | (Omit<DdmProbeReply, 'type'> & { readonly type: 'reply' });

/** Render a probe as JSON. */
export function ddmProbeToJson(p: DdmProbe): DdmProbeJson {
  return p.type === DdmProbeType.REQUEST ? { ...p, type: 'request' } : { ...p, type: 'reply' };
}

/** Parse the JSON form back (the inverse of `ddmProbeToJson`). */
export function ddmProbeFromJson(j: DdmProbeJson): DdmProbe {
  return j.type === 'request' ? { ...j, type: DdmProbeType.REQUEST } : { ...j, type: DdmProbeType.REPLY };
}
