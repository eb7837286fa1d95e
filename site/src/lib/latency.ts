// How far behind live a viewer plays: the page's `?latency=N`, capped to what the stream and the
// show allow, and the hls.js settings for it. Pure, so every case is tested without a browser.

/** Where a viewer plays without `?latency` (1 s behind the playlist's live edge: cue latency ≤ 3 s). */
export const DEFAULT_LATENCY_S = 1;

/** What hls.js reports of the live playlist. */
export interface StreamWindow {
  /** Seconds of media the playlist lists (hls.js `totalduration`). */
  seconds: number;
  /** EXT-X-TARGETDURATION (hls.js `targetduration`). */
  targetDuration: number;
  /**
   * True once segments have left the playlist (media sequence > 0). Until then the stream has just
   * started and its window is still filling: it does not limit anyone yet.
   */
  sliding: boolean;
}

export interface LatencyPlan {
  /** What the viewer asked for (`?latency=`), or null. */
  requested: number | null;
  /** Seconds behind the live edge to play at (hls.js `liveSyncDuration`). */
  seconds: number;
  /**
   * hls.js pulls a viewer who fell further behind than this back to `seconds`
   * (`liveMaxLatencyDuration`). Always greater than `seconds`, as hls.js requires.
   */
  maxSeconds: number;
  /** Set when the request was more than allowed: what limited it. */
  cappedBy: 'stream' | 'grace' | null;
}

/** `?latency=N`: seconds, at least the default. Anything else is ignored (null). */
export function parseLatency(search: string): number | null {
  const raw = new URLSearchParams(search).get('latency');
  const value = raw === null || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= DEFAULT_LATENCY_S ? value : null;
}

/**
 * Segments about to leave the playlist are not safe to play from (hls.js fetches a segment a
 * refresh or two after reading the playlist): keep this many target durations from its start.
 */
const WINDOW_HEADROOM_TARGETS = 3;
/**
 * Room between where a viewer plays and where hls.js pulls them back, in target durations: more
 * than the one target duration hls.js adds to its target after stalls, so a stall alone does
 * not make it skip video.
 */
const SLACK_TARGETS = 2;
/** Target duration assumed before the playlist is loaded (the local stream's). */
const UNKNOWN_TARGET_S = 1;
/**
 * How much of the poll's grace a viewer at the live edge already uses: the live edge is about a
 * segment behind the moment a question goes in, and an answer takes a moment to reach the API.
 */
export const GRACE_MARGIN_S = 2;

/**
 * The latency to play at, given what the viewer asked for, the stream's window (null before the
 * playlist is loaded) and the show's grace (seconds a poll stays open after its countdown, for
 * viewers behind live; null until known). A viewer further behind than the window cannot play;
 * one further behind than the grace answers after the poll has closed.
 */
export function planLatency(
  requested: number | null,
  window: StreamWindow | null,
  graceSeconds: number | null,
): LatencyPlan {
  const target = window?.targetDuration || UNKNOWN_TARGET_S;
  const slack = SLACK_TARGETS * target;
  const byStream = window?.sliding === true ? window.seconds - WINDOW_HEADROOM_TARGETS * target : Infinity;
  const byGrace = graceSeconds === null ? Infinity : graceSeconds - GRACE_MARGIN_S;
  const limit = Math.min(byStream, byGrace);

  const wanted = requested ?? DEFAULT_LATENCY_S;
  // Whole seconds when capped: what the viewer is told, and steady while the window jitters.
  const allowed = Math.max(DEFAULT_LATENCY_S, Math.floor(limit - slack));
  const seconds = Math.min(wanted, allowed);
  const cappedBy =
    requested !== null && seconds < requested ? (byStream <= byGrace ? 'stream' : 'grace') : null;
  // Let viewers who fall behind stay behind as far as the limit allows (each still sees every cue
  // on its own frame); with no limit yet, as far as the filling window goes.
  const maxSeconds = Math.max(seconds + slack, Number.isFinite(limit) ? limit : (window?.seconds ?? 0));
  return { requested, seconds, maxSeconds, cappedBy };
}

/** What the viewer is told when their `?latency` was capped; null when it was not. */
export function latencyNotice(plan: LatencyPlan): string | null {
  switch (plan.cappedBy) {
    case 'stream':
      return `Playing ${plan.seconds} s behind live (the most this stream allows).`;
    case 'grace':
      return `Playing ${plan.seconds} s behind live (the most that still lets your answers count).`;
    default:
      return null;
  }
}

/**
 * The window to plan with, given the one known and a newly loaded playlist's: the widest seen, so
 * the plan does not flicker as the playlist refreshes. Returns `known` itself when nothing changed.
 */
export function widerWindow(known: StreamWindow | null, loaded: StreamWindow): StreamWindow {
  if (!known) return loaded;
  if (loaded.sliding && !known.sliding) return loaded;
  if (loaded.sliding === known.sliding && loaded.seconds > known.seconds) return loaded;
  return known;
}
