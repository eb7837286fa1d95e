// Why a request is refused, in the domain's words. Core's rules return a Refusal; the store, which
// has to stop what it is doing, throws it as a RefusedError. Neither knows HTTP: the API Lambda maps
// each reason to its status and error code (lambdas/http-errors.ts).

export type RefusalReason =
  /** No poll with this id has been opened. */
  | 'unknown_poll'
  /** The answer index is not one of the poll's answers. */
  | 'answer_out_of_range'
  /** The poll is past its closing time (or closed). */
  | 'poll_closed'
  /** This viewer already answered this poll: one vote per viewer. */
  | 'already_answered'
  /** A history cursor this API did not hand out. */
  | 'invalid_cursor';

export interface Refusal {
  reason: RefusalReason;
  /** Safe to show; names the field at fault first (`answer: …`) where there is one. */
  message: string;
}

export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  readonly reason: RefusalReason;
  constructor(refusal: Refusal) {
    super(refusal.message);
    this.reason = refusal.reason;
  }
}
