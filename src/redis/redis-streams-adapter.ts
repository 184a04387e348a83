/**
 * `RedisStreamsAdapter`: the Redis adapter with a recovery store in Redis, so that
 * connection-state recovery works across nodes and across restarts.
 *
 * Every message a node sends to all the others goes to one Redis stream
 * (`XADD ... MAXLEN ~ maxLen`), read by each node with a blocking XREAD on a connection of
 * its own ({@link StreamReader}): broadcasts, socketsJoin, heartbeats... all arrive in one
 * order. A packet the recovery store keeps (an EVENT without ack, not volatile) is not
 * delivered when it is sent, but when it is read back, by every node, this one included:
 * so all nodes deliver stored packets in stream order, and the offset appended to each one
 * is its entry id, from which any node can resume. Each node also keeps the stored packets
 * it read back in memory (bounded by `maxPackets` and `maxDisconnectionDuration`), so a
 * restore is one GETDEL, and XRANGE only reads what came before this node's reader started
 * (once, for every restore that needs it). Sessions of disconnected sockets are written to
 * Redis with a time to live of `maxDisconnectionDuration`, over the snapshot each connected
 * socket's session has there (see {@link LiveSessions}: what a crashed node leaves behind).
 * Responses to requests go through pub/sub, to the requester's own channel (see
 * {@link RedisAdapter}).
 *
 * ```
 *   broadcast, request, heartbeat ─XADD─> stream ─XREAD (each node)─> local sockets / handlers
 *   response ─PUBLISH─> <key>-response#<nsp>#<uid># ─> the requesting node
 *   connect; join, leave (debounced) ─SET PX─> session key (a live snapshot)
 *   disconnect ─SET PX─> session key    reconnect (any node) ─EVAL claim, GETDEL─> session
 *   missed packets <─ memory of what the reader read <─ XRANGE for older ones (after a restart)
 * ```
 */
