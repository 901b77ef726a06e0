// ddmd's I/O seams (STYLE.md item 9): datagrams (discovery on UDP 3549 to ff02::dd, probes on UDP
// 3550 between link-local addresses) and the exchange (HTTP/JSON on TCP 56797 served on each
// interface's link-local address). Each has a real implementation (node:dgram, node:http) and an
// in-memory one, so a whole rack runs in one process on a fake clock.
//
// Addresses cross these interfaces without a zone: the interface name travels beside them. The
// real implementations add `%ifname` where the kernel needs it (node:http can dial zone-scoped
// addresses; `fetch` cannot).

import dgram from 'node:dgram';
import http from 'node:http';
import type { Clock } from '../lib/clock.js';
import { DDM_DISCOVERY_GROUP, DDM_DISCOVERY_PORT } from '../wire/ddm/discovery.js';
import { DDM_PROBE_PORT } from '../wire/ddm/probe.js';

/** TCP port of the exchange (Maghemite: 0xdddd). */
export const DDM_EXCHANGE_PORT = 56797;

// ===== Datagrams =====

export type DatagramKind = 'discovery' | 'probe';

export interface DatagramHandler {
  (kind: DatagramKind, ifname: string, from: string, bytes: Uint8Array): void;
}

/** Discovery and probe datagrams on a set of interfaces. */
export interface DdmDatagramIo {
  /** Start receiving on an interface. */
  addInterface(ifname: string): Promise<void>;
  removeInterface(ifname: string): void;
  /** Multicast a discovery packet on an interface. */
  sendDiscovery(ifname: string, bytes: Uint8Array): void;
  /** Send a probe to a neighbour's link-local address on an interface. */
  sendProbe(ifname: string, to: string, bytes: Uint8Array): void;
  onPacket(h: DatagramHandler): void;
  /** Called when the kernel refuses to send a probe (e.g. the interface is down). */
  onSendError?(h: (ifname: string, error: Error) => void): void;
  close(): void;
}

/** Split `fe80::1%eth0` into address and zone. */
export function splitZone(a: string): { addr: string; zone: string | undefined } {
  const i = a.indexOf('%');
  return i < 0 ? { addr: a, zone: undefined } : { addr: a.slice(0, i), zone: a.slice(i + 1) };
}

/** The real datagram I/O: one UDP socket per port, joined to ff02::dd on every interface. */
export class UdpDatagramIo implements DdmDatagramIo {
  private disc: dgram.Socket | undefined;
  private probe: dgram.Socket | undefined;
  private readonly ifaces = new Set<string>();
  private handlers: DatagramHandler[] = [];
  /** Send errors per interface (a down link makes sends fail; that is not fatal). */
  sendErrors = 0;

  constructor(
    private readonly discoveryPort = DDM_DISCOVERY_PORT,
    private readonly probePort = DDM_PROBE_PORT,
  ) {}

  private async open(port: number, kind: DatagramKind): Promise<dgram.Socket> {
    const s = dgram.createSocket({ type: 'udp6', reuseAddr: true });
    s.on('message', (msg, rinfo) => {
      const { addr, zone } = splitZone(rinfo.address);
      if (zone === undefined || !this.ifaces.has(zone)) return;
      for (const h of this.handlers) h(kind, zone, addr, msg);
    });
    s.on('error', () => {
      this.sendErrors++;
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '::', () => {
        s.off('error', reject);
        resolve();
      });
    });
    return s;
  }

  async addInterface(ifname: string): Promise<void> {
    this.disc ??= await this.open(this.discoveryPort, 'discovery');
    this.probe ??= await this.open(this.probePort, 'probe');
    if (this.ifaces.has(ifname)) return;
    this.disc.addMembership(DDM_DISCOVERY_GROUP, `::%${ifname}`);
    this.disc.setMulticastLoopback(false);
    // Link-local scope: packets must never leave the link (RFC 4291 §2.7 ff02::/16).
    this.disc.setMulticastTTL(1);
    this.ifaces.add(ifname);
  }

  removeInterface(ifname: string): void {
    if (!this.ifaces.delete(ifname)) return;
    try {
      this.disc?.dropMembership(DDM_DISCOVERY_GROUP, `::%${ifname}`);
    } catch {
      // The interface may already be gone.
    }
  }

  sendDiscovery(ifname: string, bytes: Uint8Array): void {
    const s = this.disc;
    if (s === undefined) return;
    try {
      s.setMulticastInterface(`::%${ifname}`);
      s.send(bytes, this.discoveryPort, `${DDM_DISCOVERY_GROUP}%${ifname}`, (e) => {
        if (e) this.sendErrors++;
      });
    } catch {
      this.sendErrors++;
    }
  }

  sendProbe(ifname: string, to: string, bytes: Uint8Array): void {
    this.probe?.send(bytes, this.probePort, `${to}%${ifname}`, (e) => {
      if (!e) return;
      this.sendErrors++;
      for (const h of this.sendErrorHandlers) h(ifname, e);
    });
  }

  private sendErrorHandlers: ((ifname: string, error: Error) => void)[] = [];

  onSendError(h: (ifname: string, error: Error) => void): void {
    this.sendErrorHandlers.push(h);
  }

  onPacket(h: DatagramHandler): void {
    this.handlers.push(h);
  }

  close(): void {
    this.disc?.close();
    this.probe?.close();
    this.disc = undefined;
    this.probe = undefined;
  }
}

