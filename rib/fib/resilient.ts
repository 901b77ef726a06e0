// A Linux FIB backend that installs multipath routes through resilient nexthop groups
// (`ip nexthop … type resilient`), so that changing the weights of a destination's next hops moves
// only idle hash buckets and existing flows stay on their path. ddmd uses it: its weights follow
// measured delay and change while traffic flows.
//
//   multipath replace ─▶ ip nexthop replace id H via ADDR dev D      (one object per next hop)
//                     ─▶ ip nexthop replace id G group H1,w1/H2,w2 type resilient …
//                     ─▶ route replace PREFIX … nhid G               (through LinuxFib)
//   single-hop replace or delete of a grouped prefix ─▶ route op, then `nexthop del` of the group
//                                                       and of next-hop objects no group uses
//
// Object ids live in a range derived from the route protocol number (proto × 1,000,000 + n), so
// two daemons with different protocol numbers never touch each other's objects; on `list()` the
// backend adopts the objects it finds in its range (after a restart it keeps using them). With
// net.ipv4.nexthop_compat_mode (the kernel default) route dumps show the group's members with
// their weights, so reading back needs nothing beyond LinuxFib's parser.

import { execFile } from 'node:child_process';
import {
  RT_PROTO_LODESTONE,
  type FibBackend,
  type FibFailure,
  type FibOp,
  type FibRoute,
} from './backend.js';
import { LinuxFib, type LinuxFibOptions } from './linux.js';
import { formatAfPrefix, formatNextHopAddr, prefixKey, type NextHop } from '../types.js';

export interface ResilientOptions {
  /** Hash buckets per group (the kernel's default is 128). */
  readonly buckets: number;
  /** Seconds a bucket must be idle before it may move to another next hop. */
  readonly idleTimer: number;
  /** Seconds after which an unbalanced group is rebalanced even if buckets are busy (0 = never). */
  readonly unbalancedTimer: number;
}

export const DEFAULT_RESILIENT: ResilientOptions = { buckets: 128, idleTimer: 1, unbalancedTimer: 0 };

const FAILED_RE = /^Command failed -:(\d+)$/;

interface IpNexthopObject {
  id: number;
  gateway?: string;
  dev?: string;
  group?: { id: number; weight?: number }[];
}

/** Route writes as LinuxFib does, with multipath routes through resilient nexthop groups. */
export class ResilientLinuxFib implements FibBackend {
  readonly name = 'linux-resilient';
  private readonly inner: LinuxFib;
  private readonly base: number;
  private next: number;
  /** prefix key → group id. */
  private readonly groups = new Map<number | string, number>();
  /** group id → member object ids. */
  private readonly members = new Map<number, number[]>();
  /** "addr%dev" → next-hop object id. */
  private readonly objects = new Map<string, number>();

  constructor(
    private readonly opts: LinuxFibOptions = {},
    private readonly res: ResilientOptions = DEFAULT_RESILIENT,
  ) {
    this.inner = new LinuxFib(opts);
    this.base = (opts.proto ?? RT_PROTO_LODESTONE) * 1_000_000;
    this.next = this.base + 1;
  }

  private cmd(args: readonly string[]): [string, string[]] {
    const full = [...(this.opts.commandPrefix ?? []), 'ip', ...args];
    return [full[0]!, full.slice(1)];
  }

  /** Run lines through a one-shot `ip -force -batch -`; returns the failed line numbers (1-based). */
  private batch(lines: readonly string[]): Promise<Map<number, string>> {
    const failed = new Map<number, string>();
    if (lines.length === 0) return Promise.resolve(failed);
    const [c, a] = this.cmd(['-force', '-batch', '-']);
    return new Promise((resolve) => {
      const child = execFile(c, a, { maxBuffer: 1 << 26 }, (_e, _out, err) => {
        let why = '';
        for (const l of String(err).split('\n')) {
          const m = FAILED_RE.exec(l);
          if (m === null) {
            if (l.trim() !== '') why += (why === '' ? '' : '; ') + l.trim();
            continue;
          }
          failed.set(Number(m[1]), why || 'refused');
          why = '';
        }
        resolve(failed);
      });
      child.stdin?.end(lines.join('\n') + '\n');
    });
  }

  private static hopKey(h: NextHop): string {
    return `${formatNextHopAddr(h)}%${h.ifname ?? ''}`;
  }

  private allocate(): number {
    const used = new Set<number>([...this.objects.values(), ...this.groups.values()]);
    while (used.has(this.next)) this.next++;
    return this.next++;
  }

