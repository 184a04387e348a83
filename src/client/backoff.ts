/**
 * Reconnection delay: exponential backoff with jitter, as a pure function so it can be
 * tested and replaced (`backoff` option of the Manager).
 */

/** The options the delay depends on (same names and defaults as socket.io-client). */
export interface BackoffOptions {
  /** First delay in ms. Default 1000. */
  reconnectionDelay?: number;
  /** Largest delay in ms. Default 5000. */
  reconnectionDelayMax?: number;
  /** Jitter as a fraction of the delay, 0..1. Default 0.5. */
  randomizationFactor?: number;
}

/**
 * The delay before reconnection attempt number `attempt` (0 for the first):
 * `min(delay * 2^attempt, max)`, moved by up to `±randomizationFactor` of itself (0..1), never
 * above `max`. `random` returns a number in [0, 1).
 *
 * @example
 * backoff(0, {}, () => 0.5) // 1000
 * backoff(3, { reconnectionDelay: 100, randomizationFactor: 0 }) // 800
 */
export function backoff(attempt: number, opts: BackoffOptions, random = Math.random): number {
  const max = opts.reconnectionDelayMax ?? 5000;
  const base = Math.min((opts.reconnectionDelay ?? 1000) * 2 ** attempt, max);
  const jitter = base * (opts.randomizationFactor ?? 0.5) * (2 * random() - 1);
  return Math.min(Math.round(base + jitter), max);
}
