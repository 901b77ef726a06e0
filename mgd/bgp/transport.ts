// The transport seam in front of BGP's TCP sockets: one interface, a real implementation over
// node:net, and an in-memory one so several speakers run in one process under a fake clock
// (STYLE.md item 9).

import net from 'node:net';

// ===== Interface =====

/** One established byte stream to a peer. */
export interface BgpConnection {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Queue bytes; false means the send buffer is above its mark (wait for `onDrain`). */
  write(bytes: Uint8Array): boolean;
  /** Bytes queued but not yet handed to the peer. */
  readonly pendingBytes: number;
  /** Close after flushing what was written. */
  end(): void;
  /** Close at once. */
  destroy(): void;
  onData(cb: (chunk: Uint8Array) => void): void;
  onDrain(cb: () => void): void;
  /** Called once when the stream is gone, with the error if it failed. */
  onClose(cb: (error?: Error) => void): void;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** Give up after this many ms. */
  readonly timeoutMs: number;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
}

export interface Listener {
  readonly port: number;
  close(): void;
}

export interface BgpTransport {
  connect(opts: ConnectOptions): Promise<BgpConnection>;
  listen(opts: ListenOptions, onConnection: (c: BgpConnection) => void): Promise<Listener>;
}

/** Strip the IPv4-mapped prefix node:net reports on dual-stack sockets. */
export function plainAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

// ===== node:net =====

class TcpConnection implements BgpConnection {
  private closeCbs: ((e?: Error) => void)[] = [];
  private closed = false;
  private lastError: Error | undefined;

  constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('error', (e) => {
      this.lastError = e;
    });
    sock.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      for (const cb of this.closeCbs) cb(this.lastError);
    });
  }

  get localAddress(): string {
    return plainAddress(this.sock.localAddress);
  }
  get localPort(): number {
    return this.sock.localPort ?? 0;
  }
  get remoteAddress(): string {
    return plainAddress(this.sock.remoteAddress);
  }
  get remotePort(): number {
    return this.sock.remotePort ?? 0;
  }
  get pendingBytes(): number {
    return this.sock.writableLength;
  }
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    return this.sock.write(bytes);
  }
  end(): void {
    this.sock.end();
    // A peer that never reads must not keep us half-open forever.
    setTimeout(() => this.sock.destroy(), 5000).unref();
  }
  destroy(): void {
    this.sock.destroy();
  }
  onData(cb: (chunk: Uint8Array) => void): void {
    this.sock.on('data', cb);
  }
  onDrain(cb: () => void): void {
    this.sock.on('drain', cb);
  }
  onClose(cb: (error?: Error) => void): void {
    this.closeCbs.push(cb);
  }
}

/** BGP over real TCP sockets. */
export const tcpTransport: BgpTransport = {
  connect(opts) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({
        host: opts.host,
        port: opts.port,
        ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
        ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
      });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${opts.host}:${opts.port} timed out after ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpConnection(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      });
    });
  },
  listen(opts, onConnection) {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => onConnection(new TcpConnection(sock)));
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port }, () => {
        const addr = server.address();
        resolve({
          port: typeof addr === 'object' && addr !== null ? addr.port : opts.port,
          close: () => server.close(),
        });
      });
    });
  },
};

// ===== In memory =====

/** The other end of an in-memory connection. */
class MemoryConnection implements BgpConnection {
  peer!: MemoryConnection;
  private dataCbs: ((c: Uint8Array) => void)[] = [];
  private closeCbs: ((e?: Error) => void)[] = [];
  private drainCbs: (() => void)[] = [];
  private queue: Uint8Array[] = [];
  private queued = 0;
  private scheduled = false;
  closed = false;

  constructor(
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly highWater: number,
  ) {}

