/**
 * The stored broadcasts of one namespace that this node's stream reader delivered
 * recently, kept in memory so that a restore reads them here rather than paging through
 * the whole stream with XRANGE (every namespace's and every room's entries, on the
 * connection that also carries the XADDs). Under rapid reconnections a slow restore is a
 * failed one: the client's new connection is cut before it completes, after its session
 * was taken.
 *
 * The cache is complete after its `from` id: every stored entry of the namespace with a
 * later id, up to the reader's last id, is in it (the entry at `from` itself is not).
 * Older entries are read from Redis, and prepended. Bounded like the in-memory store: at
 * most `maxPackets` entries, none kept longer than `maxDisconnectionDuration`; evicting an
 * entry moves `from` to it.
 */
import type { Room } from "../adapter/adapter.js";
import { isForRooms, type StoredSession } from "../adapter/session-codec.js";
import { compareStreamIds, type StreamBroadcast } from "./stream-codec.js";

interface CachedEntry {
  readonly id: string;
  readonly at: number;
  readonly broadcast: StreamBroadcast;
}

/** Bounds of a cache. */
export interface StreamCacheOptions {
  readonly maxPackets: number;
  /** How long an entry is kept, in ms. */
  readonly maxAge: number;
}

/** Recent stored broadcasts of one namespace, in stream order. */
export class StreamCache {
  readonly #options: StreamCacheOptions;
  // A plain array used as a queue: `#head` is the index of the oldest live entry.
  #entries: CachedEntry[] = [];
  #head = 0;
  #from: string | undefined;

  constructor(options: StreamCacheOptions) {
    this.#options = options;
  }

  /**
   * The id after which the cache holds every stored entry the reader delivered; undefined
   * until {@link StreamCache.start}.
   */
  get from(): string | undefined {
    return this.#from;
  }

  /**
   * Declares the cache complete after `id`: the reader's last id at a moment when this
   * cache already received every entry the reader dispatched (any earlier ones are ignored).
   */
  start(id: string | undefined): void {
    this.#from = id;
  }

  /** Records a stored broadcast the reader delivered (in stream order), once started. */
  add(broadcast: StreamBroadcast, now = Date.now()): void {
    if (this.#from === undefined) return;
    this.#entries.push({ id: broadcast.id, at: now, broadcast });
    this.#trim(now);
  }

  /**
   * Puts older stored broadcasts (in stream order, read from `from` to `end` inclusive)
   * before the cached ones: the cache is then complete after `from`. Refused (false) unless
   * the cache still starts at `end`, i.e. nothing was evicted while they were read.
   */
  prepend(older: readonly StreamBroadcast[], from: string, end: string, now = Date.now()): boolean {
    if (this.#from !== end) return false;
    const entries: CachedEntry[] = [];
    for (const broadcast of older) {
      // The cache holds what comes after its start, not the entry at its start.
      if (compareStreamIds(broadcast.id, from) <= 0 || compareStreamIds(broadcast.id, end) > 0) {
        continue;
      }
      entries.push({ id: broadcast.id, at: now, broadcast });
    }
    this.#entries = entries.concat(this.#entries.slice(this.#head));
    this.#head = 0;
    this.#from = from;
    this.#trim(now);
    return true;
  }

  /**
   * The payloads (each ending with its offset) a session missed after `after`, or undefined
   * when the cache does not cover `after` (it started or was trimmed later).
   */
  collect(after: string, session: StoredSession, now = Date.now()): unknown[][] | undefined {
    this.#trim(now);
    const from = this.#from;
    if (from === undefined || compareStreamIds(after, from) < 0) return undefined;
    const rooms = new Set<Room>(session.rooms);
    const missed: unknown[][] = [];
    for (let i = this.#firstAfter(after); i < this.#entries.length; i++) {
      const { broadcast } = this.#entries[i]!;
      if (broadcast.isLocal && broadcast.uid !== session.node) continue;
      if (isForRooms(rooms, broadcast.opts)) missed.push([...broadcast.packet.data, broadcast.id]);
    }
    return missed;
  }

  /** Index of the first live entry with an id after `id` (binary search: ids are ordered). */
  #firstAfter(id: string): number {
    let low = this.#head;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareStreamIds(this.#entries[mid]!.id, id) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #trim(now: number): void {
    const threshold = now - this.#options.maxAge;
    const max = this.#options.maxPackets;
    let head = this.#head;
    while (head < this.#entries.length) {
      const entry = this.#entries[head]!;
      if (this.#entries.length - head <= max && entry.at >= threshold) break;
      // Entries up to this one are gone: the cache is complete after it only.
      if (this.#from !== undefined && compareStreamIds(entry.id, this.#from) > 0) {
        this.#from = entry.id;
      }
      head++;
    }
    this.#head = head;
    // Compact once the dead prefix dominates, so the array never grows without bound.
    if (head > 1024 && head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(head);
      this.#head = 0;
    }
  }
}
