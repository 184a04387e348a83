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

type Entry = { readonly done: false } | { readonly done: true; readonly response: unknown[] };

const PENDING: Entry = { done: false };

/** A ledger as plain data, for stores that serialise sessions: answered ids and responses. */
export interface AckLedgerSnapshot {
  readonly capacity: number;
  readonly answered: readonly (readonly [number, unknown[]])[];
}

/** Where acks go: the socket currently connected for this session, if any. */
export type AckWriter = (id: number, response: unknown[]) => void;

/** The ack ids one session has seen, bounded, oldest forgotten first. */
export class AckLedger {
  readonly #entries = new Map<number, Entry>();
  readonly #capacity: number;
  #writer: AckWriter | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
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
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      this.#entries.set(id, PENDING);
      if (this.#entries.size > this.#capacity) {
        const oldest = this.#entries.keys().next().value as number;
        this.#entries.delete(oldest);
      }
      return true;
    }
    if (entry.done) this.#writer?.(id, entry.response);
    return false;
  }

  /** Forgets an emit that never reached its handler (refused by middleware). */
  forget(id: number): void {
    if (this.#entries.get(id) === PENDING) this.#entries.delete(id);
  }

  /** Records the handler's response and sends it through the current socket. */
  complete(id: number, response: unknown[]): void {
    const entry = this.#entries.get(id);
    if (entry?.done === true) return; // an ack is sent at most once
    // An entry pushed out of the window while its handler ran is answered, not recorded.
    if (entry === PENDING) this.#entries.set(id, { done: true, response });
    this.#writer?.(id, response);
  }

  /** How many ack ids are remembered. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The answered ids as plain data (what `JSON.stringify` and MessagePack keep). Pending ids
   * are left out: their handlers run in this process, which may be gone when the session is
   * restored.
   */
  toJSON(): AckLedgerSnapshot {
    const answered: [number, unknown[]][] = [];
    for (const [id, entry] of this.#entries) if (entry.done) answered.push([id, entry.response]);
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
      ledger.#entries.set(pair[0] as number, { done: true, response: pair[1] as unknown[] });
    }
    return ledger;
  }
}
