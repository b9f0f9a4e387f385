/** Time comes from here so tests can make it deterministic. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** A monotonic, high-resolution reading in milliseconds, for durations. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
