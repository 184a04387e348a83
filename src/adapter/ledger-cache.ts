/**
 * The live ack ledgers (exactly-once windows) of sessions a node persisted to a store
 * outside the process. The store keeps each ledger's snapshot (its answered ids); the live
 * ledger also knows the emits whose handlers are still running, so a client that comes back
 * to the same node gets it back rather than the snapshot.
 */

/**
 * Ack ledgers of sessions persisted by this node, kept for `maxDisconnectionDuration`: a
 * client that comes back to this node keeps its exactly-once window.
 */
export class LedgerCache {
  readonly #ttl: number;
  readonly #entries = new Map<string, { readonly acks: unknown; readonly at: number }>();

  constructor(ttl: number) {
    this.#ttl = ttl;
  }

  /** Keeps `acks` for session `pid`, dropping expired entries. */
  set(pid: string, acks: unknown, now = Date.now()): void {
    this.#entries.delete(pid);
    this.#entries.set(pid, { acks, at: now });
    for (const [key, entry] of this.#entries) {
      if (entry.at + this.#ttl >= now) break; // insertion order: the rest are newer
      this.#entries.delete(key);
    }
  }

  /** Removes and returns the ledger of `pid`, if it has not expired. */
  take(pid: string, now = Date.now()): unknown {
    const entry = this.#entries.get(pid);
    this.#entries.delete(pid);
    return entry !== undefined && entry.at + this.#ttl >= now ? entry.acks : undefined;
  }
}
