/**
 * The recovery store of the Redis Streams mode: stored broadcasts are stream entries (their
 * ids are the offsets clients hold), and disconnected sockets' sessions are keys with a
 * time to live. Any node can restore any session, so a client recovers on another node, or
 * on its own node after a restart.
 *
 * Missed packets are read from memory: the {@link StreamCache} of recent stored broadcasts
 * the reader delivered. A restore from an offset older than the cache first extends the
 * cache back to that offset with XRANGE (one read at a time, shared by concurrent
 * restores), so that when a server restarts and every client comes back with an offset
 * from before, the stream is read once, not once per client (and again on each retry of a
 * client whose new connection was cut while its restore ran).
 *
 * A restore is honest: it returns undefined (the client is told `recovered === false`) when
 * the session expired or was already restored, or when the entry at the client's offset is
 * gone (trimmed by `MAXLEN`, or lost with a Redis restart), since entries after it may be
 * gone too.
 */
import type { StoredSession } from "../adapter/session-codec.js";
import { decodeSession, encodeSession } from "../adapter/session-codec.js";
import { StreamCache } from "./stream-cache.js";
import {
  compareStreamIds,
  decodeStreamEntry,
  isStoredEntry,
  isStreamId,
  parseXRangeReply,
  type RawStreamEntry,
  type StreamBroadcast,
} from "./stream-codec.js";
import { AS_BUFFERS, type RedisStreamsClient, type StreamReader } from "./stream-reader.js";

/** Entries read per XRANGE while extending the cache back. */
const PAGE = 500;

/** Settings of the store. */
export interface StreamStoreOptions {
  readonly streamKey: string;
  /** The namespace whose stored broadcasts the store restores. */
  readonly nsp: string;
  readonly sessionKeyPrefix: string;
  /** How long a session is kept, in ms (`maxDisconnectionDuration`); also the cache's max age. */
  readonly sessionTtl: number;
  /** How many stored broadcasts the cache keeps (`maxPackets`). */
  readonly maxPackets: number;
  /**
   * How long a restore waits for this node's reader to reach the client's offset and the
   * stream's end, in ms.
   */
  readonly catchUpMs: number;
}

/** A restored session and the EVENT payloads it missed, each ending with its offset. */
export interface RestoredFromStream {
  readonly session: StoredSession;
  readonly missedPackets: unknown[][];
}

/** Stored broadcasts and sessions of one namespace in Redis, for one Redis client. */
export class StreamRecoveryStore {
  readonly #client: RedisStreamsClient;
  readonly #reader: StreamReader;
  readonly #options: StreamStoreOptions;
  readonly #cache: StreamCache;
  // The reading that extends the cache back, while one runs (one at a time).
  #extending: Promise<boolean> | undefined;

  constructor(client: RedisStreamsClient, reader: StreamReader, options: StreamStoreOptions) {
    this.#client = client;
    this.#reader = reader;
    this.#options = options;
    this.#cache = new StreamCache({ maxPackets: options.maxPackets, maxAge: options.sessionTtl });
  }

  /**
   * Starts caching: the reader's last id, at a moment when every entry after it reaches
   * {@link StreamRecoveryStore.onStored}.
   */
  start(lastId: string | undefined): void {
    this.#cache.start(lastId);
  }

  /** Records a stored broadcast of the namespace the reader delivered. */
  onStored(broadcast: StreamBroadcast): void {
    this.#cache.add(broadcast);
  }

