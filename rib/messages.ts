// JSON forms of RIB inputs and bus events, and JSONL recording and replay (STYLE item 8): the
// basis of scenario tests. Prefixes and addresses are written as text, attribute sets as plain
// JSON (unknown attributes as hex), so a recording is readable and diffable.

import type { RibEvent } from './bus.js';
import type { Rib, RibInput, PathInput } from './rib.js';
import type { NextHop, SourceSpec } from './types.js';
import type { PathAttributes, RawAttribute } from '../wire/bgp/types.js';
import { fromHex, toHex } from '../wire/reader.js';
import {
  formatAddr4,
  formatAddr6,
  formatPrefix,
  parseAddr4,
  parseAddr6,
  parsePrefix,
  type Addr4,
  type Addr6,
  type Prefix,
} from '../wire/ip/index.js';

// ===== Errors =====

/** A line of a recording that cannot be understood. */
export class RecordingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingError';
  }
}

// ===== Addresses and next hops =====

type Json = Record<string, unknown>;

function addrText(a: Addr4 | Addr6): string {
  return typeof a === 'number' ? formatAddr4(a) : formatAddr6(a);
}

function parseAddr(s: unknown): Addr4 | Addr6 {
  if (typeof s !== 'string') throw new RecordingError(`expected an address, got ${JSON.stringify(s)}`);
  const r = s.includes(':') ? parseAddr6(s) : parseAddr4(s);
  if (!r.ok) throw new RecordingError(r.error);
  return r.value;
}

function prefixFrom(s: unknown): Prefix {
  if (typeof s !== 'string') throw new RecordingError(`expected a prefix, got ${JSON.stringify(s)}`);
  const r = parsePrefix(s);
  if (!r.ok) throw new RecordingError(r.error);
  return r.value;
}

function hopToJson(h: NextHop): Json {
  const o: Json = { addr: addrText(h.addr) };
  if (h.ifname !== undefined) o['ifname'] = h.ifname;
  if (h.weight !== undefined) o['weight'] = h.weight;
  return o;
}

function hopFromJson(o: unknown): NextHop {
  const j = o as Json;
  const addr = parseAddr(j['addr']);
  return {
    addr,
    ...(typeof j['ifname'] === 'string' ? { ifname: j['ifname'] } : {}),
    ...(typeof j['weight'] === 'number' ? { weight: j['weight'] } : {}),
  };
}

// ===== Attributes =====

function attrsToJson(a: PathAttributes): Json {
  const o: Json = {};
  for (const [k, v] of Object.entries(a)) {
    if (k === 'unknown') {
      o[k] = (v as RawAttribute[]).map((u) => ({ flags: u.flags, code: u.code, hex: toHex(u.data) }));
    } else if (k !== 'mpReach' && k !== 'mpUnreach') {
      o[k] = v;
    }
  }
  return o;
}

function attrsFromJson(o: unknown): PathAttributes {
  const j = { ...(o as Json) };
  if (Array.isArray(j['unknown'])) {
    j['unknown'] = (j['unknown'] as { flags: number; code: number; hex: string }[]).map((u) => ({
      flags: u.flags,
      code: u.code,
      data: fromHex(u.hex),
    }));
  }
  return j;
}

function specToJson(s: SourceSpec): Json {
  const o: Json = { ...s };
  if (s.peerAddr !== undefined) o['peerAddr'] = addrText(s.peerAddr);
  return o;
}

function specFromJson(o: unknown): SourceSpec {
  const j = o as Json;
  const spec = { ...j } as { -readonly [K in keyof SourceSpec]: SourceSpec[K] };
  if (j['peerAddr'] !== undefined) spec.peerAddr = parseAddr(j['peerAddr']);
  return spec;
}

// ===== Inputs =====

/** JSON form of a RIB input. */
export function inputToJson(m: RibInput): Json {
  switch (m.type) {
    case 'source-add':
      return { type: m.type, spec: specToJson(m.spec) };
    case 'path-add': {
      const p: Json = { source: m.path.source, nexthops: m.path.nexthops.map(hopToJson) };
      if (m.path.pathId !== undefined) p['pathId'] = m.path.pathId;
      if (m.path.metric !== undefined) p['metric'] = m.path.metric;
      if (m.path.attrs !== undefined) p['attrs'] = attrsToJson(m.path.attrs);
      return { type: m.type, prefix: formatPrefix(m.prefix), path: p };
    }
    case 'path-remove':
      return { type: m.type, prefix: formatPrefix(m.prefix), source: m.source, pathId: m.pathId };
    case 'source-remove':
      return { type: m.type, source: m.source };
    case 'source-state':
      return { type: m.type, source: m.source, up: m.up };
    case 'nexthop-state':
      return { type: m.type, nexthop: hopToJson(m.nexthop), up: m.up };
  }
}

