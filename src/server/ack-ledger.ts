/**
 * Exactly-once handling of client emits that ask for an ack. A client that resends an
 * unacknowledged emit after a reconnection (or on retry) reuses its ack id; within one
 * session the ledger remembers the last `capacity` ack ids it saw, so a duplicate never
 * reaches the handler again: it gets the recorded response, or waits for the one the
 * handler has not given yet.
 *
 * ```
 *   unseen ──first EVENT──> pending ──handler acks──> done(response)
 *                               │                        │
 *                     duplicate: ignored          duplicate: ACK re-sent
 * ```
 *
 * The ledger travels with the session through connection-state recovery, so the socket
 * that answers is always the one currently connected.
 */

import { encodedPacketData } from "../protocol/socket-packet.js";

/** A ledger as plain data, for stores that serialise sessions: answered ids and responses. */
export interface AckLedgerSnapshot {
  readonly capacity: number;
  readonly answered: readonly (readonly [number, unknown[]])[];
}

/**
 * A recorded response: the ACK packet as it was written (its text, for a response without
 * binary data), or the handler's arguments (binary data, an ack given while disconnected, or
 * one restored from a snapshot).
 */
export type AckResponse = unknown[] | string;

/**
 * Where acks go: the socket currently connected for this session, if any. It writes the
 * response and returns the packet's text when the response was encoded as one string, which
 * the ledger then keeps in place of the arguments.
 */
export type AckWriter = (id: number, response: AckResponse) => string | undefined;

/**
 * The ack ids one session has seen, bounded, oldest forgotten first.
 *
 * hot path: every acked emit passes through `admit` and `complete`, so the ledger is a ring
 * of two parallel arrays (ids, responses; `undefined` while pending) grown on demand up to
 * `capacity`: no object per entry, no map churn. Clients number acks upwards, so an id above
 * the highest seen is new without a search; only a resend scans, newest first. A response is
 * kept as the text of the ACK packet written for it where it can be: one string, which the
 * garbage collector copies and marks as one object, where the handler's arguments are a
 * graph of them (with a 1,000-entry window per session this retention was ~10 % of the
 * server's CPU per acked round trip: `bash bench/run.sh --scenarios echo` with
 * socket.io-client, maxAcks 10 against 1,000).
 */
export class AckLedger {
  readonly #capacity: number;
  readonly #ids: number[] = [];
  readonly #responses: (AckResponse | undefined)[] = [];
  #next = 0; // the slot written next: the length while the ring grows, then wrapping
  #highest = -1;
  #writer: AckWriter | undefined;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Sets the socket that delivers acks from now on (undefined while disconnected). */
  attach(writer: AckWriter | undefined): void {
    this.#writer = writer;
  }

  /**
   * Registers an incoming emit. Returns true when the handler should run; false for a
   * duplicate, whose recorded response (if any) has been re-sent.
   */
  admit(id: number): boolean {
    const slot = this.#find(id);
    if (slot === -1) {
      this.#insert(id, undefined);
      return true;
    }
    const response = this.#responses[slot];
    if (response !== undefined) this.#writer?.(id, response);
    return false;
  }

  /** Forgets an emit that never reached its handler (refused by middleware). */
  forget(id: number): void {
    const slot = this.#find(id);
    if (slot !== -1 && this.#responses[slot] === undefined) this.#ids[slot] = Number.NaN;
  }

  /** Records the handler's response and sends it through the current socket. */
  complete(id: number, response: unknown[]): void {
    const slot = this.#find(id);
    if (slot === -1) {
      // An id pushed out of the window while its handler ran is answered, not recorded.
      this.#writer?.(id, response);
      return;
    }
    if (this.#responses[slot] !== undefined) return; // an ack is sent at most once
    this.#responses[slot] = response; // recorded first: the writer may find it re-entrantly
    const text = this.#writer?.(id, response);
    if (text !== undefined) this.#responses[slot] = text;
  }

  /** How many ack ids are remembered. */
  get size(): number {
    return this.#ids.length;
  }

  // hot path: one way to insert whether the ring is growing or full. Writing at `#next` (the
  // arrays' length while they grow) appends; once full, `#next` wraps to 0 and the same
  // stores overwrite. A separate branch for the full ring first ran at the capacity-th ack,
  // inside code V8 had optimised without it, which it then threw away and compiled again.
  #insert(id: number, response: AckResponse | undefined): void {
    const slot = this.#next;
    this.#ids[slot] = id;
    this.#responses[slot] = response;
    const next = slot + 1;
    this.#next = next === this.#capacity ? 0 : next;
    if (id > this.#highest) this.#highest = id;
  }

  /** The slot holding `id`, or -1. */
  #find(id: number): number {
    if (id > this.#highest) return -1;
    const ids = this.#ids;
    const length = ids.length;
    // Newest first: the slot before `#next` (the last one once `#next` wrapped to 0),
    // walking backwards. (Each subtraction runs whichever way the ring stands, so that none
    // runs for the first time in optimised code.)
    let slot = (this.#next === 0 ? length : this.#next) - 1;
    for (let i = 0; i < length; i++) {
      if (ids[slot] === id) return slot;
      slot = (slot === 0 ? length : slot) - 1;
    }
    return -1;
  }

  /**
   * The answered ids as plain data (what `JSON.stringify` and MessagePack keep). Pending ids
   * are left out: their handlers run in this process, which may be gone when the session is
   * restored.
   */
  toJSON(): AckLedgerSnapshot {
    const answered: [number, unknown[]][] = [];
    const length = this.#ids.length;
    // Oldest first, so a revived ledger evicts in the same order: slot 0 while the ring grows
    // (`#next` is then its length), `#next` once it is full.
    let slot = this.#next < length ? this.#next : 0;
    for (let i = 0; i < length; i++) {
      const response = this.#responses[slot];
      if (response !== undefined && !Number.isNaN(this.#ids[slot]))
        answered.push([this.#ids[slot]!, argumentsOf(response)]);
      slot = slot + 1 === length ? 0 : slot + 1;
    }
    return { capacity: this.#capacity, answered };
  }

  /** The ledger a restored session carried: the live one, or one rebuilt from a snapshot. */
  static revive(value: unknown, capacity: number): AckLedger | undefined {
    if (value instanceof AckLedger) return value;
    if (typeof value !== "object" || value === null) return undefined;
    const answered = (value as { answered?: unknown }).answered;
    if (!Array.isArray(answered)) return undefined;
    const ledger = new AckLedger(capacity);
    for (const pair of answered) {
      if (!Array.isArray(pair) || !Number.isInteger(pair[0]) || !Array.isArray(pair[1])) continue;
      ledger.#insert(pair[0] as number, pair[1] as unknown[]);
    }
    return ledger;
  }
}

/**
 * The handler's arguments of a recorded response: snapshots keep arguments, the format
 * older versions read. A kept ACK packet is decoded back.
 */
function argumentsOf(response: AckResponse): unknown[] {
  return typeof response === "string" ? (encodedPacketData(response) as unknown[]) : response;
}
