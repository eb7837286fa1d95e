// Repeated errors logged once, then summarised: a full disk made the local stack print ~14,500
// identical error lines in a minute, burying the one line that said what was wrong (and filling
// the terminal's scrollback, or a log file on the very disk that was full).
//
// The first occurrence of a kind (its key: where it comes from and what kind of error it is) is
// logged at once. Further ones within the window are only counted; when the window ends the count
// is logged as one line ("… repeated 1,234 times in the last 10 s") and a new window starts, so a
// storm that goes on prints one line per window. A kind that stays quiet for a whole window is
// forgotten: its next occurrence is logged at once again.

export interface RepeatLimiterOptions {
  /** How long repeats are counted before they are summarised (default 10 s). */
  windowMs?: number;
  /** Timers, injectable for tests; the default ones are unref'd (they never keep the process alive). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export interface RepeatLimiter {
  /** Logs `message` unless `key` was logged in this window; then it only counts it. */
  (key: string, message: string): void;
  /** Logs every pending summary now (when the stack stops). */
  flush(): void;
}

export const REPEAT_WINDOW_MS = 10_000;

interface Kind {
  repeats: number;
  last: string;
  timer: unknown;
}

const count = new Intl.NumberFormat('en-US');

function windowText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function repeatLimiter(
  log: (line: string) => void,
  options: RepeatLimiterOptions = {},
): RepeatLimiter {
  const windowMs = options.windowMs ?? REPEAT_WINDOW_MS;
  const setTimer =
    options.setTimer ??
    ((fn: () => void, ms: number) => {
      const timer = setTimeout(fn, ms);
      timer.unref();
      return timer;
    });
  const clearTimer = options.clearTimer ?? ((timer: unknown) => clearTimeout(timer as NodeJS.Timeout));
  const kinds = new Map<string, Kind>();

  const summarise = (kind: Kind): void => {
    const times = kind.repeats === 1 ? 'once more' : `${count.format(kind.repeats)} times`;
    log(`${kind.last} … repeated ${times} in the last ${windowText(windowMs)}`);
  };

  const endWindow = (key: string): void => {
    const kind = kinds.get(key);
    if (!kind) return;
    if (kind.repeats === 0) {
      kinds.delete(key); // quiet for a whole window: the next one is news again
      return;
    }
    summarise(kind);
    kind.repeats = 0;
    kind.timer = setTimer(() => endWindow(key), windowMs);
  };

  const limiter = (key: string, message: string): void => {
    const kind = kinds.get(key);
    if (kind) {
      kind.repeats++;
      kind.last = message;
      return;
    }
    log(message);
    kinds.set(key, { repeats: 0, last: message, timer: setTimer(() => endWindow(key), windowMs) });
  };
  limiter.flush = (): void => {
    for (const kind of kinds.values()) {
      clearTimer(kind.timer);
      if (kind.repeats > 0) summarise(kind);
    }
    kinds.clear();
  };
  return limiter;
}

/**
 * What kind of error this is, for a limiter key: its code (ENOSPC, EIO…) or its class name. The
 * message is left out on purpose: it often names the request or file, which differ each time.
 */
export function errorKind(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? `${error.name} ${code}` : error.name;
  }
  return typeof error;
}