import type {
  AdapterConstructor,
  BroadcastOptions,
  NamespacePort,
  PersistedSession,
  RecoveredSession,
  Room,
  SocketId,
} from "../adapter/adapter.js";
import {
  type ClusterMessage,
  fromWireOptions,
  toWireOptions,
  toWirePacket,
} from "../adapter/cluster-message.js";
import { LedgerCache } from "../adapter/ledger-cache.js";
import {
  admitTaken,
  createLiveSessions,
  type LiveSessions,
  snapshotRefreshMs,
} from "../adapter/live-sessions.js";
import { encodeSession, type StoredSession } from "../adapter/session-codec.js";
import type { LiveSession, SessionTracker } from "../adapter/session-tracker.js";
import { AdapterError, ErrorCode } from "../errors.js";
import { type SocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import { RedisAdapter, type RedisAdapterOptions } from "./redis-adapter.js";
import { SessionClaims } from "./session-claims.js";
import {
  decodeStreamEntry,
  encodeMessageFields,
  encodeStoredFields,
  type RawStreamEntry,
} from "./stream-codec.js";
import { StreamLinks } from "./stream-links.js";
import type { RedisStreamsClient } from "./stream-reader.js";
import { StreamRecoveryStore } from "./stream-store.js";

/** Options of the Redis Streams mode. */
export interface RedisStreamsAdapterOptions extends RedisAdapterOptions {
  /** The stream's key. Default `"switchboard:stream"`. */
  readonly streamName?: string;
  /**
   * About how many entries the stream keeps (`XADD MAXLEN ~`). Default: the server's
   * `connectionStateRecovery.maxPackets` (10000). The stream is shared by every namespace and
   * also carries the other cluster messages (heartbeats, requests).
   */
  readonly maxLen?: number;
  /** Prefix of the keys holding sessions. Default `"switchboard:session:"`. */
  readonly sessionKeyPrefix?: string;
  /** Most entries one XREAD returns. Default 100. */
  readonly readCount?: number;
  /**
   * Keep a snapshot of each connected socket's session in Redis (written on connect, join
   * and leave, debounced, and every quarter of `maxDisconnectionDuration`), so the clients
   * of a node that crashed recover too. Default true.
   */
  readonly sessionSnapshots?: boolean;
}

/** How long a restore waits for this node's reader to reach the client's offset and the stream's end. */
const CATCH_UP_MS = 2000;

/**
 * Builds the `adapter` server option for a Redis cluster with connection-state recovery
 * across nodes. Give it one connected node-redis client; the adapter duplicates it twice
 * (pub/sub subscriber, blocking stream reader) and closes the duplicates when the server
 * closes.
 * @example
 * import { createClient } from "redis";
 * import { Server } from "switchboard";
 * import { createRedisStreamsAdapter } from "switchboard/redis";
 *
 * const client = createClient({ url: "redis://localhost:6379" });
 * await client.connect();
 * const io = new Server(3000, { adapter: createRedisStreamsAdapter(client) });
 */
export function createRedisStreamsAdapter(
  client: RedisStreamsClient,
  opts: RedisStreamsAdapterOptions = {},
): AdapterConstructor {
  let links: StreamLinks | undefined;
  return (port) => {
    if (links === undefined || links.isReleased) links = new StreamLinks(client, opts);
    return new RedisStreamsAdapter(port, client, links, opts);
  };
}

/** A Redis adapter whose stored packets and sessions live in Redis. */
export class RedisStreamsAdapter extends RedisAdapter implements SessionTracker {
  readonly #client: RedisStreamsClient;
  readonly #links: StreamLinks;
  readonly #streamKey: string;
  readonly #maxLen: number;
  readonly #store: StreamRecoveryStore | undefined;
  readonly #ledgers: LedgerCache;
  readonly #sessionKeyPrefix: string;
  readonly #snapshotTtl: number;
  readonly #live: LiveSessions | undefined;
  readonly #claims: SessionClaims | undefined;
  readonly #heartbeatInterval: number;
  // When this node has heard from every live node: set again when init() ends.
  #settledAt: number;
  readonly #pending = new Set<Promise<unknown>>();
  #ready: Promise<void> | undefined;
  #isReady = false;
  #isClosed = false;
  #unregister: (() => void) | undefined;

  constructor(
    port: NamespacePort,
    client: RedisStreamsClient,
    links: StreamLinks,
    opts: RedisStreamsAdapterOptions = {},
  ) {
    // Responses go to the requester's own channel: no node receives the others' responses.
    super(port, client, links.sub, { ...opts, publishOnSpecificResponseChannel: true });
    links.retain();
    this.#client = client;
    this.#links = links;
    this.#streamKey = opts.streamName ?? "switchboard:stream";
    this.#maxLen = opts.maxLen ?? port.recovery?.maxPackets ?? 10_000;
    const recovery = port.recovery;
    this.#ledgers = new LedgerCache(recovery?.maxDisconnectionDuration ?? 0);
    this.#sessionKeyPrefix = opts.sessionKeyPrefix ?? "switchboard:session:";
    this.#heartbeatInterval = opts.heartbeatInterval ?? 5000; // ClusterAdapter's default
    this.#settledAt = Date.now() + this.#heartbeatInterval;
    const ttl = recovery?.maxDisconnectionDuration ?? 0;
    // A snapshot outlives its last write by a full maxDisconnectionDuration.
    this.#snapshotTtl = ttl + snapshotRefreshMs(ttl);
    const sink = {
      write: (session: StoredSession) => this.#setSession(session, this.#snapshotTtl),
      remove: (pid: string) => client.sendCommand(["DEL", this.#sessionKeyPrefix + pid]),
    };
    const onError = (error: AdapterError) => this.reportError(error);
    this.#live = createLiveSessions(port, opts.sessionSnapshots, this.uid, sink, onError);
    this.#claims =
      this.#live && new SessionClaims(client, this.#sessionKeyPrefix, this.uid, this.#snapshotTtl);
    this.#store =
      recovery === undefined
        ? undefined
        : new StreamRecoveryStore(client, links.reader, {
            streamKey: this.#streamKey,
            nsp: port.name,
            maxPackets: recovery.maxPackets,
            sessionKeyPrefix: this.#sessionKeyPrefix,
            sessionTtl: recovery.maxDisconnectionDuration,
            catchUpMs: CATCH_UP_MS,
          });
  }

  /** Starts the shared reader (once per server), then subscribes and announces this node. */
  override async init(): Promise<void> {
    this.#unregister = this.#links.reader.register(this.port.name, (entry) => this.#onEntry(entry));
    this.#ready = this.#links.open().then(() => {
      this.#isReady = true;
      // Every entry after the reader's last id reaches this namespace's handler from now on.
      this.#store?.start(this.#links.reader.lastId);
    });
    await this.#ready;
    await super.init();
    this.#settledAt = Date.now() + this.#heartbeatInterval;
  }

  /**
   * Waits for sessions being persisted (a closing server persists them) and restored (a
   * restore whose client left meanwhile puts its session back), then closes.
   */
  override async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    while (this.#pending.size > 0) {
      await Promise.allSettled([...this.#pending]);
      await new Promise((resolve) => setImmediate(resolve)); // for the put-backs to start
    }
    this.#unregister?.();
    this.#live?.close();
    await super.close();
    await this.#links.release();
  }

  /**
   * A stored packet goes to the stream and reaches sockets (here too) when read back; any
   * other packet goes as in {@link ClusterAdapter}. While Redis is unreachable, stored
   * packets reach this node's sockets only, without an offset, and the error is reported.
   */
  override broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    if (this.#store === undefined || !isStored(packet, opts)) {
      super.broadcast(packet, opts);
      return;
    }
    const ready = this.#ready;
    // Before the links are open (init under way), the append waits for them below.
    if (ready === undefined || (this.#isReady && !this.isConnected())) {
      this.reportError(this.#notConnected("store a broadcast"));
      this.#deliver(this.#withNewestOffset(packet), opts);
      return;
    }
    const isLocal = opts.flags.local === true || this.isLocalSocket(opts);
    const fields = encodeStoredFields(
      this.uid,
      this.port.name,
      toWirePacket(packet),
      toWireOptions(opts),
      isLocal,
    );
    const onFailure = (cause: unknown): void => {
      this.reportError(
        new AdapterError(ErrorCode.ADAPTER_ERROR, `XADD failed: ${String(cause)}`, { cause }),
      );
      this.#deliver(this.#withNewestOffset(packet), opts);
    };
    const append = (): void => {
      this.#track(this.#append(fields).catch(onFailure));
    };
    // Until the reader knows where the stream ends, an entry could land before its start.
    if (this.#isReady) append();
    else this.#track(ready.then(append, onFailure));
  }

  /** Every message but responses goes to the stream. */
  protected override async doPublish(message: ClusterMessage): Promise<void> {
    await this.#append(encodeMessageFields(message));
  }

  /**
   * Stored packets get their offset (their entry id) when read back. A volatile event is not
   * stored but carries the newest offset, as with the in-memory store: clients take the last
   * string argument of every event for their offset.
   */
  protected override withOffset(packet: SocketPacket, opts: BroadcastOptions): SocketPacket {
    if (this.#store === undefined || opts.flags.volatile !== true || !isEvent(packet)) {
      return packet;
    }
    return this.#withNewestOffset(packet);
  }

  /** The id of the last entry this node delivered. */
  override lastOffset(): string | undefined {
    return this.#store === undefined ? undefined : this.#links.reader.lastId;
  }

  /** @see SessionTracker.trackSession */
  trackSession(session: LiveSession): void {
    this.#live?.track(session);
  }

  override addAll(id: SocketId, rooms: Iterable<Room>): void {
    super.addAll(id, rooms);
    this.#live?.touch(id);
  }

  override del(id: SocketId, room: Room): void {
    super.del(id, room);
    this.#live?.touch(id);
  }

  /** A socket that leaves without a persisted session (on purpose) leaves no snapshot either. */
  override delAll(id: SocketId): void {
    super.delAll(id);
    this.#live?.left(id);
  }

  /** Writes the session to Redis (its ack ledger as a snapshot; the live one stays here too). */
  override persistSession(session: PersistedSession): Promise<void> {
    this.#live?.persisted(session.sid);
    if (this.#store === undefined) return Promise.resolve();
    if (session.acks !== undefined) this.#ledgers.set(session.pid, session.acks);
    if (!this.isConnected()) return Promise.reject(this.#notConnected("persist a session"));
    const done = this.#store.persist({ ...session, node: this.uid });
    this.#track(done);
    return done;
  }

  /**
   * Reads the session and its missed packets from Redis; with this node's live ack ledger
   * when the session was persisted here, else the stored snapshot.
   */
  override restoreSession(
    pid: string,
    offset: string | undefined,
  ): Promise<RecoveredSession | undefined> {
    const restoring = this.#restore(pid, offset);
    this.#track(restoring);
    return restoring;
  }

  async #restore(pid: string, offset: string | undefined): Promise<RecoveredSession | undefined> {
    if (this.#store === undefined) return undefined;
    if (!this.isConnected()) throw this.#notConnected("restore a session");
    const store = this.#store;
    const claims = this.#claims;
    // The claim goes out in the same pipeline, right before the store's GETDEL.
    const take = () => {
      claims?.claim(pid).catch(() => {});
      return store.restore(pid, offset);
    };
    try {
      let taken = await take();
      if (taken === undefined && (await this.#reinstateClaim(pid))) taken = await take();
      const live = this.#ledgers.take(pid);
      if (taken === undefined) return undefined;
      const restored = await admitTaken(this, {
        taken,
        sessionOf: (restored) => restored.session,
        settledAt: this.#settledAt,
        retake: take,
        // NX: never over the session its node saved meanwhile.
        putBack: (snapshot) => this.#setSession(snapshot, this.#snapshotTtl, "NX"),
      });
      if (restored === undefined) return undefined;
      // Until its socket's snapshot is written, a copy under this node's name keeps the session.
      if (this.#live !== undefined) {
        const copy = { ...restored.session, node: this.uid, live: true, restoring: true };
        this.#track(this.#setSession(copy, this.#snapshotTtl).catch(() => {}));
      }
      const { node: _, acks: stored, live: _l, restoring: _r, ...session } = restored.session;
      const acks = live ?? stored;
      const { missedPackets } = restored;
      return acks === undefined
        ? { ...session, missedPackets }
        : { ...session, acks, missedPackets };
    } finally {
      // After the copy's SET in the pipeline: the session is never only in this process.
      claims?.release(pid).catch(() => {});
    }
  }

  /** Puts back the session a node that died claimed while restoring it (see SessionClaims). */
  async #reinstateClaim(pid: string): Promise<boolean> {
    const node = await this.#claims?.claimant(pid);
    if (node === undefined || node === this.uid) return false;
    const wait = this.#settledAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return !this.isLiveNode(node) && (this.#claims?.reinstate(pid) ?? false);
  }

  #onEntry(entry: RawStreamEntry): void {
    const decoded = decodeStreamEntry(entry);
    if (!decoded.ok) {
      const reason = `malformed stream entry: ${decoded.error.message}`;
      this.reportError(new AdapterError(ErrorCode.ADAPTER_ERROR, reason, { cause: decoded.error }));
      return;
    }
    const value = decoded.value;
    if (value.kind === "message") {
      this.onMessage(value.message);
      return;
    }
    if (value.kind !== "stored" || this.#store === undefined) return;
    const { broadcast } = value;
    this.#store.onStored(broadcast);
    if (broadcast.isLocal && broadcast.uid !== this.uid) return;
    const data = [...broadcast.packet.data, broadcast.id];
    const packet: SocketPacket = { type: SocketPacketType.EVENT, nsp: this.port.name, data };
    this.#deliver(packet, fromWireOptions(broadcast.opts));
  }

  #setSession(session: StoredSession, ttl: number, ...flags: string[]): Promise<unknown> {
    const key = this.#sessionKeyPrefix + session.pid;
    return this.#client.sendCommand([
      "SET",
      key,
      encodeSession(session),
      "PX",
      String(ttl),
      ...flags,
    ]);
  }

  #append(fields: readonly (string | Buffer)[]): Promise<unknown> {
    const args = ["XADD", this.#streamKey, "MAXLEN", "~", String(this.#maxLen), "*", ...fields];
    return this.#client.sendCommand(args);
  }

  /** The packet with the newest offset appended: a client keeps that offset, not a user string. */
  #withNewestOffset(packet: SocketPacket): SocketPacket {
    const data = [...(packet.data as unknown[]), this.#links.reader.lastId ?? "0"];
    return { ...packet, data };
  }

  /** Delivers to this node's sockets only (through the base adapters' local path). */
  #deliver(packet: SocketPacket, opts: BroadcastOptions): void {
    super.broadcast(packet, { ...opts, flags: { ...opts.flags, local: true } });
  }

  #track(promise: Promise<unknown>): void {
    const settled: Promise<void> = promise.then(
      () => void this.#pending.delete(settled),
      () => void this.#pending.delete(settled),
    );
    this.#pending.add(settled);
  }

  #notConnected(action: string): AdapterError {
    return new AdapterError(
      ErrorCode.ADAPTER_ERROR,
      `cannot ${action} on namespace "${this.port.name}": redis is not connected`,
    );
  }
}

/** An EVENT without ack: what may carry an offset. */
function isEvent(packet: SocketPacket): boolean {
  return packet.type === SocketPacketType.EVENT && packet.id === undefined;
}

/** Stored as the in-memory store stores it: EVENT, no ack, not volatile. */
function isStored(packet: SocketPacket, opts: BroadcastOptions): boolean {
  return isEvent(packet) && opts.flags.volatile !== true;
}