  async apply(ops: readonly FibOp[]): Promise<FibFailure[]> {
    const pre: string[] = [];
    const preOp: number[] = [];
    const routed: FibOp[] = [];
    const retire: { key: number | string; gid: number }[] = [];
    ops.forEach((op, i) => {
      const key = prefixKey(op.route);
      const gid = this.groups.get(key);
      if (op.op === 'replace' && op.route.nexthops.length > 1) {
        const ids: string[] = [];
        const memberIds: number[] = [];
        for (const h of op.route.nexthops) {
          const hk = ResilientLinuxFib.hopKey(h);
          let id = this.objects.get(hk);
          if (id === undefined) {
            id = this.allocate();
            this.objects.set(hk, id);
            const dev = h.ifname === undefined ? '' : ` dev ${h.ifname}`;
            const fam = op.route.afi === 4 && typeof h.addr !== 'number' ? 'inet6 ' : '';
            pre.push(`nexthop replace id ${id} via ${fam}${formatNextHopAddr(h)}${dev}`);
            preOp.push(i);
          }
          memberIds.push(id);
          ids.push(`${id},${Math.max(1, Math.min(255, h.weight ?? 1))}`);
        }
        const g = gid ?? this.allocate();
        this.groups.set(key, g);
        this.members.set(g, memberIds);
        const r = this.res;
        pre.push(
          `nexthop replace id ${g} group ${ids.join('/')} type resilient buckets ${r.buckets} idle_timer ${r.idleTimer} unbalanced_timer ${r.unbalancedTimer}`,
        );
        preOp.push(i);
        routed.push({ op: 'replace', route: { ...op.route, nhid: g }, existing: true });
        return;
      }
      if (gid !== undefined) retire.push({ key, gid });
      routed.push(op.op === 'replace' && gid !== undefined ? { ...op, existing: true } : op);
    });

    const failures: FibFailure[] = [];
    const preFailed = await this.batch(pre);
    const badOps = new Set<number>();
    for (const [line, why] of preFailed) {
      const i = preOp[line - 1];
      if (i === undefined || badOps.has(i)) continue;
      badOps.add(i);
      failures.push({ op: ops[i]!, error: `nexthop group: ${why}` });
    }
    // Routes whose group could not be built are not written (they would point at nothing).
    const send: FibOp[] = [];
    const sendIndex: number[] = [];
    routed.forEach((op, i) => {
      if (badOps.has(i)) return;
      send.push(op);
      sendIndex.push(i);
    });
    const routeFailures = await this.inner.apply(send);
    for (const f of routeFailures) {
      const at = send.indexOf(f.op);
      failures.push({ op: ops[sendIndex[at] ?? 0]!, error: f.error });
    }

    // Groups no route uses any more, then next-hop objects no group uses.
    const post: string[] = [];
    for (const { key, gid } of retire) {
      if (this.groups.get(key) !== gid) continue;
      this.groups.delete(key);
      this.members.delete(gid);
      post.push(`nexthop del id ${gid}`);
    }
    if (post.length > 0) {
      const live = new Set<number>();
      for (const m of this.members.values()) for (const id of m) live.add(id);
      for (const [hk, id] of this.objects) {
        if (live.has(id)) continue;
        this.objects.delete(hk);
        post.push(`nexthop del id ${id}`);
      }
      await this.batch(post);
    }
    return failures;
  }

  /** Our routes, as LinuxFib reads them; also adopts our nexthop objects left by a previous run. */
  async list(): Promise<FibRoute[]> {
    const routes = await this.inner.list();
    const [c, a] = this.cmd(['-j', 'nexthop', 'show']);
    const text = await new Promise<string>((resolve) =>
      execFile(c, a, { maxBuffer: 1 << 28 }, (_e, out) => resolve(String(out))),
    );
    const objs = text.trim() === '' ? [] : (JSON.parse(text) as IpNexthopObject[]);
    const mine = objs.filter((o) => o.id > this.base && o.id < this.base + 1_000_000);
    const byId = new Map(mine.map((o) => [o.id, o]));
    this.objects.clear();
    for (const o of mine)
      if (o.group === undefined && o.gateway !== undefined)
        this.objects.set(`${o.gateway}%${o.dev ?? ''}`, o.id);
    // Which prefix uses which of our groups: routes dumped with their nhid.
    const [rc, ra] = this.cmd([
      '-j',
      'route',
      'show',
      'proto',
      String(this.opts.proto ?? RT_PROTO_LODESTONE),
    ]);
    const [rc6, ra6] = this.cmd([
      '-6',
      '-j',
      'route',
      'show',
      'proto',
      String(this.opts.proto ?? RT_PROTO_LODESTONE),
    ]);
    const dump = async (cmd: string, args: string[]): Promise<{ dst?: string; nhid?: number }[]> => {
      const out = await new Promise<string>((resolve) =>
        execFile(cmd, args, { maxBuffer: 1 << 30 }, (_e, o) => resolve(String(o))),
      );
      return out.trim() === '' ? [] : (JSON.parse(out) as { dst?: string; nhid?: number }[]);
    };
    const nhidOf = new Map<string, number>();
    for (const r of [...(await dump(rc, ra)), ...(await dump(rc6, ra6))]) {
      if (r.dst === undefined || r.nhid === undefined || byId.get(r.nhid)?.group === undefined) continue;
      nhidOf.set(r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`, r.nhid);
    }
    this.groups.clear();
    this.members.clear();
    for (const r of routes) {
      const gid = nhidOf.get(formatAfPrefix(r));
      if (gid === undefined) continue;
      this.groups.set(prefixKey(r), gid);
      this.members.set(
        gid,
        (byId.get(gid)?.group ?? []).map((m) => m.id),
      );
    }
    for (const o of mine) if (o.id >= this.next) this.next = o.id + 1;
    // Objects of ours that nothing uses (left by a crash between steps) are removed.
    const used = new Set<number>(this.groups.values());
    for (const m of this.members.values()) for (const id of m) used.add(id);
    const orphans = mine
      .filter((o) => !used.has(o.id))
      .sort((x, y) => (x.group === undefined ? 1 : 0) - (y.group === undefined ? 1 : 0));
    if (orphans.length > 0) {
      for (const o of orphans) for (const [k, id] of this.objects) if (id === o.id) this.objects.delete(k);
      await this.batch(orphans.map((o) => `nexthop del id ${o.id}`));
    }
    return routes;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
