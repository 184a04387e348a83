/**
 * Shared heartbeat timers (engine.io-protocol v4 §heartbeat: the server pings every
 * `pingInterval`, the client must answer within `pingTimeout`).
 *
 * engine.io keeps two `setTimeout` handles per socket. We keep one {@link DeadlineQueue}
 * per server for pings and one for pong deadlines instead. Every entry of a queue uses the
 * same delay, so appending to an insertion-ordered `Map` keeps it sorted by due time, and
 * one timer armed for the head serves every socket: O(1) per schedule or cancel, and an
 * idle connection costs one Map entry instead of two `Timeout` objects.
 *
 * ```
 *   open ──► [ping queue] ──due──► send ping ──► [pong queue] ──due──► "ping timeout"
 *                ▲                                    │
 *                └──────────── pong received ◄────────┘
 * ```
 */
import { performance } from "node:perf_hooks";

/** Runs `onExpire(item)` once `delay` ms after the item was (last) added. */
export class DeadlineQueue<T> {
  readonly #delay: number;
  readonly #onExpire: (item: T) => void;
  readonly #due = new Map<T, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delay: number, onExpire: (item: T) => void) {
    this.#delay = delay;
    this.#onExpire = onExpire;
  }

  /** The number of pending items. */
  get size(): number {
    return this.#due.size;
  }

  /** Whether `item` is pending. */
  has(item: T): boolean {
    return this.#due.has(item);
  }

  /** Schedules `item` (again) for `delay` ms from now. */
  add(item: T): void {
    this.#due.delete(item);
    // Memory per idle session: a whole number of ms is stored in the map entry itself; a
    // fractional one would be a 16-byte heap number per session.
    this.#due.set(item, Math.ceil(performance.now() + this.#delay));
    if (this.#timer === undefined) this.#arm(this.#delay);
  }

  /**
   * Cancels `item`. The shared timer stays armed, even with nothing left to wait for: when
   * it fires it re-arms itself for the next item, if any. Time per handshake: a connection
   * that joins its namespace at once leaves the connect deadline queue empty, and clearing
   * the timer there meant a new `setTimeout` for the next connection (~15 us cold).
   */
  delete(item: T): void {
    this.#due.delete(item);
  }

  /** Cancels every item and the timer. */
  clear(): void {
    this.#due.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(ms)));
    // Sessions keep the process alive through their sockets, not through this timer.
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const [item, due] of this.#due) {
      if (due > now) {
        if (this.#timer === undefined) this.#arm(due - now);
        return;
      }
      this.#due.delete(item);
      this.#onExpire(item);
    }
  }
}

/** What the heartbeat needs from a session. */
export interface HeartbeatTarget {
  /** Sends a ping packet to the client. */
  sendPing(): void;
  /** Closes the session: no pong came back in time. */
  onPingTimeout(): void;
}

/** The ping and pong-deadline queues shared by every session of one server. */
export class Heartbeat {
  readonly #pings: DeadlineQueue<HeartbeatTarget>;
  readonly #pongs: DeadlineQueue<HeartbeatTarget>;

  constructor(pingInterval: number, pingTimeout: number) {
    this.#pongs = new DeadlineQueue(pingTimeout, (target) => target.onPingTimeout());
    this.#pings = new DeadlineQueue(pingInterval, (target) => {
      this.#pongs.add(target);
      target.sendPing();
    });
  }

  /** Starts the ping cycle of a newly opened session. */
  start(target: HeartbeatTarget): void {
    this.#pings.add(target);
  }

  /** A pong arrived: cancel the deadline and schedule the next ping. */
  onPong(target: HeartbeatTarget): void {
    if (!this.#pongs.has(target)) return;
    this.#pongs.delete(target);
    this.#pings.add(target);
  }

  /** Stops every timer of a session. */
  stop(target: HeartbeatTarget): void {
    this.#pings.delete(target);
    this.#pongs.delete(target);
  }

  /** Stops every timer of every session. */
  clear(): void {
    this.#pings.clear();
    this.#pongs.clear();
  }
}
