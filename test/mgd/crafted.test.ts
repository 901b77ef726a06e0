// mgd against a crafted peer: the daemon runs in this process on 127.0.0.1 with an ephemeral port
// and real TCP; each case opens a raw node:net socket from its own loopback address (one neighbour
// per case, so no case waits out another's idle-hold back-off) and checks mgd's exact answer.
//
//   header errors (RFC 4271 §6.1)    bad marker 1/1, bad length 1/2 + the length, bad type 1/3 + type
//   OPEN errors (§6.2)               version 3 → 2/1, wrong AS → 2/2, hold time 1 → 2/6, BGP ID 0 → 2/3
//   UPDATE errors (RFC 7606)         malformed AS_PATH, bad ORIGIN: treat-as-withdraw, session stays;
//                                    an attribute overrunning the list: treat-as-withdraw (§4);
//                                    a total attribute length past the message: 3/1
//   FSM errors (RFC 6608)            an OPEN in Established → 5/3
// A well-behaved second session on the same daemon stays Established throughout.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryConnectedRoutes } from '../../rib/connected.js';
import { MemoryFib } from '../../rib/fib/memory.js';
import { validateConfig } from '../../mgd/config/load.js';
import type { ConfigFile } from '../../mgd/config/schema.js';
import { MgdDaemon } from '../../mgd/daemon.js';
import { encodeMessageBytes } from '../../wire/bgp/message.js';
import { DEFAULT_CONTEXT } from '../../wire/bgp/types.js';
import type { OpenMessage } from '../../wire/bgp/types.js';
import { parseAddr4, prefix4 } from '../../wire/ip/index.js';

// ===== The daemon =====

const LOCAL_AS = 65000;
const PEER_AS = 65001;
const GOOD = { addr: '127.0.0.2', asn: 65002 };
/** One neighbour address per crafted case. */
const CASES = [
  'marker',
  'length',
  'type',
  'version',
  'peer-as',
  'hold-time',
  'bgp-id',
  'as-path',
  'origin',
  'attr-length',
  'attr-total',
  'open-in-established',
] as const;
type Case = (typeof CASES)[number];
const addrOf = (c: Case): string => `127.0.0.${10 + CASES.indexOf(c)}`;

function config(): ConfigFile {
  const nb = (address: string, remoteAsn: number) => ({
    router: LOCAL_AS,
    address,
    remoteAsn,
    passive: true,
    families: ['ipv4-unicast' as const],
    holdTime: 90,
    importPolicy: 'all',
    exportPolicy: 'all',
  });
  return {
    routers: [{ asn: LOCAL_AS, routerId: '10.0.0.1', listen: { host: '127.0.0.1', port: 0 } }],
    neighbors: [nb(GOOD.addr, GOOD.asn), ...CASES.map((c) => nb(addrOf(c), PEER_AS))],
    policies: { all: { statements: [], default: 'accept' } },
    originate: { ipv4: ['192.0.2.0/24'] },
    fib: { backend: 'memory' },
  };
}

// ===== The crafted peer =====

interface Received {
  readonly type: number;
  readonly body: Buffer;
}

interface Notification {
  readonly code: number;
  readonly subcode: number;
  readonly data: number[];
}

const MARKER = Buffer.alloc(16, 0xff);

/** A BGP message: marker, length, type, body. */
function frame(type: number, body: Buffer | number[], marker: Buffer = MARKER): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(19 + b.length);
  return Buffer.concat([marker, len, Buffer.from([type]), b]);
}

const KEEPALIVE = frame(4, []);

