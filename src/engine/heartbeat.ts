/**
 * Shared heartbeat timers (engine.io-protocol v4 §heartbeat: the server pings every
 * `pingInterval`, the client must answer within `pingTimeout`).
 *
 * engine.io keeps two `setTimeout` handles per socket. We keep, per server, one queue of
 * time buckets for pings and one for pong deadlines, and one timer per queue armed for its
 * earliest bucket.
 *
 * ```
 *   open ──► [ping buckets] ──due──► send ping ──► [pong buckets] ──due──► "ping timeout"
 *                ▲                                     │
 *                └──────────── pong received ◄─────────┘
 * ```
 *
 * Buckets ({@link BucketQueue}): time is cut into slices of `width` ms (an eighth of the
 * delay, at most {@link MAX_BUCKET_WIDTH}); a target scheduled at `now` goes into the list of
 * the slice that starts at or after `now + delay`, and that list is handled when its slice
 * starts. So a ping is never sent before `pingInterval`, and at most one width after it (plus
 * the timer's own lateness); the same for the pong deadline. Every entry of a queue uses the
 * same delay, so buckets are made in order of due time: a linked list, appended to at the
 * tail and fired from the head, O(1) per schedule.
 *
 * Memory per idle session: one slot in a bucket's array, and a small integer that the target
 * keeps for us ({@link HeartbeatTarget.heartbeatSlot}: which bucket it is due in, signed by
 * queue). Cancelling only clears that integer (O(1)); the bucket's entry goes stale and is
 * dropped, unread, when its bucket fires. A stopped session is therefore referenced until
 * its last bucket fires, at most one delay (plus one width) after it was scheduled, and no
 * longer: the timer stays armed while any bucket exists, stale entries included. Measured
 * (heap snapshot, 5,000 idle WebSocket sessions): about 11 bytes per session for the bucket
 * arrays, where a `Map<target, due>` entry with its backing store took about 46, and the
 * slot costs the session nothing (EngineSocket keeps it in its state field).
 *
 * {@link DeadlineQueue} is the exact, per-item version (an insertion-ordered Map), kept for
 * the Socket.IO connect timeout, whose items are few and short-lived.
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
  /**
   * Heartbeat bookkeeping, read and written by {@link Heartbeat} only; start it at 0. It
   * names the bucket the target is due in: 0 when stopped, a positive tag while a ping is
   * scheduled, a negative one while a pong is awaited. An integer of magnitude at most
   * {@link MAX_SLOT}, so that a target may pack it into a small-integer field of its own.
   */
  heartbeatSlot: number;
}

/** The largest magnitude of {@link HeartbeatTarget.heartbeatSlot}. */
export const MAX_SLOT = 2 ** 25;

/**
 * The widest bucket, in ms: how much later than due a ping or a timeout may happen (for
 * delays under 19 days). Narrower for short delays: an eighth of the delay, at least 1 ms.
 */
export const MAX_BUCKET_WIDTH = 100;

/** The targets due when one time slice starts. */
interface Bucket {
  /** The slice's number: it starts at `index * width` ms (performance.now() time). */
  readonly index: number;
  /** The slot value of the targets actually due here (others in `targets` are stale). */
  readonly tag: number;
  readonly targets: HeartbeatTarget[];
  next: Bucket | null;
}

/**
 * Runs `onExpire(target)` once, between `delay` and `delay + width` ms after the target was
 * (last) added, unless it was added again or its slot cleared meanwhile. `sign` (1 or -1)
 * keeps the slots of two queues sharing targets apart. See the file header.
 */
