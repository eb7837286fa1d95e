// The producer API (issue 14) as both sides see it: routes under /producer/ on the same REST API as
// the viewer routes, each calling one shared operation of ops/ and answering with what it returns,
// as JSON. Every route needs a signed-in producer: in AWS a Cognito user pool's ID token checked by
// API Gateway's Cognito authorizer, locally the token `npm start` prints, checked by the local API
// Gateway, which hands the Lambda the same claims shape. Errors use the viewer API's body
// ({"error":{"code","message"}}, contract/api.ts); a 400 names the field (`polls[1].answers: …`).
// The responses are what the operations return — their types live with them in ops/ (import type
// from there: Started ops/start.ts, Cued ops/cue.ts, Stopped ops/stop.ts, RunInfo ops/runs.ts,
// RunStatus ops/status.ts, RunHistory ops/history.ts, RunResults ops/results.ts); contract/ imports
// nothing but itself and zod.

export const PRODUCER_ROUTES = {
  /** POST {show} → 200 ValidateResponse (a show with issues is a 200 too: the answer is the issues). */
  validate: '/producer/validate',
  /** POST StartBody → 201 Started. */
  start: '/producer/start',
  /** POST {runId, poll?} → 200 Cued: asks the next manual question now. */
  cue: '/producer/cue',
  /** POST {runId, cause?} → 200 Stopped. */
  stop: '/producer/stop',
  /** GET ?status=&limit= → 200 {runs: RunInfo[]}, newest first. */
  list: '/producer/list',
  /** GET ?runId= → 200 RunStatus. */
  status: '/producer/status',
  /** GET ?runId= → 200 RunHistory (the timeline: scheduled, asked, late by, closed, cues). */
  history: '/producer/history',
  /** GET ?runId= → 200 RunResults (the same figures as `showrunner results`). */
  results: '/producer/results',
} as const;

export interface ValidateBody {
  /** The show as parsed JSON (the page reads the file or the pasted text). */
  show: unknown;
}
export interface ValidateResponse {
  ok: boolean;
  /** `path: message` per issue; empty when ok. */
  issues: string[];
  /** Each question's `at` as written and its cue's size in bytes (IVS takes at most 1,024); when ok. */
  polls?: Array<{ id: string; at: number | string; cueBytes: number }>;
}

export interface StartBody {
  show: unknown;
  /** ISO 8601 time zero of the show; default now. */
  startAt?: string;
  /** The IVS channel; default the stack's. */
  channelArn?: string;
}

export interface CueBody {
  runId: string;
  /** The manual question's id in the show; default the next one waiting. */
  poll?: string;
}

export interface StopBody {
  runId: string;
  cause?: string;
}

/** GET /producer/list: `runs` are ops/runs.ts RunInfo, newest first. */
export interface RunList<Run = unknown> {
  runs: Run[];
}

/**
 * What the Lambda reads of the signed-in producer: API Gateway's Cognito authorizer puts the ID
 * token's claims at `requestContext.authorizer.claims`; the local API Gateway puts these there.
 */
export interface ProducerClaims {
  sub: string;
  'cognito:username'?: string;
  email?: string;
}
