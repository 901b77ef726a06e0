// Typed BGP decode errors (RFC 4271 §6, RFC 7606 §2 and §3) and the one mapping from an error to
// the NOTIFICATION it calls for.
//
// Every failure the decoders can produce is a `BgpDecodeError`: the NOTIFICATION code, subcode
// and data the RFC prescribes, plus the RFC 7606 action the receiver takes. Decoders throw only
// this class internally and return it in a `Result` at their public edge.

import { describeError, ErrorCode, HeaderSubcode, UpdateSubcode } from './constants.js';
import type { NotificationMessage } from './types.js';

/** What the receiver does about an error (RFC 7606 §2), strongest first. */
export type ErrorAction = 'session-reset' | 'afisafi-disable' | 'treat-as-withdraw' | 'attribute-discard';

const ACTION_RANK: Readonly<Record<ErrorAction, number>> = {
  'session-reset': 3,
  'afisafi-disable': 2,
  'treat-as-withdraw': 1,
  'attribute-discard': 0,
};

/** The stronger of two actions (RFC 7606 §3: when several errors are found, the strongest wins). */
export function strongerAction(a: ErrorAction, b: ErrorAction): ErrorAction {
  return ACTION_RANK[a] >= ACTION_RANK[b] ? a : b;
}

/** A decode failure carrying its RFC meaning. */
export class BgpDecodeError extends Error {
  override readonly name = 'BgpDecodeError';

  constructor(
    /** NOTIFICATION error code. */
    readonly code: ErrorCode,
    /** NOTIFICATION error subcode. */
    readonly subcode: number,
    /** RFC 7606 action. */
    readonly action: ErrorAction,
    /** What was wrong, for logs and the API. */
    readonly reason: string,
    /** NOTIFICATION data field (RFC 4271 §6 says what goes here for each error). */
    readonly data: Uint8Array = new Uint8Array(0),
  ) {
    super(`${describeError(code, subcode)}: ${reason}`);
  }
}

/** A read past the end of the available bytes, as the error the context calls for. */
export function outOfBounds(where: string, need: number, have: number): BgpDecodeError {
  return new BgpDecodeError(
    ErrorCode.MESSAGE_HEADER,
    HeaderSubcode.BAD_MESSAGE_LENGTH,
    'session-reset',
    `${where}: need ${need} bytes, ${have} left`,
  );
}

/** Shorthand for an UPDATE error with a given action. */
export function updateError(
  subcode: number,
  action: ErrorAction,
  reason: string,
  data?: Uint8Array,
): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UPDATE_MESSAGE, subcode, action, reason, data);
}

/** Shorthand for a malformed-attribute-list UPDATE error that resets the session. */
export function malformedAttributeList(reason: string): BgpDecodeError {
  return updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'session-reset', reason);
}

/** The NOTIFICATION to send for an error (only meaningful for session-reset / afisafi-disable). */
export function toNotification(e: BgpDecodeError): NotificationMessage {
  return { type: 3, code: e.code, subcode: e.subcode, data: e.data };
}

/** True for the one value decoders may produce as a failure. */
export function isBgpDecodeError(x: unknown): x is BgpDecodeError {
  return x instanceof BgpDecodeError;
}
