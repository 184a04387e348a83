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
 * {@link RedisAdapter}). What does not depend on Redis, shared with the JetStream mode, is in
 * {@link StreamAdapterCore}.
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
} from "../adapter/adapter.js";
import {
  type ClusterMessage,
  fromWireOptions,
  toWireOptions,
  toWirePacket,
} from "../adapter/cluster-message.js";
import { snapshotRefreshMs } from "../adapter/live-sessions.js";
import { encodeSession, type StoredSession } from "../adapter/session-codec.js";
import type { LiveSession, SessionTracker } from "../adapter/session-tracker.js";
import { StreamAdapterCore } from "../adapter/stream-adapter-core.js";
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
  readonly #core: StreamAdapterCore;
  readonly #sessionKeyPrefix: string;
  readonly #snapshotTtl: number;
  readonly #claims: SessionClaims | undefined;
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
    this.#sessionKeyPrefix = opts.sessionKeyPrefix ?? "switchboard:session:";
    const ttl = recovery?.maxDisconnectionDuration ?? 0;
    // A snapshot outlives its last write by a full maxDisconnectionDuration.
    this.#snapshotTtl = ttl + snapshotRefreshMs(ttl);
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
    this.#core = new StreamAdapterCore({
      adapter: this,
      port,
      broker: "redis",
      heartbeatInterval: this.heartbeatInterval,
      sessionSnapshots: opts.sessionSnapshots,
      sink: {
        write: (session) => this.#setSession(session, this.#snapshotTtl),
        remove: (pid) => client.sendCommand(["DEL", this.#sessionKeyPrefix + pid]),
      },
      persist: (session) => this.#store?.persist(session) ?? Promise.resolve(),
      isConnected: () => this.isConnected(),
      reportError: (error) => this.reportError(error),
      broadcast: (packet, o) => super.broadcast(packet, o),
    });
    this.roomWatcher = this.#core.live;
    this.#claims =
      this.#core.live &&
      new SessionClaims(client, this.#sessionKeyPrefix, this.uid, this.#snapshotTtl);
  }

  /** Starts the shared reader (once per server), then subscribes and announces this node. */
  override async init(): Promise<void> {
    this.#unregister = this.#links.reader.register(this.port.name, (entry) => this.#onEntry(entry));
    // Every entry after the reader's last id reaches this namespace's handler from then on.
    const opening = this.#links.open().then(() => this.#store?.start(this.#links.reader.lastId));
    await this.#core.start(opening, () => super.init());
  }

  /**
   * Waits for sessions being persisted (a closing server persists them) and restored (a
   * restore whose client left meanwhile puts its session back), then closes.
   */
  override async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    while (this.#core.isBusy) {
      await this.#core.whenSettled();
      await new Promise((resolve) => setImmediate(resolve)); // for the put-backs to start
    }
    this.#unregister?.();
    this.#core.live?.close();
    await super.close();
    await this.#links.release();
  }

  /**
   * A stored packet goes to the stream and reaches sockets (here too) when read back; any
   * other packet goes as in {@link ClusterAdapter}. While Redis is unreachable, stored
   * packets reach this node's sockets only, without an offset, and the error is reported.
   */
  override broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    if (!this.#core.isStored(packet, opts)) {
      super.broadcast(packet, opts);
      return;
    }
    this.#core.store(packet, opts, {
      // Before the links are open (init under way), the append waits for them.
      isUp: !this.#core.isReady || this.isConnected(),
      action: "XADD",
      encode: () => {
        const isLocal = opts.flags.local === true || this.isLocalSocket(opts);
        const fields = encodeStoredFields(
          this.uid,
          this.port.name,
          toWirePacket(packet),
          toWireOptions(opts),
          isLocal,
        );
        return () => this.#append(fields);
      },
    });
  }

  /** Every message but responses goes to the stream. */
  protected override async doPublish(message: ClusterMessage): Promise<void> {
    await this.#append(encodeMessageFields(message));
  }

  /** @see StreamAdapterCore.withOffset */
  protected override withOffset(packet: SocketPacket, opts: BroadcastOptions): SocketPacket {
    return this.#core.withOffset(packet, opts);
  }

  /** The id of the last entry this node delivered. */
  override lastOffset(): string | undefined {
    return this.#store === undefined ? undefined : this.#links.reader.lastId;
  }

  /** @see SessionTracker.trackSession */
  trackSession(session: LiveSession): void {
    this.#core.live?.track(session);
  }

  /** Writes the session to Redis (its ack ledger as a snapshot; the live one stays here too). */
  override persistSession(session: PersistedSession): Promise<void> {
    return this.#core.persist(session);
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
    this.#core.track(restoring);
    return restoring;
  }

  async #restore(pid: string, offset: string | undefined): Promise<RecoveredSession | undefined> {
    const store = this.#store;
    if (store === undefined) return undefined;
    if (!this.isConnected()) throw this.#core.notConnected("restore a session");
    const claims = this.#claims;
    // The claim goes out in the same pipeline, right before the store's GETDEL.
    const take = () => {
      claims?.claim(pid).catch(() => {});
      return store.restore(pid, offset);
    };
    try {
      return await this.#core.restore(pid, {
        take: async () => {
          const taken = await take();
          return taken === undefined && (await this.#reinstateClaim(pid)) ? take() : taken;
        },
        sessionOf: (restored) => restored.session,
        retake: take,
        // NX: never over the session its node saved meanwhile.
        putBack: (snapshot) => this.#setSession(snapshot, this.#snapshotTtl, "NX"),
        missed: async (restored) => restored.missedPackets,
      });
    } finally {
      // After the copy's SET in the pipeline: the session is never only in this process.
      claims?.release(pid).catch(() => {});
    }
  }

  /** Puts back the session a node that died claimed while restoring it (see SessionClaims). */
  async #reinstateClaim(pid: string): Promise<boolean> {
    const node = await this.#claims?.claimant(pid);
    if (node === undefined || node === this.uid) return false;
    const wait = this.#core.settledAt - Date.now();
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
    this.#core.deliver(packet, fromWireOptions(broadcast.opts));
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
}
