// The time the operations read and the waits they make (polling a run's history, retrying a cue).
// Callers pass their own: the CLI a fixed clock in tests, the demo loop sleeps that end when it stops.

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