// ===== Exchange =====

/** What an exchange server answers. */
export interface ExchangeHandlers {
  /** A neighbour pushed an update (`PUT /v2/push`); the body is unvalidated JSON. */
  push(ifname: string, from: string, body: unknown): { status: number; error?: string };
  /** A neighbour pulls our table (`GET /v2/pull`); a status of 300 or more refuses it. */
  pull(ifname: string, from: string): { status: number; body?: unknown; error?: string };
}

export interface DdmExchangeIo {
  /** Serve the exchange on an interface's link-local address. */
  serve(ifname: string, localAddr: string, h: ExchangeHandlers): Promise<void>;
  unserve(ifname: string): void;
  push(ifname: string, peer: string, body: unknown, timeoutMs: number): Promise<void>;
  pull(ifname: string, peer: string, timeoutMs: number): Promise<unknown>;
  close(): void;
}

const MAX_BODY = 16 << 20;

/** HTTP/JSON over node:http, one server per interface bound to its link-local address. */
export class HttpExchangeIo implements DdmExchangeIo {
  private readonly servers = new Map<string, http.Server>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly port = DDM_EXCHANGE_PORT) {}

  serve(ifname: string, localAddr: string, h: ExchangeHandlers): Promise<void> {
    this.unserve(ifname);
    const server = http.createServer((req, res) => {
      const from = splitZone(req.socket.remoteAddress ?? '').addr;
      const reply = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && (path === '/v2/pull' || path === '/v3/pull')) {
        const r = h.pull(ifname, from);
        reply(r.status, r.status < 300 ? r.body : { message: r.error ?? 'refused' });
        return;
      }
      if (req.method === 'PUT' && (path === '/v2/push' || path === '/v3/push')) {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            reply(413, { message: `body over ${MAX_BODY} bytes` });
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        req.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (e) {
            reply(400, { message: `body is not JSON: ${(e as Error).message}` });
            return;
          }
          const r = h.push(ifname, from, body);
          reply(r.status, r.error === undefined ? null : { message: r.error });
        });
        return;
      }
      reply(404, { message: `no route ${req.method ?? ''} ${path ?? ''}` });
    });
    this.servers.set(ifname, server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: `${localAddr}%${ifname}`, port: this.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  unserve(ifname: string): void {
    this.servers.get(ifname)?.close();
    this.servers.delete(ifname);
  }

  private request(
    method: string,
    ifname: string,
    peer: string,
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: `${peer}%${ifname}`,
          family: 6,
          port: this.port,
          method,
          path,
          agent: this.agent,
          timeout: timeoutMs,
          headers:
            text === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 300) {
              reject(
                new Error(`${method} ${path} to ${peer}%${ifname}: HTTP ${res.statusCode ?? '?'} ${raw}`),
              );
              return;
            }
            try {
              resolve(raw === '' ? null : JSON.parse(raw));
            } catch (e) {
              reject(
                new Error(
                  `${method} ${path} to ${peer}%${ifname}: reply is not JSON: ${(e as Error).message}`,
                ),
              );
            }
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path} to ${peer}%${ifname} timed out after ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  async push(ifname: string, peer: string, body: unknown, timeoutMs: number): Promise<void> {
    await this.request('PUT', ifname, peer, '/v2/push', body, timeoutMs);
  }

  pull(ifname: string, peer: string, timeoutMs: number): Promise<unknown> {
    return this.request('GET', ifname, peer, '/v2/pull', undefined, timeoutMs);
  }

  close(): void {
    for (const s of this.servers.values()) s.close();
    this.servers.clear();
    this.agent.destroy();
  }
}

// ===== In memory =====

interface Port {
  node: string;
  ifname: string;
  addr: string;
}

/**
 * An in-process rack fabric: point-to-point links between (node, interface) ports, each with a
 * one-way delay and a switch to drop everything. Datagrams are delivered on the clock; exchange
 * calls are delivered at once (they ride on TCP, whose delay the probes already measure).
 */
export class MemoryFabric {
  private readonly links = new Map<string, { a: Port; b: Port; delayMs: number; up: boolean }>();
  private readonly dgram = new Map<string, DatagramHandler[]>();
  private readonly servers = new Map<string, ExchangeHandlers>();

