/**
 * Write coalescing shared by every session of one server: whatever a transport queues during
 * one turn of the event loop is written once, at the end of that turn, with one `write()`
 * per connection. A synchronous burst of 100 broadcasts to 1,000 sockets then costs 1,000
 * writes instead of 100,000 (each a system call and a loopback TCP segment), and an echo
 * server answering ten requests that arrived in one TCP segment answers them in one.
 *
 * ```
 *   send() ─► transport queues the frame ─► first in this turn? ─► add(transport)
 *   ... end of the turn (process.nextTick) ─► flush(): each transport writes its frames once
 * ```
 */

/** Something with frames to write at the end of the turn. */
export interface Flushable {
  /** Writes everything queued since the last flush. Must not throw. */
  flush(): void;
}

/** One list of transports to flush, drained once per event-loop turn. */
export class FlushQueue {
  // Two lists used in turn: one is flushed while the other collects, so no list is made
  // per turn.
  #items: Flushable[] = [];
  #spare: Flushable[] = [];
  #isScheduled = false;

  /** Schedules `item.flush()` for the end of the current turn. Add each item once per turn. */
  add(item: Flushable): void {
    // hot path: one push; one nextTick per turn for the whole server.
    this.#items.push(item);
    if (this.#isScheduled) return;
    this.#isScheduled = true;
    process.nextTick(runFlush, this);
  }

  /** Flushes every item queued so far. Items queued while flushing wait for the next turn. */
  flush(): void {
    const items = this.#items;
    // (A flush from inside a flush finds no spare list and makes one.)
    this.#items = this.#spare.length === 0 && this.#spare !== items ? this.#spare : [];
    this.#spare = NO_SPARE;
    this.#isScheduled = false;
    try {
      for (let i = 0; i < items.length; i++) items[i]!.flush();
    } finally {
      items.length = 0;
      this.#spare = items;
    }
  }
}

/** Stands for "no spare list" while one is being flushed; never written to. */
const NO_SPARE: Flushable[] = [{ flush() {} }];

// hot path: a module-level function, so scheduling allocates no closure.
function runFlush(queue: FlushQueue): void {
  queue.flush();
}
