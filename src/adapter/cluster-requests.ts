/**
 * Bookkeeping for requests a node sends to the others (fetchSockets, serverSideEmit with
 * acks, broadcasts with acks): which nodes are still expected to answer, and when to stop
 * waiting.
 *
 * A request waits only for the nodes known alive when it was sent. It completes as soon as
 * each of them answered or was declared gone (heartbeat timeout, ADAPTER_CLOSE, broker
 * connection lost), so a dead node costs at most one timeout, never one per request.
 *
 * ```
 *   add() ──> waiting ──(every expected node answered or gone)──> complete
 *                │
 *                └──────────(timeout elapsed first)──────────────> timed out
 * ```
 * A request with `keepUntilTimeout` (broadcast acks) stays registered after completing, so
 * that acks still route to it until its timeout.
 */
import type { ClusterResponse } from "./cluster-message.js";

/** What a request does with its responses and how it ends. */
export interface RequestHandlers {
  /**
   * A response arrived from `message.uid`. Returns true when that was the responder's last
   * one, so it is crossed off the waiting list.
   */
  onResponse(message: ClusterResponse): boolean;
  /** An expected node left or died before its last response. */
  onGone?(uid: string): void;
  /** Every expected node answered or is gone. */
  onComplete(): void;
  /** The timeout elapsed while nodes were still expected. */
  onTimeout(missing: number): void;
}

interface Entry {
  readonly expected: ReadonlySet<string>;
  readonly waiting: Set<string>;
  readonly handlers: RequestHandlers;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly keepUntilTimeout: boolean;
  /** Responses from nodes outside `expected` are dropped (their counts would be wrong). */
  readonly strict: boolean;
  isComplete: boolean;
}

/** Options of one request. */
export interface RequestOptions {
  /** Keep routing responses after completion, until the timeout. Default false. */
  readonly keepUntilTimeout?: boolean;
  /** Ignore responses from nodes that were not expected. Default false. */
  readonly strict?: boolean;
}

/** The requests a node is waiting on, by request id. */
export class PendingRequests {
  readonly #entries = new Map<string, Entry>();

  /** How many requests are registered. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Registers a request waiting for `expected` nodes for at most `timeout` ms. With no node
   * expected, it completes at once.
   */
  add(
    id: string,
    expected: Iterable<string>,
    timeout: number,
    handlers: RequestHandlers,
    options: RequestOptions = {},
  ): void {
    const waiting = new Set(expected);
    const timer = setTimeout(() => this.#onTimeout(id), timeout);
    timer.unref?.();
    const entry: Entry = {
      expected: new Set(waiting),
      waiting,
      handlers,
      timer,
      keepUntilTimeout: options.keepUntilTimeout ?? false,
      strict: options.strict ?? false,
      isComplete: false,
    };
    this.#entries.set(id, entry);
    this.#check(id, entry);
  }

  /** Routes a response to its request; unknown request ids are ignored. */
  onResponse(message: ClusterResponse): void {
    const id = message.data.requestId;
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    if (entry.strict && !entry.expected.has(message.uid)) return;
    if (entry.handlers.onResponse(message) && entry.waiting.delete(message.uid)) {
      this.#check(id, entry);
    }
  }

  /** A node left or died: no request waits for it any longer. */
  onNodeGone(uid: string): void {
    for (const [id, entry] of [...this.#entries]) {
      if (!entry.waiting.delete(uid)) continue;
      entry.handlers.onGone?.(uid);
      this.#check(id, entry);
    }
  }

  /** Gives up on a request (its message could not be sent): every node counts as gone. */
  cancel(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    for (const uid of [...entry.waiting]) {
      entry.waiting.delete(uid);
      entry.handlers.onGone?.(uid);
    }
    clearTimeout(entry.timer);
    this.#entries.delete(id);
  }

  /** Ends every request with what it has (the adapter is closing). */
  completeAll(): void {
    for (const [id, entry] of [...this.#entries]) {
      clearTimeout(entry.timer);
      this.#entries.delete(id);
      if (!entry.isComplete) {
        entry.isComplete = true;
        entry.handlers.onComplete();
      }
    }
  }

  #check(id: string, entry: Entry): void {
    if (entry.isComplete || entry.waiting.size > 0) return;
    entry.isComplete = true;
    if (!entry.keepUntilTimeout) {
      clearTimeout(entry.timer);
      this.#entries.delete(id);
    }
    entry.handlers.onComplete();
  }

  #onTimeout(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    if (!entry.isComplete) entry.handlers.onTimeout(entry.waiting.size);
  }
}
