/**
 * Pieces shared by the chaos tests: reconnection counters, paced server sends, windowed
 * acked client sends, and a bounded wait for a run to drain. They work with our client and
 * the official `socket.io-client` alike.
 */

/** A client whose reconnections can be watched: ours or socket.io-client's. */
export interface Reconnecting {
  on(ev: "connect", fn: () => void): unknown;
  readonly recovered: boolean;
}

/** Reconnections seen across a run's clients, and how many did not get their session back. */
export class Reconnects {
  count = 0;
  notRecovered = 0;

  /** Counts every "connect" of `client` after its first. */
  watch(client: Reconnecting): void {
    let isFirst = true;
    client.on("connect", () => {
      if (isFirst) {
        isFirst = false;
        return;
      }
      this.count++;
      if (!client.recovered) this.notRecovered++;
    });
  }

  toString(): string {
    return `reconnects ${this.count}, not recovered ${this.notRecovered}`;
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `tick(from, to)` for consecutive ranges of `batch` sequence numbers up to
 * `messages`, one range every `tickMs`: paced, so a run spans many cuts.
 */
export async function pace(
  messages: number,
  tick: (from: number, to: number) => void | Promise<void>,
  batch = 20,
  tickMs = 30,
): Promise<void> {
  for (let from = 0; from < messages; from += batch) {
    await tick(from, Math.min(from + batch, messages));
    await sleep(tickMs);
  }
}

/**
 * Emits sequence numbers 0..messages-1 through `emit`, with at most `window` of them not yet
 * acknowledged (`emit` calls `onAck` when the ack arrives). Gives up at `deadline` (a lost
 * ack must fail the test with its counts, not stall it).
 */
export async function sendWindowed(
  messages: number,
  window: number,
  deadline: number,
  emit: (seq: number, onAck: () => void) => void,
): Promise<void> {
  let inFlight = 0;
  const onAck = (): void => {
    inFlight--;
  };
  for (let seq = 0; seq < messages; seq++) {
    while (inFlight >= window) {
      if (Date.now() > deadline) return;
      await sleep(2);
    }
    inFlight++;
    emit(seq, onAck);
  }
}

/** Waits until `isDone()` holds or `deadline` (a `Date.now()` value) passed. */
export async function until(isDone: () => boolean, deadline: number, stepMs = 20): Promise<void> {
  while (!isDone() && Date.now() < deadline) await sleep(stepMs);
}
