// Repeated errors are logged once, then summed up per window; a kind that goes quiet is news again.
// The limiter's timers are injected, so windows end when the test says.
import { describe, expect, it } from '@jest/globals';
import { createAppServer, closeServer, listen } from '../../local/http.ts';
import { errorKind, repeatLimiter } from '../../local/log-limit.ts';
import { rawRequest } from './support.ts';

/** Timers that fire only when `tick()` is called. */
function manualTimers() {
  let pending: Array<{ fn: () => void; cleared: boolean }> = [];
  return {
    setTimer: (fn: () => void) => {
      const timer = { fn, cleared: false };
      pending.push(timer);
      return timer;
    },
    clearTimer: (timer: unknown) => {
      (timer as { cleared: boolean }).cleared = true;
    },
    /** Ends the current window: runs every timer set so far. */
    tick() {
      const due = pending;
      pending = [];
      for (const t of due) if (!t.cleared) t.fn();
    },
    get pending() {
      return pending.filter((t) => !t.cleared).length;
    },
  };
}

describe('repeatLimiter', () => {
  it('logs the first of a kind, counts the repeats and sums them up when the window ends', () => {
    const lines: string[] = [];
    const timers = manualTimers();
    const limit = repeatLimiter((l) => lines.push(l), timers);
    for (let i = 1; i <= 1235; i++) limit('ivs ENOSPC', `cannot write segment ${i}: ENOSPC`);
    limit('app EIO', 'GET /x failed: EIO');
    expect(lines).toEqual(['cannot write segment 1: ENOSPC', 'GET /x failed: EIO']);

    timers.tick();
    expect(lines.slice(2)).toEqual([
      'cannot write segment 1235: ENOSPC … repeated 1,234 times in the last 10 s',
    ]);

    // Still going: one summary per window.
    limit('ivs ENOSPC', 'cannot write segment 1236: ENOSPC');
    timers.tick();
    expect(lines.slice(3)).toEqual([
      'cannot write segment 1236: ENOSPC … repeated once more in the last 10 s',
    ]);

    // A window without any: the kind is forgotten, and its next occurrence is logged in full.
    timers.tick();
    expect(timers.pending).toBe(0);
    limit('ivs ENOSPC', 'cannot write segment 9000: ENOSPC');
    expect(lines.at(-1)).toBe('cannot write segment 9000: ENOSPC');
    expect(lines).toHaveLength(5);
  });

  it('flush() logs what is pending and stops the timers', () => {
    const lines: string[] = [];
    const timers = manualTimers();
    const limit = repeatLimiter((l) => lines.push(l), { ...timers, windowMs: 60_000 });
    limit('k', 'first');
    limit('k', 'second');
    limit('quiet', 'only once');
    limit.flush();
    expect(lines).toEqual(['first', 'only once', 'second … repeated once more in the last 60 s']);
    expect(timers.pending).toBe(0);
  });

  it('uses real, unref’d timers by default', async () => {
    const lines: string[] = [];
    const limit = repeatLimiter((l) => lines.push(l), { windowMs: 50 });
    limit('k', 'a');
    limit('k', 'b');
    limit('k', 'c');
    await new Promise((r) => setTimeout(r, 120));
    expect(lines).toEqual(['a', 'c … repeated 2 times in the last 50 ms']);
    limit.flush();
  });

  it('errorKind: the code or class, never the message (which names files and requests)', () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write '/data/a.ts'"), {
      code: 'ENOSPC',
    });
    expect(errorKind(enospc)).toBe('Error ENOSPC');
    expect(errorKind(new TypeError('x is undefined'))).toBe('TypeError');
    expect(errorKind('a string')).toBe('string');
  });
});

describe('the app server’s error log', () => {
  it('logs a handler’s failure once in full and sums up its repeats when the server closes', async () => {
    const lines: string[] = [];
    const server = createAppServer(
      [
        {
          prefix: '/',
          handle: () => {
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          },
        },
      ],
      (l) => lines.push(l),
    );
    const port = await listen(server, 0);
    for (let i = 0; i < 25; i++) expect((await rawRequest(port, { path: `/file-${i}` })).status).toBe(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^GET \/file-0 failed: Error: ENOSPC: no space left on device\n\s+at /);
    await closeServer(server);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^GET \/file-24 failed: Error: ENOSPC.* … repeated 24 times in the last 10 s$/s);
  });
});
