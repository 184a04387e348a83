/**
 * Per-room channels: which rooms' channels a node is subscribed to. A node subscribes to a
 * room's channel when the room gets its first local member and unsubscribes when it loses
 * its last, so it never receives broadcasts for rooms it has no member of.
 *
 * Subscriptions go out in call order on one connection, so a room that is created, emptied
 * and created again ends up subscribed. A broadcast sent by another node before the
 * subscription is active is not received: a socket that joins a room on one node and is
 * sent a broadcast from another node in the same instant may miss it.
 */

/** The room channels one adapter is subscribed to. */
export class RoomSubscriptions {
  readonly #subscribe: (room: string) => Promise<unknown>;
  readonly #unsubscribe: (room: string) => Promise<unknown>;
  readonly #onError: (err: unknown) => void;
  readonly #rooms = new Set<string>();

  constructor(
    subscribe: (room: string) => Promise<unknown>,
    unsubscribe: (room: string) => Promise<unknown>,
    onError: (err: unknown) => void,
  ) {
    this.#subscribe = subscribe;
    this.#unsubscribe = unsubscribe;
    this.#onError = onError;
  }

  /** The rooms subscribed to. */
  get rooms(): ReadonlySet<string> {
    return this.#rooms;
  }

  /** Subscribes to a room's channel (no-op when subscribed). */
  add(room: string): void {
    if (this.#rooms.has(room)) return;
    this.#rooms.add(room);
    this.#subscribe(room).catch(this.#onError);
  }

  /** Unsubscribes from a room's channel (no-op when not subscribed). */
  delete(room: string): void {
    if (!this.#rooms.delete(room)) return;
    this.#unsubscribe(room).catch(this.#onError);
  }

  /** Unsubscribes from every room's channel. */
  async clear(): Promise<void> {
    const rooms = [...this.#rooms];
    this.#rooms.clear();
    await Promise.all(rooms.map((room) => this.#unsubscribe(room).catch(() => {})));
  }
}
