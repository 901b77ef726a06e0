// An independent decoder for our bytes: Wireshark's dissectors through tshark. Payloads are
// wrapped into a pcap with text2pcap (one frame each; TCP or UDP to a given port, IPv4 with
// made-up addresses) and read back with `tshark -T json`. Used by the BGP and BFD cross-checks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One frame's dissection: tshark's `layers` object. */
export type Tree = Record<string, unknown>;

function have(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when tshark and text2pcap can run here. */
export function tsharkAvailable(): boolean {
  return have('tshark') && have('text2pcap');
}

/** Wireshark's expert severity for warnings (errors are 0x800000). */
export const PI_WARN = 0x400000;

export interface DissectOptions {
  readonly transport: 'tcp' | 'udp';
  /** Destination port; the source port is 50000. */
  readonly port: number;
  /** tshark preferences, as `name:value`. */
  readonly prefs?: readonly string[];
}

/** Dissect each payload as its own frame; returns each frame's layers, in order. */
export function dissect(payloads: readonly Uint8Array[], opts: DissectOptions): Tree[] {
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-tshark-'));
  try {
    const lines: string[] = [];
    for (const b of payloads) {
      for (let i = 0; i < b.length; i += 16) {
        const row = [...b.subarray(i, i + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
        lines.push(`${i.toString(16).padStart(6, '0')} ${row}`);
      }
    }
    writeFileSync(join(dir, 'in.txt'), lines.join('\n') + '\n');
    const wrap = opts.transport === 'tcp' ? '-T' : '-u';
    execFileSync(
      'text2pcap',
      ['-q', wrap, `50000,${opts.port}`, join(dir, 'in.txt'), join(dir, 'out.pcap')],
      {
        stdio: 'ignore',
      },
    );
    const out = execFileSync(
      'tshark',
      [
        '-r',
        join(dir, 'out.pcap'),
        ...(opts.prefs ?? []).flatMap((p) => ['-o', p]),
        '-T',
        'json',
        '--no-duplicate-keys',
      ],
      { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString('utf8');
    const frames = JSON.parse(out) as { _source: { layers: Tree } }[];
    return frames.map((f) => f._source.layers);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every value stored under `key` anywhere in the tree, in document order. */
export function valuesOf(tree: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(tree)) {
    for (const t of tree) valuesOf(t, key, out);
  } else if (typeof tree === 'object' && tree !== null) {
    for (const [k, v] of Object.entries(tree as Tree)) {
      if (k === key) {
        if (Array.isArray(v)) out.push(...(v as unknown[]));
        else out.push(v);
      }
      valuesOf(v, key, out);
    }
  }
  return out;
}

/** Keys anywhere in the tree that satisfy `test`. */
export function keysWhere(tree: unknown, test: (k: string) => boolean, out: string[] = []): string[] {
  if (Array.isArray(tree)) {
    for (const t of tree) keysWhere(t, test, out);
  } else if (typeof tree === 'object' && tree !== null) {
    for (const [k, v] of Object.entries(tree as Tree)) {
      if (test(k)) out.push(k);
      keysWhere(v, test, out);
    }
  }
  return out;
}

/** The first value under `key`, as text. */
export function one(tree: unknown, key: string): string | undefined {
  const v = valuesOf(tree, key);
  return v.length === 0 ? undefined : String(v[0]);
}

/** What tshark objected to in a frame: a malformed mark, or expert items of warning or worse. */
export function frameProblems(layers: Tree): string[] {
  const problems: string[] = [];
  if (keysWhere(layers, (k) => k === '_ws.malformed').length > 0) problems.push('marked malformed');
  for (const e of valuesOf(layers, '_ws.expert')) {
    const sev = Number(one(e, '_ws.expert.severity') ?? 0);
    if (sev >= PI_WARN) problems.push(`expert: ${one(e, '_ws.expert.message')}`);
  }
  return problems;
}
