// npm run bench:ddm — delay-driven multipath in a namespace rack (test/ddmd/netns-rack.ts), against
// equal-weight ECMP (what Maghemite installs) measured in the same run:
//   - time from congestion onset on one sled's link to the weight shift at another sled;
//   - share of new flows that still take the congested path, delay-driven vs equal weights;
//   - failover: time from cutting a sled-switch link until every other sled has dropped that next hop;
//   - convergence of a rack of two switches and 16 sleds after launch.
// Prints medians; asserts nothing. Needs root, iproute2 and a build (npm run build does it).

import { sleep, waitFor } from '../topo/index.js';
import {
  buildRack,
  FLOOD,
  FLOWS,
  kernelHops,
  rackSkip,
  sledPrefix,
  txPackets,
  type Rack,
} from '../ddmd/netns-rack.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function converge(rack: Rack, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await waitFor(
    async () => {
      for (const [i, s] of rack.sleds.entries()) {
        for (let j = 0; j < rack.sleds.length; j++) {
          if (i !== j && Object.keys(await kernelHops(s, sledPrefix(j))).length !== 2) return false;
        }
      }
      return true;
    },
    { what: 'rack convergence', timeoutMs, intervalMs: 100 },
  );
  return Date.now() - t0;
}

interface Episode {
  shiftMs: number;
  congestedShare: number;
  /** Time from the end of the load until weights were even again (NaN if they were not). */
  recoverMs: number;
}

/** Congest sled1's link to sw0, then measure at sled0; restore and wait for even weights. */
async function congestion(rack: Rack, expectShift: boolean): Promise<Episode> {
  const sled0 = rack.sleds[0]!;
  const [via0, via1] = rack.links[0]!.map((l) => l.a.ifname) as [string, string];
  const loaded = rack.links[1]![0]!;
  await loaded.setRate({ rate: '5mbit', burst: '16kb', latency: '50ms' });
  const onset = Date.now();
  const flood = rack.sw[0]!.spawn(process.execPath, [
    '-e',
    FLOOD,
    `${loaded.a.linkLocal6}%${loaded.b.ifname}`,
    '20000',
  ]);
  let shiftMs = NaN;
  if (expectShift) {
    await waitFor(
      async () => {
        const w = await kernelHops(sled0, sledPrefix(1));
        return (w[via0] ?? 0) * 4 < (w[via1] ?? 0);
      },
      { what: 'weight shift', timeoutMs: 15_000, intervalMs: 50 },
    );
    shiftMs = Date.now() - onset;
  } else {
    await sleep(3000);
  }
  const before = [await txPackets(sled0, via0), await txPackets(sled0, via1)];
  await sled0.run([process.execPath, '-e', FLOWS, 'fd00:2::1', '400']);
  const a = (await txPackets(sled0, via0)) - before[0]!;
  const b = (await txPackets(sled0, via1)) - before[1]!;
  await flood.stop();
  await loaded.setRate(null);
  let recoverMs = NaN;
  if (expectShift) {
    const clear = Date.now();
    try {
      await waitFor(
        async () => {
          const w = await kernelHops(sled0, sledPrefix(1));
          return w[via0] !== undefined && w[via0] === w[via1];
        },
        { what: 'weights back to even', timeoutMs: 20_000, intervalMs: 100 },
      );
      recoverMs = Date.now() - clear;
    } catch {
      console.log(
        `  (weights not back to even 20 s after the load stopped: ${JSON.stringify(await kernelHops(sled0, sledPrefix(1)))})`,
      );
    }
  }
  return { shiftMs, congestedShare: a / Math.max(1, a + b), recoverMs };
}

async function failover(rack: Rack): Promise<number> {
  const cut = rack.links[2]![1]!;
  const others = [0, 1, 3].map((i) => rack.sleds[i]!);
  const t0 = Date.now();
  await cut.cut();
  await waitFor(
    async () => {
      for (const s of others) if (Object.keys(await kernelHops(s, sledPrefix(2))).length !== 1) return false;
      return true;
    },
    { what: 'failover', timeoutMs: 10_000, intervalMs: 20 },
  );
  const ms = Date.now() - t0;
  await cut.restore();
  await converge(rack, 20_000);
  return ms;
}

async function main(): Promise<void> {
  if (rackSkip !== null) {
    console.log(`bench:ddm skipped: ${rackSkip}`);
    return;
  }
  // BENCH_PARTS=rack,rack16 picks parts (default both): `rack` is the 4-sled experiments.
  const parts = new Set((process.env.BENCH_PARTS ?? 'rack,rack16').split(','));
  const results: Record<string, Episode[]> = { delay: [], equal: [] };
  const failovers: number[] = [];
  const converges4: number[] = [];
  for (const mode of parts.has('rack') ? (['delay', 'equal'] as const) : []) {
    const rack = await buildRack(`bench-ddm-${mode}`, 4, false, mode);
    try {
      converges4.push(await converge(rack, 30_000));
      for (let r = 0; r < ROUNDS; r++) {
        results[mode]!.push(await congestion(rack, mode === 'delay'));
        await sleep(1000);
      }
      if (mode === 'delay') for (let r = 0; r < ROUNDS; r++) failovers.push(await failover(rack));
    } finally {
      await rack.topo.destroy();
    }
  }
  const converges16: number[] = [];
  for (let r = 0; r < (parts.has('rack16') ? ROUNDS : 0); r++) {
    const rack = await buildRack(`bench-ddm-16-${r}`, 16, false);
    try {
      converges16.push(await converge(rack, 60_000));
      console.log(`  16-sled rack round ${r + 1}: converged in ${converges16[converges16.length - 1]} ms`);
    } finally {
      await rack.topo.destroy();
    }
  }
  const shareDelay = median(results.delay!.map((e) => e.congestedShare));
  const shareEqual = median(results.equal!.map((e) => e.congestedShare));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
    `bench:ddm (medians of ${ROUNDS} rounds; 5 Mbit/s tbf on one sled-switch link, 10 Mbit/s UDP load)`,
  );
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(38)}${value}`);
  if (parts.has('rack')) {
    line(
      'weight shift after congestion onset',
      `${median(results.delay!.map((e) => e.shiftMs)).toFixed(0)} ms (target 2000 ms)`,
    );
    line(
      'new flows on the congested path',
      `delay-driven ${pct(shareDelay)}, equal-weight ECMP ${pct(shareEqual)} (ratio ${(shareDelay / shareEqual).toFixed(2)})`,
    );
    line(
      'weights back to even after the load',
      `${median(results.delay!.map((e) => e.recoverMs)).toFixed(0)} ms`,
    );
    line('failover after a cut', `${median(failovers).toFixed(0)} ms (target 1000 ms)`);
    line('convergence, 2 switches + 4 sleds', `${median(converges4).toFixed(0)} ms`);
  }
  if (parts.has('rack16'))
    line('convergence, 2 switches + 16 sleds', `${median(converges16).toFixed(0)} ms (target 10000 ms)`);
}

await main();