  get pendingBytes(): number {
    return this.queued;
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.queue.push(bytes.slice());
    this.queued += bytes.length;
    this.schedule();
    return this.queued < this.highWater;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const chunks = this.queue;
    this.queue = [];
    const wasFull = this.queued >= this.highWater;
    this.queued = 0;
    for (const c of chunks) {
      if (this.peer.closed) break;
      this.peer.deliver(c);
    }
    if (wasFull) for (const cb of this.drainCbs) cb();
  }

  end(): void {
    // Deliver what is queued, then close both ends.
    queueMicrotask(() => {
      if (this.queue.length > 0) this.flush();
      this.destroy();
    });
  }

  destroy(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    for (const cb of this.closeCbs) cb(error);
    const p = this.peer;
    queueMicrotask(() => p.destroy());
  }

  /** Hand bytes to the reader, holding them (like a socket's receive buffer) until one listens. */
  deliver(c: Uint8Array): void {
    if (this.dataCbs.length === 0) {
      this.unread.push(c);
      return;
    }
    for (const cb of this.dataCbs) cb(c);
  }
  private unread: Uint8Array[] = [];

  onData(cb: (chunk: Uint8Array) => void): void {
    this.dataCbs.push(cb);
    // Like a socket, deliver held bytes on a later turn, never inside the registration call.
    if (this.unread.length > 0) {
      queueMicrotask(() => {
        const held = this.unread;
        this.unread = [];
        for (const c of held) for (const f of this.dataCbs) f(c);
      });
    }
  }
  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }
  onClose(cb: (error?: Error) => void): void {
    this.closeCbs.push(cb);
  }
}

/**
 * An in-process network: each speaker gets a transport bound to its own address; connects reach
 * the listener registered for the target address and port. Links can be cut to fail connections.
 */
export class MemoryNetwork {
  private listeners = new Map<string, (c: BgpConnection) => void>();
  private nextPort = 40000;
  private open = new Set<MemoryConnection>();
  private blocked = new Set<string>();

  constructor(private readonly highWater = 1 << 20) {}

  /** A transport whose connections originate from `address`. */
  transport(address: string): BgpTransport {
    return {
      connect: (opts) => this.connect(address, opts),
      listen: (opts, onConnection) => {
        const key = `${address}|${opts.port}`;
        if (this.listeners.has(key))
          return Promise.reject(new Error(`address in use: ${address}:${opts.port}`));
        this.listeners.set(key, onConnection);
        return Promise.resolve({ port: opts.port, close: () => this.listeners.delete(key) });
      },
    };
  }

  /** Break (or restore) reachability between two addresses; cutting also kills open connections. */
  setLink(a: string, b: string, up: boolean): void {
    const k1 = `${a}|${b}`;
    const k2 = `${b}|${a}`;
    if (up) {
      this.blocked.delete(k1);
      this.blocked.delete(k2);
      return;
    }
    this.blocked.add(k1);
    this.blocked.add(k2);
    for (const c of [...this.open]) {
      if (
        (c.localAddress === a && c.remoteAddress === b) ||
        (c.localAddress === b && c.remoteAddress === a)
      ) {
        c.destroy(new Error('link down'));
      }
    }
  }

  private connect(from: string, opts: ConnectOptions): Promise<BgpConnection> {
    const onConnection = this.listeners.get(`${opts.host}|${opts.port}`);
    if (onConnection === undefined || this.blocked.has(`${from}|${opts.host}`)) {
      return Promise.reject(new Error(`connect ECONNREFUSED ${opts.host}:${opts.port}`));
    }
    const port = opts.localPort ?? this.nextPort++;
    const a = new MemoryConnection(from, port, opts.host, opts.port, this.highWater);
    const b = new MemoryConnection(opts.host, opts.port, from, port, this.highWater);
    a.peer = b;
    b.peer = a;
    for (const c of [a, b]) {
      this.open.add(c);
      c.onClose(() => this.open.delete(c));
    }
    onConnection(b);
    return Promise.resolve(a);
  }
}
