// Why a request is refused, in the domain's words: the one error model of both APIs. Core's rules
// return a Refusal; the store and the producer's operations (ops/errors.ts OpError), which have to
// stop what they are doing, throw it as a RefusedError. None of them knows HTTP: the API Lambdas map
// each reason to its status and error code in one place (lambdas/http-errors.ts), and the CLI to its
// messages and exit codes.

export type RefusalReason =
  // ---- a viewer's request (the viewer API)
  /** No poll with this id has been opened. */
  | 'unknown_poll'
  /** The answer index is not one of the poll's answers. */
  | 'answer_out_of_range'
  /** The poll is past its closing time (or closed). */
  | 'poll_closed'
  /** This viewer already answered this poll: one vote per viewer. */
  | 'already_answered'
  /** A history cursor this API did not hand out. */
  | 'invalid_cursor'
  // ---- a producer's request (the producer's operations: the CLI, the producer API)
  /** The request is wrong (a field, or the show it carries). */
  | 'invalid'
  /** The run does not exist. */
  | 'not_found'
  /** The run's state refuses it. */
  | 'conflict'
  /** Another show runs on the channel (one running show per channel). */
  | 'channel_busy';

export interface Refusal {
  reason: RefusalReason;
  /** Safe to show; names the field at fault first (`answer: …`) where there is one. */
  message: string;
}

export class RefusedError extends Error {
  override readonly name: string = 'RefusedError';
  readonly reason: RefusalReason;
  constructor(refusal: Refusal, options?: ErrorOptions) {
    super(refusal.message, options);
    this.reason = refusal.reason;
  }
}
