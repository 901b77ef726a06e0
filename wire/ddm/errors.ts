// Typed decode errors for the DDM discovery and probe packets.
//
// Neither packet has an error reply: a bad datagram is dropped and counted. The reason strings are
// stable; the daemon's counters, logs and the test vectors use them.

/** Every reason a DDM datagram is dropped by a decoder, with what it means. */
export const DDM_DECODE_REASONS = {
  truncated: 'the datagram ends before the packet does',
  'unknown-kind': 'discovery: the router kind is neither 0 (server) nor 1 (transit)',
  'empty-hostname': 'discovery: the hostname is empty',
  'bad-hostname': 'discovery: the hostname is not valid UTF-8',
  'bad-magic': 'probe: the first byte is not the probe magic 0xdd',
  'unsupported-version': 'probe: a probe version this decoder does not know',
  'unknown-type': 'probe: the type is neither request (1) nor reply (2)',
} as const;

/** A decode failure reason. */
export type DdmDecodeReason = keyof typeof DDM_DECODE_REASONS;

/** A DDM datagram that cannot be decoded; `reason` is stable, `message` says what was seen. */
export class DdmDecodeError extends Error {
  override readonly name = 'DdmDecodeError';

  constructor(
    readonly reason: DdmDecodeReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