  constructor(private readonly clock: Clock) {}

  private static key(node: string, ifname: string): string {
    return `${node}/${ifname}`;
  }

  /** Join two ports; addresses are their link-local addresses. */
  link(a: Port, b: Port, delayMs = 0.05): void {
    const l = { a, b, delayMs, up: true };
    this.links.set(MemoryFabric.key(a.node, a.ifname), l);
    this.links.set(MemoryFabric.key(b.node, b.ifname), l);
  }

  /** Cut or restore the link at a port; set its delay. */
  setLink(node: string, ifname: string, change: { up?: boolean; delayMs?: number }): void {
    const l = this.links.get(MemoryFabric.key(node, ifname));
    if (l === undefined) throw new Error(`no link at ${node}/${ifname}`);
    if (change.up !== undefined) l.up = change.up;
    if (change.delayMs !== undefined) l.delayMs = change.delayMs;
  }

  private far(node: string, ifname: string): { port: Port; self: Port; delayMs: number } | undefined {
    const l = this.links.get(MemoryFabric.key(node, ifname));
    if (l === undefined || !l.up) return undefined;
    const aSide = l.a.node === node && l.a.ifname === ifname;
    return { port: aSide ? l.b : l.a, self: aSide ? l.a : l.b, delayMs: l.delayMs };
  }

  /** The datagram I/O of one node. */
  datagrams(node: string): DdmDatagramIo {
    const ifaces = new Set<string>();
    const deliver = (kind: DatagramKind, ifname: string, bytes: Uint8Array, to?: string) => {
      const f = this.far(node, ifname);
      if (f === undefined || (to !== undefined && to !== f.port.addr)) return;
      const copy = bytes.slice();
      this.clock.setTimer(this.clock.now() + f.delayMs, () => {
        if (this.far(node, ifname) === undefined) return;
        for (const h of this.dgram.get(MemoryFabric.key(f.port.node, f.port.ifname)) ?? [])
          h(kind, f.port.ifname, f.self.addr, copy);
      });
    };
    let handlers: DatagramHandler[] = [];
    return {
      addInterface: (ifname) => {
        ifaces.add(ifname);
        this.dgram.set(MemoryFabric.key(node, ifname), [
          (k, i, from, b) => handlers.forEach((h) => h(k, i, from, b)),
        ]);
        return Promise.resolve();
      },
      removeInterface: (ifname) => {
        ifaces.delete(ifname);
        this.dgram.delete(MemoryFabric.key(node, ifname));
      },
      sendDiscovery: (ifname, bytes) => deliver('discovery', ifname, bytes),
      sendProbe: (ifname, to, bytes) => deliver('probe', ifname, bytes, to),
      onPacket: (h) => handlers.push(h),
      close: () => {
        for (const i of ifaces) this.dgram.delete(MemoryFabric.key(node, i));
        handlers = [];
      },
    };
  }

  /** The exchange I/O of one node. */
  exchange(node: string): DdmExchangeIo {
    const served = new Set<string>();
    const call = (ifname: string, peer: string): { h: ExchangeHandlers; port: Port; self: Port } => {
      const f = this.far(node, ifname);
      if (f === undefined || f.port.addr !== peer)
        throw new Error(`connect ECONNREFUSED [${peer}%${ifname}]:${DDM_EXCHANGE_PORT}`);
      const h = this.servers.get(MemoryFabric.key(f.port.node, f.port.ifname));
      if (h === undefined) throw new Error(`connect ECONNREFUSED [${peer}%${ifname}]:${DDM_EXCHANGE_PORT}`);
      return { h, port: f.port, self: f.self };
    };
    return {
      serve: (ifname, _addr, h) => {
        served.add(ifname);
        this.servers.set(MemoryFabric.key(node, ifname), h);
        return Promise.resolve();
      },
      unserve: (ifname) => {
        served.delete(ifname);
        this.servers.delete(MemoryFabric.key(node, ifname));
      },
      push: (ifname, peer, body) => {
        try {
          const c = call(ifname, peer);
          const r = c.h.push(c.port.ifname, c.self.addr, JSON.parse(JSON.stringify(body)));
          return r.status < 300
            ? Promise.resolve()
            : Promise.reject(new Error(`HTTP ${r.status} ${r.error ?? ''}`));
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
      pull: (ifname, peer) => {
        try {
          const c = call(ifname, peer);
          const r = c.h.pull(c.port.ifname, c.self.addr);
          if (r.status >= 300) return Promise.reject(new Error(`HTTP ${r.status} ${r.error ?? ''}`));
          return Promise.resolve(JSON.parse(JSON.stringify(r.body)));
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
      close: () => {
        for (const i of served) this.servers.delete(MemoryFabric.key(node, i));
        served.clear();
      },
    };
  }
}