export class BucketQueue {
  readonly #delay: number;
  readonly #width: number;
  readonly #sign: 1 | -1;
  readonly #onExpire: (target: HeartbeatTarget) => void;
  #head: Bucket | null = null;
  #tail: Bucket | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delay: number, sign: 1 | -1, onExpire: (target: HeartbeatTarget) => void) {
    // A positive delay puts every added target in a later bucket than the one firing.
    this.#delay = Math.max(1, delay);
    // Buckets alive together are at most 2^24 apart, so their tags (below MAX_SLOT) differ:
    // a delay over 2^24 buckets of MAX_BUCKET_WIDTH (about 19 days) gets wider ones.
    const width = Math.min(MAX_BUCKET_WIDTH, Math.floor(this.#delay / 8));
    this.#width = Math.max(1, width, Math.ceil(this.#delay / 2 ** 24));
    this.#sign = sign;
    this.#onExpire = onExpire;
  }

  /** The width of a bucket, in ms. */
  get width(): number {
    return this.#width;
  }

  /** Entries held in buckets, stale ones included (what the queue keeps alive). */
  get entries(): number {
    let count = 0;
    for (let bucket = this.#head; bucket !== null; bucket = bucket.next) {
      count += bucket.targets.length;
    }
    return count;
  }

  /** Whether `target` is scheduled in this queue. */
  has(target: HeartbeatTarget): boolean {
    return target.heartbeatSlot * this.#sign > 0;
  }

  /** Schedules `target` (again) for `delay` ms from now, cancelling its earlier schedule. */
  add(target: HeartbeatTarget): void {
    const now = performance.now();
    const index = Math.ceil((now + this.#delay) / this.#width);
    // Tags wrap: only buckets alive together (within one delay) need distinct tags.
    const tag = this.#sign * ((index % MAX_SLOT) + 1);
    // A nonzero slot always names a live bucket that holds the target: already there.
    if (target.heartbeatSlot === tag) return;
    target.heartbeatSlot = tag;
    let bucket = this.#tail;
    if (bucket === null || bucket.index !== index) {
      // Due times only grow (same delay, monotonic clock): a new bucket goes last. The
      // timer is armed for the head only (from fire(), the head is armed once it is done).
      const created: Bucket = { index, tag, targets: [], next: null };
      if (bucket !== null) {
        bucket.next = created;
      } else {
        this.#head = created;
        if (this.#timer === undefined) this.#arm(index * this.#width - now);
      }
      this.#tail = created;
      bucket = created;
    }
    bucket.targets.push(target);
  }

  /** Cancels `target`'s schedule. Its entry stays in its bucket, stale, until that fires. */
  delete(target: HeartbeatTarget): void {
    if (this.has(target)) target.heartbeatSlot = 0;
  }

  /** Cancels every schedule and the timer. */
  clear(): void {
    for (let bucket = this.#head; bucket !== null; bucket = bucket.next) {
      for (const target of bucket.targets) {
        if (target.heartbeatSlot === bucket.tag) target.heartbeatSlot = 0;
      }
    }
    this.#head = null;
    this.#tail = null;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(fireBuckets, Math.max(1, Math.ceil(ms)), this);
    // Sessions keep the process alive through their sockets, not through this timer.
    this.#timer.unref();
  }

  /** Handles every bucket whose slice has started. @internal */
  fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const width = this.#width;
    let bucket = this.#head;
    // (A timer may fire a little before performance.now() reaches the due time.)
    while (bucket !== null && bucket.index * width <= now) {
      // Unlinked first: targets added from onExpire go to later buckets (delay > 0).
      this.#head = bucket.next;
      if (this.#head === null) this.#tail = null;
      const { targets, tag } = bucket;
      for (let i = 0; i < targets.length; i++) {
        const target = targets[i]!;
        if (target.heartbeatSlot !== tag) continue; // stale: rescheduled or stopped
        target.heartbeatSlot = 0;
        this.#onExpire(target);
      }
      bucket = this.#head;
    }
    if (bucket !== null && this.#timer === undefined) this.#arm(bucket.index * width - now);
  }
}

// A module-level timer callback: arming a queue's timer allocates no closure.
function fireBuckets(queue: BucketQueue): void {
  queue.fire();
}

/** The ping and pong-deadline queues shared by every session of one server. */
export class Heartbeat {
  readonly #pings: BucketQueue;
  readonly #pongs: BucketQueue;

  constructor(pingInterval: number, pingTimeout: number) {
    this.#pongs = new BucketQueue(pingTimeout, -1, (target) => target.onPingTimeout());
    this.#pings = new BucketQueue(pingInterval, 1, (target) => {
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
    // Scheduling the ping clears the pong slot: the deadline's entry goes stale.
    if (this.#pongs.has(target)) this.#pings.add(target);
  }

  /** Stops every timer of a session. */
  stop(target: HeartbeatTarget): void {
    target.heartbeatSlot = 0;
  }

  /** Stops every timer of every session. */
  clear(): void {
    this.#pings.clear();
    this.#pongs.clear();
  }

  /** Bucket entries held, stale ones included (for tests). @internal */
  get entries(): number {
    return this.#pings.entries + this.#pongs.entries;
  }
}