  /** Keeps a session for `sessionTtl` ms. */
  async persist(session: StoredSession): Promise<void> {
    const key = this.#options.sessionKeyPrefix + session.pid;
    const ttl = String(Math.max(1, Math.ceil(this.#options.sessionTtl)));
    await this.#client.sendCommand(["SET", key, encodeSession(session), "PX", ttl]);
  }

  /**
   * Takes the session (at most once: GETDEL) and what it missed after `offset` (or after
   * its start when the client got no packet), up to the last entry this node's reader
   * delivered, once it reached the stream's end as it was when the session was taken: later
   * entries reach the socket live. The list is read from the cache in the
   * turn of the event loop that ends the restore, so no entry falls between replay and
   * live delivery.
   */
  async restore(pid: string, offset: string | undefined): Promise<RestoredFromStream | undefined> {
    const key = this.#options.sessionKeyPrefix + pid;
    // Sent right behind the GETDEL: the stream's end once the session is taken.
    const [raw, end] = await Promise.all([
      this.#client.sendCommand(["GETDEL", key], AS_BUFFERS),
      this.#newestId(),
    ]);
    if (!(raw instanceof Uint8Array)) return undefined;
    const session = decodeSession(raw);
    if (session === undefined || session.pid !== pid) return undefined;
    const from = offset ?? session.startOffset;
    if (!isStreamId(from)) return undefined;
    // Every entry appended before the client came back is replayed, none delivered live: live,
    // `local` means this node's sockets, where the replay means the session's node. A reader
    // behind the end (under load) would otherwise lose that node's local broadcasts and give
    // the socket this node's. The client may also have read entries (on another node) this
    // node's reader has not reached.
    const upTo = end !== undefined && compareStreamIds(end, from) > 0 ? end : from;
    if (!(await this.#reader.waitFor(upTo, this.#options.catchUpMs))) return undefined;
    let isExtended = false;
    for (;;) {
      const cached = this.#cache.from;
      if (cached !== undefined && compareStreamIds(from, cached) >= 0) {
        const missedPackets = this.#cache.collect(from, session);
        return missedPackets === undefined ? undefined : { session, missedPackets };
      }
      // Extended, and still not covered: the cache is too small for what was missed.
      if (cached === undefined || isExtended) return undefined;
      if (this.#extending !== undefined) {
        await this.#extending; // another restore's reading: it may cover this one too
        continue;
      }
      isExtended = true;
      const extending = this.#readBack(from, cached);
      this.#extending = extending;
      const isRead = await extending.finally(() => {
        if (this.#extending === extending) this.#extending = undefined;
      });
      if (!isRead) return undefined;
    }
  }

  /**
   * Reads the stored broadcasts of the namespace from entry `id` to where the cache starts
   * and prepends them. False when entry `id` is gone (trimmed, or lost with a Redis restart).
   */
  async #readBack(id: string, end: string): Promise<boolean> {
    const older: StreamBroadcast[] = [];
    let first: string | undefined;
    let start = id;
    for (;;) {
      const page = await this.#range(start, end);
      first ??= page[0]?.id;
      for (const entry of page) {
        const broadcast = this.#storedOf(entry);
        if (broadcast !== undefined) older.push(broadcast);
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < PAGE || last.id === end) break;
      start = `(${last.id}`;
    }
    if (first === undefined) return false;
    // Everything after the oldest entry left is there: the cache may start at it anyway.
    return this.#cache.prepend(older, first, end) && first === id;
  }

  #storedOf(entry: RawStreamEntry): StreamBroadcast | undefined {
    if (!isStoredEntry(entry) || entry.fields.get("nsp")?.toString() !== this.#options.nsp) {
      return undefined;
    }
    const decoded = decodeStreamEntry(entry);
    // A malformed entry is never delivered either.
    return decoded.ok && decoded.value.kind === "stored" ? decoded.value.broadcast : undefined;
  }

  /** The id of the stream's newest entry, or undefined when there is none. */
  async #newestId(): Promise<string | undefined> {
    const args = ["XREVRANGE", this.#options.streamKey, "+", "-", "COUNT", "1"];
    return parseXRangeReply(await this.#client.sendCommand(args, AS_BUFFERS))[0]?.id;
  }

  async #range(start: string, end: string): Promise<RawStreamEntry[]> {
    const args = ["XRANGE", this.#options.streamKey, start, end, "COUNT", String(PAGE)];
    return parseXRangeReply(await this.#client.sendCommand(args, AS_BUFFERS));
  }
}
