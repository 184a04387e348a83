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
 *
 * The builtin WebSocket's read of a chunk is a held span (`hold()` ... `release()`): what
 * its messages' listeners queue is flushed when the read ends, without scheduling a tick.
 */
import { nextTick } from "node:process";

/** Something with frames to write at the end of the turn. */
export interface Flushable {
  /** Writes everything queued since the last flush. Must not throw. */
  flush(): void;
}

/** One list of transports to flush, drained once per event-loop turn. */
export class FlushQueue {
  // Two lists used in turn: one is flushed while the other collects, so no list is made
  // per turn. Each keeps its capacity: a list emptied with `length = 0` loses its backing
  // store in V8 and grows a new one the next turn (garbage on every turn with a write).
  // Flushed slots are set to undefined instead, so that no transport is kept alive.
  #items: (Flushable | undefined)[] = [];
  #count = 0;
  #spare: (Flushable | undefined)[] | null = [];
  #isScheduled = false;
  // How many held() calls are running: items added meanwhile are flushed when the last ends.
  #holds = 0;

  /** Schedules `item.flush()` for the end of the current turn. Add each item once per turn. */
  add(item: Flushable): void {
    // hot path: one store; one nextTick per turn for the whole server.
    this.#items[this.#count++] = item;
    if (this.#isScheduled || this.#holds > 0) return;
    this.#isScheduled = true;
    nextTick(runFlush, this);
  }

  /**
   * Starts a span (a transport's read) whose queued items are flushed when it ends
   * ({@link release}) rather than in a `nextTick`: the answers to a read then leave without
   * a tick per read. Spans nest; the outermost one flushes.
   */
  hold(): void {
    this.#holds++;
  }

  /** Ends the span {@link hold} started; the outermost flushes what was queued in it. */
  release(): void {
    if (--this.#holds === 0 && this.#count > 0 && !this.#isScheduled) this.flush();
  }

  /** Flushes every item queued so far. Items queued while flushing wait for the next turn. */
  flush(): void {
    const items = this.#items;
    const count = this.#count;
    // (A flush from inside a flush finds no spare list and makes one.)
    this.#items = this.#spare ?? [];
    this.#spare = null;
    this.#count = 0;
    this.#isScheduled = false;
    let i = 0;
    try {
      for (; i < count; i++) {
        const item = items[i]!;
        items[i] = undefined;
        item.flush();
      }
    } finally {
      for (; i < count; i++) items[i] = undefined; // only after a throw
      this.#spare = items;
    }
  }
}

/**
 * The queue of every WebSocket transport in the process. One is enough: each transport is
 * still written once per turn, and a transport need not keep a reference to its server's
 * queue (8 bytes per idle connection). Servers in one process share the turn's flush.
 */
export const PROCESS_FLUSH_QUEUE = new FlushQueue();

// hot path: a module-level function, so scheduling allocates no closure.
function runFlush(queue: FlushQueue): void {
  queue.flush();
}
