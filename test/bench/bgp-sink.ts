// The BGP propagation benchmark's counting sink: one eBGP session to the daemon under test; every
// UPDATE is decoded with our codec (wire/bgp/message.ts) and each announced IPv4 prefix that
// belongs to the injector's plan is marked in a bitmap. When all COUNT prefixes have been seen it
// reports `complete` with the time; it stays up, answering keepalives, until the parent stops it.
//
//   node dist/test/bench/bgp-sink.js --local-as 65002 --router-id 10.0.2.2 --local 10.0.2.2
//     --peer 10.0.2.1 --peer-as 65000 --count 100000 --hold 90
//
// Prefixes are counted from the traditional NLRI field and from an AFI 1 MP_REACH_NLRI (RFC 4760
// §3); withdrawals do not un-count (the benchmark measures how fast the table arrives). A
// `progress` line is printed at most once a second while the count moves, so a run that times
// out still says how far it got.

import { MessageType } from '../../wire/bgp/constants.js';
import { decodeMessage } from '../../wire/bgp/message.js';
import type { CodecContext } from '../../wire/bgp/types.js';
import { addrFlag, Counter, establish, fail, flag, intFlag, parseFlags, report } from './bgp-peer.js';

// ===== Main =====

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2));
  const counter = new Counter(intFlag(f, 'count'));
  let lastReported = 0;
  const onUpdate = (buf: Uint8Array, off: number, end: number, ctx: CodecContext): void => {
    const m = decodeMessage(buf, off, end, ctx);
    if (!m.ok) fail(`undecodable UPDATE: ${m.error.message}`);
    if (m.value.type !== MessageType.UPDATE) return;
    counter.updates++;
    const u = m.value;
    if (u.treatAsWithdraw !== undefined) return;
    let done = counter.mark(u.nlri);
    const mp = u.attrs.mpReach;
    if (mp !== undefined && mp.afi === 1) done = counter.mark(mp.nlri) || done;
    if (done) report('complete', { prefixes: counter.count, updates: counter.updates });
  };
  await establish({
    localAs: intFlag(f, 'local-as'),
    routerId: addrFlag(f, 'router-id'),
    localAddress: flag(f, 'local'),
    peerAddress: flag(f, 'peer'),
    peerAs: intFlag(f, 'peer-as'),
    holdTime: intFlag(f, 'hold'),
    connectForMs: 60_000,
    onUpdate,
  });
  report('established');
  setInterval(() => {
    if (counter.count === lastReported) return;
    lastReported = counter.count;
    report('progress', { prefixes: counter.count, updates: counter.updates });
  }, 1_000);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