/** Parse the JSON form of a RIB input. */
export function inputFromJson(o: unknown): RibInput {
  const j = o as Json;
  switch (j['type']) {
    case 'source-add':
      return { type: 'source-add', spec: specFromJson(j['spec']) };
    case 'path-add': {
      const p = j['path'] as Json;
      const path: PathInput = {
        source: String(p['source']),
        nexthops: (p['nexthops'] as unknown[]).map(hopFromJson),
        ...(typeof p['pathId'] === 'number' ? { pathId: p['pathId'] } : {}),
        ...(typeof p['metric'] === 'number' ? { metric: p['metric'] } : {}),
        ...(p['attrs'] !== undefined ? { attrs: attrsFromJson(p['attrs']) } : {}),
      };
      return { type: 'path-add', prefix: prefixFrom(j['prefix']), path };
    }
    case 'path-remove':
      return {
        type: 'path-remove',
        prefix: prefixFrom(j['prefix']),
        source: String(j['source']),
        pathId: Number(j['pathId'] ?? 0),
      };
    case 'source-remove':
      return { type: 'source-remove', source: String(j['source']) };
    case 'source-state':
      return { type: 'source-state', source: String(j['source']), up: j['up'] === true };
    case 'nexthop-state':
      return { type: 'nexthop-state', nexthop: hopFromJson(j['nexthop']), up: j['up'] === true };
    default:
      throw new RecordingError(`unknown input type ${JSON.stringify(j['type'])}`);
  }
}

/** Apply one input to a RIB. */
export function applyInput(rib: Rib, m: RibInput): void {
  switch (m.type) {
    case 'source-add':
      rib.addSource(m.spec);
      return;
    case 'path-add':
      rib.addPath(m.prefix, m.path);
      return;
    case 'path-remove':
      rib.removePath(m.prefix, m.source, m.pathId);
      return;
    case 'source-remove':
      rib.removeSource(m.source);
      return;
    case 'source-state':
      rib.setSourceState(m.source, m.up);
      return;
    case 'nexthop-state':
      rib.setNextHopState(m.nexthop, m.up);
      return;
  }
}

// ===== Events =====

/** JSON form of a bus event. */
export function eventToJson(ev: RibEvent): Json {
  switch (ev.type) {
    case 'route-selected':
    case 'route-changed':
      return { type: ev.type, prefix: formatPrefix(ev.prefix), nexthops: ev.nexthops.map(hopToJson) };
    case 'route-removed':
      return { type: ev.type, prefix: formatPrefix(ev.prefix) };
    case 'nexthop-state':
      return { type: ev.type, nexthop: hopToJson(ev.nexthop), up: ev.up };
    case 'source-state':
      return { type: ev.type, source: ev.source, up: ev.up };
  }
}

/** Parse the JSON form of a bus event. */
export function eventFromJson(o: unknown): RibEvent {
  const j = o as Json;
  switch (j['type']) {
    case 'route-selected':
    case 'route-changed': {
      const prefix = prefixFrom(j['prefix']);
      return {
        type: j['type'],
        afi: typeof prefix === 'number' ? 4 : 6,
        prefix,
        nexthops: (j['nexthops'] as unknown[]).map(hopFromJson),
      };
    }
    case 'route-removed': {
      const prefix = prefixFrom(j['prefix']);
      return { type: 'route-removed', afi: typeof prefix === 'number' ? 4 : 6, prefix };
    }
    case 'nexthop-state':
      return { type: 'nexthop-state', nexthop: hopFromJson(j['nexthop']), up: j['up'] === true };
    case 'source-state':
      return { type: 'source-state', source: String(j['source']), up: j['up'] === true };
    default:
      throw new RecordingError(`unknown event type ${JSON.stringify(j['type'])}`);
  }
}

// ===== JSONL =====

/** One JSONL line (with newline) for an input. */
export function inputLine(m: RibInput): string {
  return JSON.stringify(inputToJson(m)) + '\n';
}

/** One JSONL line (with newline) for an event. */
export function eventLine(ev: RibEvent): string {
  return JSON.stringify(eventToJson(ev)) + '\n';
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Parse a JSONL recording of inputs. */
export function parseInputs(text: string): RibInput[] {
  return lines(text).map((l, i) => {
    try {
      return inputFromJson(JSON.parse(l));
    } catch (e) {
      throw new RecordingError(`line ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/** Parse a JSONL recording of events. */
export function parseEvents(text: string): RibEvent[] {
  return lines(text).map((l, i) => {
    try {
      return eventFromJson(JSON.parse(l));
    } catch (e) {
      throw new RecordingError(`line ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/** Replay a JSONL recording of inputs into a RIB, as one batch. */
export function replayInputs(rib: Rib, text: string): number {
  const msgs = parseInputs(text);
  rib.batch(() => {
    for (const m of msgs) applyInput(rib, m);
  });
  return msgs.length;
}