function addr4(s: string): number {
  const r = parseAddr4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** An OPEN through our codec; fields overridable to make it wrong. */
function open(asn: number, bgpId: string, over: Partial<OpenMessage> = {}): Buffer {
  const m: OpenMessage = {
    type: 1,
    version: 4,
    myAs: asn,
    holdTime: 90,
    bgpId: addr4(bgpId),
    params: [
      {
        kind: 'capabilities',
        capabilities: [
          { kind: 'multiprotocol', afi: 1, safi: 1 },
          { kind: 'four-octet-as', asn },
        ],
      },
    ],
    extendedParams: false,
    ...over,
  };
  return Buffer.from(encodeMessageBytes(m, DEFAULT_CONTEXT));
}

/** Path attribute bytes: flags, type, one-octet length, value. */
function attr(flags: number, type: number, value: number[], length = value.length): number[] {
  return [flags, type, length, ...value];
}

const asn4 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const ORIGIN_IGP = (v = 0) => attr(0x40, 1, [v]);
const AS_PATH = (asns: number[]) => attr(0x40, 2, [2, asns.length, ...asns.flatMap(asn4)]);
const NEXT_HOP = (a: string) => attr(0x40, 3, a.split('.').map(Number));

/** An UPDATE body: no withdrawn routes, the attribute bytes, /24 NLRI for each a.b.c. */
function update(attrs: number[], nlri: string[]): Buffer {
  const n = nlri.flatMap((p) => [24, ...p.split('.').slice(0, 3).map(Number)]);
  return frame(2, [0, 0, attrs.length >> 8, attrs.length & 255, ...attrs, ...n]);
}

/** A raw TCP BGP peer that records what mgd sends. */
class RawPeer {
  private buf = Buffer.alloc(0);
  private readonly queue: Received[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  private readonly sock: Socket;

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 19) {
        const len = this.buf.readUInt16BE(16);
        if (len < 19 || this.buf.length < len) break;
        this.queue.push({ type: this.buf[18]!, body: this.buf.subarray(19, len) });
        this.buf = this.buf.subarray(len);
      }
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connect from localAddress to mgd. */
  static connect(localAddress: string, port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, localAddress });
      s.once('connect', () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(b: Buffer): void {
    this.sock.write(b);
  }

  /** The next message of one of the types (others are skipped), or null on close or timeout. */
  async next(types: readonly number[], timeoutMs = 3_000): Promise<Received | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.queue.length > 0) {
        const m = this.queue.shift()!;
        if (types.includes(m.type)) return m;
      }
      const left = deadline - Date.now();
      if (this.closed || left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Wait (bounded) for mgd's NOTIFICATION. */
  async notification(timeoutMs = 3_000): Promise<Notification> {
    const m = await this.next([3], timeoutMs);
    if (m === null) throw new Error(`no NOTIFICATION within ${timeoutMs} ms (closed: ${this.closed})`);
    return { code: m.body[0]!, subcode: m.body[1]!, data: [...m.body.subarray(2)] };
  }

  /** OPEN, mgd's OPEN, KEEPALIVE, mgd's KEEPALIVE: the session is Established on mgd's side. */
  async establish(asn: number, bgpId: string): Promise<void> {
    this.send(open(asn, bgpId));
    if ((await this.next([1, 3]))?.type !== 1) throw new Error('no OPEN from mgd');
    this.send(KEEPALIVE);
    if ((await this.next([4, 3]))?.type !== 4) throw new Error('no KEEPALIVE from mgd');
  }

  close(): void {
    this.sock.destroy();
  }
}

// ===== Tests =====

describe('mgd answers crafted messages', () => {
  let daemon: MgdDaemon;
  let port: number;
  let good: RawPeer;
  const peers: RawPeer[] = [];

  const status = (addr: string) => daemon.neighbors().find((n) => n.address === addr);
  const received = (addr: string) => status(addr)?.families['ipv4-unicast']?.received ?? -1;
  const accepted = (addr: string) => status(addr)?.families['ipv4-unicast']?.accepted ?? -1;

  async function until(cond: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function peer(c: Case): Promise<RawPeer> {
    const p = await RawPeer.connect(addrOf(c), port);
    peers.push(p);
    return p;
  }

  beforeAll(async () => {
    const cfg = validateConfig(config());
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.error));
    const connected = new MemoryConnectedRoutes();
    connected.set([{ afi: 4, prefix: prefix4(addr4('127.0.0.0'), 8), ifname: 'lo' }], ['lo']);
    daemon = new MgdDaemon({ config: cfg.value, fib: new MemoryFib(), connected });
    await daemon.start();
    port = daemon.speakers.get(LOCAL_AS)!.listenPort!;
    // The second session: established first, announcing one prefix, watched until the end.
    good = await RawPeer.connect(GOOD.addr, port);
    await good.establish(GOOD.asn, '10.9.9.2');
    good.send(update([...ORIGIN_IGP(), ...AS_PATH([GOOD.asn]), ...NEXT_HOP(GOOD.addr)], ['10.2.0']));
    await until(() => accepted(GOOD.addr) === 1, 'the good peer route accepted');
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    good?.close();
    await daemon?.stop();
  });

  describe('message header (RFC 4271 §6.1)', () => {
    it('bad marker → 1/1 Connection Not Synchronized', async () => {
      const p = await peer('marker');
      const bad = Buffer.from(MARKER);
      bad[7] = 0xfe;
      p.send(frame(4, [], bad));
      expect(await p.notification()).toEqual({ code: 1, subcode: 1, data: [] });
    });

    it('bad length → 1/2 Bad Message Length with the length as data', async () => {
      const p = await peer('length');
      // A KEEPALIVE claiming 20 octets (a KEEPALIVE is exactly 19).
      const m = Buffer.concat([MARKER, Buffer.from([0, 20, 4, 0])]);
      p.send(m);
      expect(await p.notification()).toEqual({ code: 1, subcode: 2, data: [0, 20] });
    });

    it('bad type → 1/3 Bad Message Type with the type as data', async () => {
      const p = await peer('type');
      p.send(frame(42, []));
      expect(await p.notification()).toEqual({ code: 1, subcode: 3, data: [42] });
    });
  });

  describe('OPEN (RFC 4271 §6.2)', () => {
    it('version 3 → 2/1 Unsupported Version Number', async () => {
      const p = await peer('version');
      p.send(open(PEER_AS, '10.9.9.9', { version: 3 }));
      // The data names the version mgd speaks (RFC 4271 §6.2).
      expect(await p.notification()).toEqual({ code: 2, subcode: 1, data: [0, 4] });
    });

    it('wrong peer AS → 2/2 Bad Peer AS', async () => {
      const p = await peer('peer-as');
      p.send(open(65099, '10.9.9.9'));
      expect(await p.notification()).toEqual({ code: 2, subcode: 2, data: [] });
    });

    it('hold time 1 → 2/6 Unacceptable Hold Time', async () => {
      const p = await peer('hold-time');
      p.send(open(PEER_AS, '10.9.9.9', { holdTime: 1 }));
      expect(await p.notification()).toEqual({ code: 2, subcode: 6, data: [] });
    });

    it('BGP Identifier 0.0.0.0 → 2/3 Bad BGP Identifier', async () => {
      const p = await peer('bgp-id');
      p.send(open(PEER_AS, '0.0.0.0'));
      expect(await p.notification()).toEqual({ code: 2, subcode: 3, data: [] });
    });
  });

  describe('UPDATE after Established (RFC 7606)', () => {
    const valid = (from: string) => [...ORIGIN_IGP(), ...AS_PATH([PEER_AS]), ...NEXT_HOP(from)];

    /** Establish, announce two prefixes, check mgd took them. */
    async function withRoutes(c: Case): Promise<RawPeer> {
      const p = await peer(c);
      await p.establish(PEER_AS, '10.9.9.9');
      p.send(update(valid(addrOf(c)), ['10.1.0', '10.1.1']));
      await until(() => accepted(addrOf(c)) === 2, `${c}: two routes accepted`);
      return p;
    }

    it('malformed AS_PATH (segment longer than the attribute) → treat-as-withdraw, session stays', async () => {
      const c = 'as-path';
      const p = await withRoutes(c);
      const before = status(addrOf(c))!.counters.treatAsWithdraw;
      // An AS_SEQUENCE that says 3 ASNs but carries one.
      const badPath = attr(0x40, 2, [2, 3, ...asn4(PEER_AS)]);
      p.send(update([...ORIGIN_IGP(), ...badPath, ...NEXT_HOP(addrOf(c))], ['10.1.0', '10.1.1']));
      await until(() => received(addrOf(c)) === 0 && accepted(addrOf(c)) === 0, `${c}: both withdrawn`);
      expect(status(addrOf(c))!.counters.treatAsWithdraw).toBe(before + 1);
      expect(await p.next([3], 500)).toBeNull();
      expect(p.closed).toBe(false);
      expect(status(addrOf(c))?.state).toBe('Established');
      // Still usable: a good UPDATE is taken.
      p.send(update(valid(addrOf(c)), ['10.1.2']));
      await until(() => accepted(addrOf(c)) === 1, `${c}: a later good route accepted`);
    });

    it('bad ORIGIN value → treat-as-withdraw, session stays', async () => {
      const c = 'origin';
      const p = await withRoutes(c);
      p.send(update([...ORIGIN_IGP(3), ...AS_PATH([PEER_AS]), ...NEXT_HOP(addrOf(c))], ['10.1.0', '10.1.1']));
      await until(() => received(addrOf(c)) === 0 && accepted(addrOf(c)) === 0, `${c}: both withdrawn`);
      expect(status(addrOf(c))!.counters.treatAsWithdraw).toBeGreaterThanOrEqual(1);
      expect(await p.next([3], 500)).toBeNull();
      expect(p.closed).toBe(false);
      expect(status(addrOf(c))?.state).toBe('Established');
    });

    it('an attribute length that overruns the attribute list → treat-as-withdraw (RFC 7606 §4)', async () => {
      const c = 'attr-length';
      const p = await withRoutes(c);
      const before = status(addrOf(c))!.counters.treatAsWithdraw;
      // ORIGIN claims 200 octets, past the end of the list. RFC 7606 §4: treat-as-withdraw, with the
      // NLRI located through the Total Path Attribute Length; only 10.1.0.0/24 is in this UPDATE.
      const attrs = [...attr(0x40, 1, [0], 200), ...AS_PATH([PEER_AS]), ...NEXT_HOP(addrOf(c))];
      p.send(update(attrs, ['10.1.0']));
      await until(
        () => received(addrOf(c)) === 1 && accepted(addrOf(c)) === 1,
        `${c}: 10.1.0.0/24 withdrawn`,
      );
      expect(status(addrOf(c))!.counters.treatAsWithdraw).toBe(before + 1);
      expect(await p.next([3], 500)).toBeNull();
      expect(status(addrOf(c))?.state).toBe('Established');
    });

    it('a Total Path Attribute Length past the message → 3/1 Malformed Attribute List', async () => {
      const c = 'attr-total';
      const p = await withRoutes(c);
      // RFC 4271 §6.3: withdrawn length + attribute length + 23 exceeds the message length, so
      // the NLRI cannot be located (RFC 7606 §4 leaves session reset as the only answer).
      const attrs = valid(addrOf(c));
      const body = [0, 0, 0, attrs.length + 50, ...attrs, 24, 10, 1, 0];
      p.send(frame(2, body));
      expect(await p.notification()).toEqual({ code: 3, subcode: 1, data: [] });
      await until(() => status(addrOf(c))?.state !== 'Established', `${c}: session down`);
      await until(() => accepted(addrOf(c)) <= 0, `${c}: routes gone with the session`);
    });
  });

  describe('FSM (RFC 6608)', () => {
    it('an OPEN in Established → 5/3', async () => {
      const c = 'open-in-established';
      const p = await peer(c);
      await p.establish(PEER_AS, '10.9.9.9');
      await until(() => status(addrOf(c))?.state === 'Established', `${c}: Established`);
      p.send(open(PEER_AS, '10.9.9.9'));
      expect(await p.notification()).toEqual({ code: 5, subcode: 3, data: [] });
    });
  });

  it('the second session stayed Established throughout with its route, and still takes UPDATEs', async () => {
    const s = status(GOOD.addr)!;
    expect(s.state).toBe('Established');
    expect(s.counters.establishedTransitions).toBe(1);
    expect(s.counters.notificationsSent + s.counters.notificationsReceived).toBe(0);
    expect(accepted(GOOD.addr)).toBe(1);
    expect(good.closed).toBe(false);
    good.send(update([...ORIGIN_IGP(), ...AS_PATH([GOOD.asn]), ...NEXT_HOP(GOOD.addr)], ['10.2.1']));
    await until(() => accepted(GOOD.addr) === 2, 'a second route from the good peer accepted');
  });
});
