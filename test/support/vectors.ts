// Loader for the shared test vectors under test/vectors/<protocol>/*.json.
//
// Each file holds an array of vectors. One vector is bytes (hex) plus what they mean: either the
// decoded message in its protocol's JSON rendering, or the typed error the decoder must return.
// The same files feed the codec tests, the tshark cross-check and the fuzz corpus.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VectorError {
  /** Protocol-specific error identity: BGP code/subcode/action; BFD/DDM a reason string. */
  readonly code?: number;
  readonly subcode?: number;
  readonly action?: string;
  readonly reason?: string;
  /** BGP: the NOTIFICATION data field the error carries, as hex. */
  readonly data?: string;
}

export interface Vector {
  /** Unique within its protocol. */
  readonly name: string;
  /** Where the bytes came from: an RFC section, 'hand', a peer ('frr', 'bird', 'gobgp'), 'fuzz'. */
  readonly source: string;
  /** The bytes, as hex. */
  readonly hex: string;
  /** Codec context (protocol-specific JSON, e.g. BGP fourOctetAs / addPath). */
  readonly ctx?: Record<string, unknown>;
  /** The decoded value in the protocol's JSON rendering; absent when `error` is given. */
  readonly decoded?: unknown;
  /** The error decoding must produce; absent for valid vectors. */
  readonly error?: VectorError;
  /**
   * False when our encoder legitimately writes different bytes (e.g. attribute order); default true.
   * BGP vectors without `decoded` (captured bytes) are held to byte identity only when it is true.
   */
  readonly reencode?: boolean;
  /** False to leave the vector out of the tshark check (e.g. bytes tshark is known to misread). */
  readonly tshark?: boolean;
}

/** The vectors directory. */
export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');

/** Every vector of one protocol ('bgp', 'bfd', 'ddm'), each tagged with its file name. */
export function loadVectors(protocol: string): (Vector & { readonly file: string })[] {
  const dir = join(VECTORS_DIR, protocol);
  const out: (Vector & { file: string })[] = [];
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return out;
  }
  for (const f of files) {
    const list = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector[];
    for (const v of list) out.push({ ...v, file: f });
  }
  return out;
}
