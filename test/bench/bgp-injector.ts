// The BGP propagation benchmark's route injector: one eBGP session to the daemon under test, then
// COUNT IPv4 /24 prefixes announced in packed UPDATEs (RFC 4271 §4.3) with PER_SET prefixes per
// attribute set, then the IPv4 unicast End-of-RIB (RFC 4724 §2).
//
//   node dist/test/bench/bgp-injector.js --local-as 65001 --router-id 10.0.1.1 --local 10.0.1.1
//     --peer 10.0.1.2 --peer-as 65000 --count 100000 --per-set 15 --hold 90
//
// Every UPDATE is built (wire/bgp/builder.ts) and packed into large write chunks before the
// session opens, so the timed part is only the writing. It reports `established`, then
// `first-update` just before the first UPDATE byte is written, then `sent` once the kernel has
// taken the last byte (End-of-RIB included). UPDATEs the daemon sends back are framed and
// dropped. It stays up, answering keepalives, until the parent stops it.

import type { CodecContext } from '../../wire/bgp/types.js';
import {
  addrFlag,
  buildPlanUpdates,
  establish,
  flag,
  intFlag,
  parseFlags,
  PLAN_MAX,
  report,
} from './bgp-peer.js';
import { fail } from './bgp-peer.js';

// ===== Main =====

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2));
  const localAs = intFlag(f, 'local-as');
  const count = intFlag(f, 'count');
  const perSet = intFlag(f, 'per-set');
  if (count > PLAN_MAX) fail(`--count above ${PLAN_MAX}`);
  if (perSet < 1) fail('--per-set must be at least 1');
  const nextHop = addrFlag(f, 'local');
  // The daemons under test all support four-octet AS; the per-set ASNs need it.
  const ctx: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
  const chunks = buildPlanUpdates(count, perSet, localAs, nextHop, ctx);
  report('built', { chunks: chunks.length, bytes: chunks.reduce((n, c) => n + c.length, 0) });
  const { socket, ctx: negotiated } = await establish({
    localAs,
    routerId: addrFlag(f, 'router-id'),
    localAddress: flag(f, 'local'),
    peerAddress: flag(f, 'peer'),
    peerAs: intFlag(f, 'peer-as'),
    holdTime: intFlag(f, 'hold'),
    connectForMs: 60_000,
  });
  if (!negotiated.fourOctetAs) fail('the peer did not advertise four-octet AS');
  report('established');
  report('first-update');
  for (let i = 0; i < chunks.length; i++) {
    const last = i === chunks.length - 1;
    const flushed = socket.write(chunks[i]!, last ? () => report('sent') : undefined);
    if (!flushed) await new Promise((r) => socket.once('drain', r));
  }
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
