import { performance } from 'node:perf_hooks';

/** Latency summary of one measured series, in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Nearest-rank percentile on a sorted copy: always one of the observed samples, so a
 * p95 over 30 runs is a real run (the 29th) rather than an interpolation between two.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean: total / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Milliseconds with 3 decimals, the unit every table reports. */
export const ms = (value: number): string => value.toFixed(3);

/** A ratio as `0.842×`; two decimals are enough to read against a target. */
export const ratio = (value: number): string => `${value.toFixed(2)}×`;

/** Operations per second with thousands separators. */
export const opsPerSecond = (value: number): string => Math.round(value).toLocaleString('en-US');

/** Time one async call with performance.now(). */
export async function timeOnce(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * Runs two contenders in alternation (A, B, A, B, …) so drift on the machine (other
 * processes, thermal, GC of the harness) falls on both equally. Warm-up runs first,
 * unrecorded: they load code paths, JIT-compile and fill the OS page cache.
 */
export async function measurePair(
  a: (index: number) => Promise<unknown>,
  b: (index: number) => Promise<unknown>,
  options: { warmup: number; runs: number },
): Promise<{ a: number[]; b: number[] }> {
  for (let i = 0; i < options.warmup; i++) {
    await a(i);
    await b(i);
  }
  const samples = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < options.runs; i++) {
    // Swap who goes first on every other round: neither side always follows the other.
    if (i % 2 === 0) {
      samples.a.push(await timeOnce(() => a(i)));
      samples.b.push(await timeOnce(() => b(i)));
    } else {
      samples.b.push(await timeOnce(() => b(i)));
      samples.a.push(await timeOnce(() => a(i)));
    }
  }
  return samples;
}

/** Warm-up, then `runs` timed calls of one contender. */
export async function measure(run: (index: number) => Promise<unknown>, options: { warmup: number; runs: number }): Promise<number[]> {
  for (let i = 0; i < options.warmup; i++) await run(i);
  const samples: number[] = [];
  for (let i = 0; i < options.runs; i++) samples.push(await timeOnce(() => run(i)));
  return samples;
}
