/**
 * The recovery store of the Redis Streams mode: stored broadcasts are stream entries (their
 * ids are the offsets clients hold), and disconnected sockets' sessions are keys with a
 * time to live. Any node can restore any session, so a client recovers on another node, or
 * on its own node after a restart.
 *
 * A restore is honest: it returns undefined (the client is told `recovered === false`) when
 * the session expired or was already restored, or when the entry at the client's offset is
 * gone (trimmed by `MAXLEN`, or lost with a Redis restart), since entries after it may be
 * gone too.
 */
import type { Room } from "../adapter/adapter.js";
import {
  decodeSession,
  encodeSession,
  isForRooms,
  type StoredSession,
} from "../adapter/session-codec.js";
import {
  compareStreamIds,
  decodeStreamEntry,
  isStoredEntry,
  isStreamId,
  parseXRangeReply,
  type RawStreamEntry,
} from "./stream-codec.js";
import { AS_BUFFERS, type RedisStreamsClient, type StreamReader } from "./stream-reader.js";

/** Entries read per XRANGE while collecting a session's missed packets. */
const PAGE = 500;

/** Settings of the store. */
export interface StreamStoreOptions {
  readonly streamKey: string;
  readonly sessionKeyPrefix: string;
  /** How long a session is kept, in ms (`maxDisconnectionDuration`). */
  readonly sessionTtl: number;
  /** How long a restore waits for this node's reader to reach the client's offset, in ms. */
  readonly catchUpMs: number;
}

/** A restored session and the EVENT payloads it missed, each ending with its offset. */
export interface RestoredFromStream {
  readonly session: StoredSession;
  readonly missedPackets: unknown[][];
}

/** Stored broadcasts and sessions in Redis, for one Redis client. */
export class StreamRecoveryStore {
  readonly #client: RedisStreamsClient;
  readonly #reader: StreamReader;
  readonly #options: StreamStoreOptions;

  constructor(client: RedisStreamsClient, reader: StreamReader, options: StreamStoreOptions) {
    this.#client = client;
    this.#reader = reader;
    this.#options = options;
  }

  /** Keeps a session for `sessionTtl` ms. */
  async persist(session: StoredSession): Promise<void> {
    const key = this.#options.sessionKeyPrefix + session.pid;
    const ttl = String(Math.max(1, Math.ceil(this.#options.sessionTtl)));
    await this.#client.sendCommand(["SET", key, encodeSession(session), "PX", ttl]);
  }

  /**
   * Takes the session (at most once: GETDEL) and reads what it missed in namespace `nsp`
   * after `offset` (or after its start when the client got no packet), up to the last entry
   * this node's reader delivered: later entries reach the socket live.
   */
  async restore(
    pid: string,
    offset: string | undefined,
    nsp: string,
  ): Promise<RestoredFromStream | undefined> {
    const key = this.#options.sessionKeyPrefix + pid;
    const raw = await this.#client.sendCommand(["GETDEL", key], AS_BUFFERS);
    if (!(raw instanceof Uint8Array)) return undefined;
    const session = decodeSession(raw);
    if (session === undefined || session.pid !== pid) return undefined;
    const from = offset ?? session.startOffset;
    if (!isStreamId(from)) return undefined;
    // The client may have read entries (on another node) this node's reader has not reached.
    if (!(await this.#reader.waitFor(from, this.#options.catchUpMs))) return undefined;
    const missedPackets = await this.#readAfter(from, nsp, session);
    return missedPackets === undefined ? undefined : { session, missedPackets };
  }

  /**
   * The session's packets after `from`, up to the reader's last id. Pages until it reaches
   * the reader, which may move on meanwhile; the last check and the caller's restore run
   * in one turn of the event loop, so no entry falls between replay and live delivery.
   */
  async #readAfter(
    from: string,
    nsp: string,
    session: StoredSession,
  ): Promise<unknown[][] | undefined> {
    const rooms = new Set<Room>(session.rooms);
    const missed: unknown[][] = [];
    let start = from;
    let isFirst = true;
    for (;;) {
      const end = this.#reader.lastId;
      if (end === undefined) return undefined;
      if (!isFirst && compareStreamIds(start, end) >= 0) return missed;
      const page = await this.#range(isFirst ? start : `(${start}`, end);
      if (isFirst) {
        // The offset's own entry must still be there: if it was trimmed, so may later ones.
        if (page[0]?.id !== from) return undefined;
        page.shift();
        isFirst = false;
      }
      for (const entry of page) collectMissed(entry, nsp, session, rooms, missed);
      const last = page[page.length - 1];
      start = last !== undefined && page.length >= PAGE - 1 ? last.id : end;
    }
  }

  async #range(start: string, end: string): Promise<RawStreamEntry[]> {
    const args = ["XRANGE", this.#options.streamKey, start, end, "COUNT", String(PAGE)];
    return parseXRangeReply(await this.#client.sendCommand(args, AS_BUFFERS));
  }
}

function collectMissed(
  entry: RawStreamEntry,
  nsp: string,
  session: StoredSession,
  rooms: ReadonlySet<Room>,
  missed: unknown[][],
): void {
  if (!isStoredEntry(entry) || entry.fields.get("nsp")?.toString() !== nsp) return;
  const decoded = decodeStreamEntry(entry);
  if (!decoded.ok || decoded.value.kind !== "stored") return; // malformed: never delivered either
  const { broadcast } = decoded.value;
  if (broadcast.isLocal && broadcast.uid !== session.node) return;
  if (isForRooms(rooms, broadcast.opts)) missed.push([...broadcast.packet.data, broadcast.id]);
}
