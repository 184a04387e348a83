/**
 * `NatsJetStreamAdapter`: the NATS adapter with a recovery store in JetStream, the
 * counterpart of the Redis Streams mode: connection-state recovery works when a client
 * comes back to another node, or to its node after a restart.
 *
 * Every message a node sends to all the others is published into one JetStream stream
 * (subjects in `jetstream-store.ts`), and each node reads its namespace's subjects with an
 * ordered consumer, so all nodes see them in one order. A stored packet (an EVENT without
 * ack, not volatile) is delivered when it is read back, by every node, this one included,
 * and its offset is its stream sequence. Sessions go to a second stream, one subject per
 * session, with a max age of `maxDisconnectionDuration`; a connected socket's session is
 * there too, as a snapshot (see {@link LiveSessions}), for when its node crashes. Responses
 * to requests travel over core NATS, to the requester's own subject (see {@link NatsAdapter}).
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
  ClusterMessageType,
  decodeClusterMessage,
  encodeClusterMessage,
  fromWireOptions,
  toWireOptions,
  toWirePacket,
} from "../adapter/cluster-message.js";
import { LedgerCache } from "../adapter/ledger-cache.js";
import { admitTaken, createLiveSessions, type LiveSessions } from "../adapter/live-sessions.js";
import type { StoredSession } from "../adapter/session-codec.js";
import type { LiveSession, SessionTracker } from "../adapter/session-tracker.js";
import { AdapterError, ErrorCode } from "../errors.js";
import {
  encodeSocketPacket,
  type SocketPacket,
  SocketPacketType,
} from "../protocol/socket-packet.js";
import { CatchUp, type HeldPacket } from "./catch-up.js";
import { JetStreamStore } from "./jetstream-store.js";
import type { JetStreamClient, JetStreamManager, JetStreamMessage } from "./jetstream-types.js";
import {
  encodeSubjectToken,
  NatsAdapter,
  type NatsAdapterOptions,
  type NatsConnection,
} from "./nats-adapter.js";

/** Options of the JetStream mode. */
export interface NatsJetStreamAdapterOptions extends NatsAdapterOptions {
  /** The stream's name; sessions go to `<name>_SESSIONS`. Default `"SWITCHBOARD"`. */
  readonly streamName?: string;
  /**
   * Most messages the stream keeps, set when the stream is created. Default: the server's
   * `connectionStateRecovery.maxPackets` (10000). The stream is shared by every namespace and
   * also carries the other cluster messages (heartbeats, requests).
   */
  readonly maxLen?: number;
  /** Where JetStream keeps the streams. Default `"file"` (survives a nats-server restart). */
  readonly storage?: "file" | "memory";
  /**
   * Keep a snapshot of each connected socket's session in the sessions stream (written on
   * connect, join and leave, and every quarter of `maxDisconnectionDuration`), so the clients
   * of a node that crashed recover too. Default true.
   */
  readonly sessionSnapshots?: boolean;
}

const RESTART_MS = 200;
const READ_TIMEOUT_MS = 5000;

/**
 * Builds the `adapter` server option for a NATS cluster with connection-state recovery
 * across nodes, through JetStream (nats-server started with `-js`).
 * @example
 * import { jetstream, jetstreamManager } from "@nats-io/jetstream";
 * import { connect } from "@nats-io/transport-node";
 * import { Server } from "switchboard";
 * import { createNatsJetStreamAdapter } from "switchboard/nats";
 *
 * const nc = await connect({ servers: "nats://localhost:4222", maxReconnectAttempts: -1 });
 * const adapter = createNatsJetStreamAdapter(nc, jetstream(nc), await jetstreamManager(nc));
 * const io = new Server(3000, { adapter });
 */
export function createNatsJetStreamAdapter(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  opts: NatsJetStreamAdapterOptions = {},
): AdapterConstructor {
  return (port) => new NatsJetStreamAdapter(port, nc, js, jsm, opts);
}

/** A NATS adapter whose messages, stored packets and sessions go through JetStream. */
export class NatsJetStreamAdapter extends NatsAdapter implements SessionTracker {
  readonly #js: JetStreamClient;
  readonly #base: string;
  readonly #store: JetStreamStore;
  readonly #isRecovering: boolean;
  readonly #ledgers: LedgerCache;
  readonly #live: LiveSessions | undefined;
  readonly #heartbeatInterval: number;
  // When this node has heard from every live node: set again when init() ends.
  #settledAt: number;
  readonly #catchUp = new CatchUp();
  readonly #pending = new Set<Promise<unknown>>();
  #lastSeq: number | undefined;
  #ready: Promise<void> | undefined;
  #isReady = false;
  #isClosed = false;
  #wasUp = true;
  #stopReading: (() => void) | undefined;

  constructor(
    port: NamespacePort,
    nc: NatsConnection,
    js: JetStreamClient,
    jsm: JetStreamManager,
    opts: NatsJetStreamAdapterOptions = {},
  ) {
    super(port, nc, opts);
    const prefix = opts.prefix ?? "switchboard";
    this.#js = js;
    this.#base = `${prefix}.stream.${encodeSubjectToken(port.name)}`;
    this.#isRecovering = port.recovery !== undefined;
    const ttl = port.recovery?.maxDisconnectionDuration ?? 120_000;
    this.#ledgers = new LedgerCache(ttl);
    this.#store = new JetStreamStore(js, jsm, {
      stream: opts.streamName ?? "SWITCHBOARD",
      base: this.#base,
      prefix,
      maxLen: opts.maxLen ?? port.recovery?.maxPackets ?? 10_000,
      storage: opts.storage ?? "file",
      ttl,
      readTimeoutMs: READ_TIMEOUT_MS,
    });
    const sink = {
      write: (session: StoredSession) => this.#store.persist(session),
      // An empty message replaces the snapshot (one message per subject) and restores nothing.
      remove: (pid: string) => js.publish(`${prefix}.session.${pid}`, new Uint8Array(0)),
    };
    const onError = (error: AdapterError) => this.reportError(error);
    this.#heartbeatInterval = opts.heartbeatInterval ?? 5000; // ClusterAdapter's default
    this.#settledAt = Date.now() + this.#heartbeatInterval;
    this.#live = createLiveSessions(port, opts.sessionSnapshots, this.uid, sink, onError);
  }

  /** Creates the streams if needed, starts reading after their end, then subscribes. */
  override async init(): Promise<void> {
    this.#ready = this.#store.open().then(async (last) => {
      this.#lastSeq = last;
      await this.#read(last + 1);
      this.#isReady = true;
    });
    await this.#ready;
    await super.init();
    this.#settledAt = Date.now() + this.#heartbeatInterval;
  }

  /** Waits for sessions being persisted, stops reading, then closes as the NATS adapter. */
  override async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await Promise.allSettled([...this.#pending]);
    this.#live?.close();
    this.#stopReading?.();
    await super.close();
  }

  /** A stored packet goes to the stream and reaches sockets (here too) when read back. */
  override broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    if (!this.#isRecovering || !isStored(packet, opts)) {
      super.broadcast(packet, opts);
      return;
    }
    const ready = this.#ready;
    if (!this.isConnected() || ready === undefined) {
      this.reportError(this.#notConnected("store a broadcast"));
      this.#deliver(this.#withNewestOffset(packet), opts);
      return;
    }
    const kind = opts.flags.local === true || this.isLocalSocket(opts) ? "l" : "s";
    const message = {
      uid: this.uid,
      nsp: this.port.name,
      type: ClusterMessageType.BROADCAST,
      data: { packet: toWirePacket(packet), opts: toWireOptions(opts) },
    } as const;
    const onFailure = (cause: unknown): void => {
      this.reportError(
        new AdapterError(ErrorCode.ADAPTER_ERROR, `JetStream publish failed: ${String(cause)}`, {
          cause,
        }),
      );
      this.#deliver(this.#withNewestOffset(packet), opts);
    };
    const publish = (): void => {
      const done = this.#js.publish(`${this.#base}.${kind}`, encodeClusterMessage(message));
      this.#track(done.catch(onFailure));
    };
    if (this.#isReady) publish();
    else this.#track(ready.then(publish, onFailure));
  }

  /** Every message but responses goes to the stream, so all arrive in one order. */
  protected override async doPublish(message: ClusterMessage): Promise<void> {
    await this.#js.publish(`${this.#base}.m`, encodeClusterMessage(message));
  }

  /** A volatile event carries the newest offset (see the in-memory adapter). */
  protected override withOffset(packet: SocketPacket, opts: BroadcastOptions): SocketPacket {
    if (!this.#isRecovering || opts.flags.volatile !== true || !isEvent(packet)) return packet;
    return this.#withNewestOffset(packet);
  }

  override addAll(id: SocketId, rooms: Iterable<Room>): void {
    super.addAll(id, rooms);
    if (this.#catchUp.size > 0) this.#catchUp.claim(id, (held) => this.#write(id, held));
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

  /** @see SessionTracker.trackSession */
  trackSession(session: LiveSession): void {
    this.#live?.track(session);
  }

  /** The stream sequence of the last message this node read for this namespace. */
  override lastOffset(): string | undefined {
    return this.#isRecovering && this.#lastSeq !== undefined ? String(this.#lastSeq) : undefined;
  }

  /** Publishes the session to the sessions stream (the live ack ledger stays here too). */
  override persistSession(session: PersistedSession): Promise<void> {
    this.#live?.persisted(session.sid);
    if (!this.#isRecovering) return Promise.resolve();
    if (session.acks !== undefined) this.#ledgers.set(session.pid, session.acks);
    if (!this.isConnected()) return Promise.reject(this.#notConnected("persist a session"));
    const done = this.#store.persist({ ...session, node: this.uid });
    this.#track(done);
    return done;
  }

  /**
   * Takes the session and reads what it missed from the stream; from the moment the read
   * starts, the live consumer holds this socket's packets (see {@link CatchUp}).
   */
  override async restoreSession(
    pid: string,
    offset: string | undefined,
  ): Promise<RecoveredSession | undefined> {
    if (!this.#isRecovering) return undefined;
    if (!this.isConnected()) throw this.#notConnected("restore a session");
    const taken = await this.#store.take(pid);
    const live = this.#ledgers.take(pid);
    const stored =
      taken &&
      (await admitTaken(this, {
        taken,
        sessionOf: (session) => session,
        settledAt: this.#settledAt,
        retake: () => this.#store.take(pid),
        // Without a compare-and-set, this may replace a session saved meanwhile.
        putBack: (snapshot) => this.#store.persist(snapshot),
      }));
    if (stored === undefined) return undefined;
    // Until its socket's snapshot is written, a copy keeps the session if this process dies.
    if (this.#live !== undefined) {
      this.#track(
        this.#store
          .persist({ ...stored, node: this.uid, live: true, restoring: true })
          .catch(() => {}),
      );
    }
    const from = toSeq(offset ?? stored.startOffset);
    const end = from === undefined ? undefined : await this.#store.intactEnd(from);
    if (from === undefined || end === undefined) return undefined;
    // Replayed up to the stream's end (read after the take), not just to where the live
    // consumer is: live, `local` means this node's sockets, where the replay means the
    // session's node; a consumer behind (under load) would lose that node's local packets
    // and give the socket this node's.
    const upTo = Math.max(from, end, this.#lastSeq ?? from);
    this.#catchUp.begin(stored.sid, new Set(stored.rooms), from);
    this.#catchUp.replayedUpTo(stored.sid, upTo);
    const missedPackets = await this.#store.readMissed(from, upTo, stored).catch(() => undefined);
    if (missedPackets === undefined) {
      this.#catchUp.cancel(stored.sid);
      return undefined;
    }
    const { node: _, acks: snapshot, live: _l, restoring: _r, ...session } = stored;
    const acks = live ?? snapshot;
    return acks === undefined ? { ...session, missedPackets } : { ...session, acks, missedPackets };
  }

  /**
   * NATS came back: the consumer is read again from after the last message seen (an
   * ordered consumer would notice the gap only at its next missed heartbeat).
   */
  protected override checkConnection(): void {
    super.checkConnection();
    const isUp = this.isConnected();
    if (isUp && !this.#wasUp && this.#isReady && !this.#isClosed) {
      this.#stopReading?.();
      this.#readFromLast();
    }
    this.#wasUp = isUp;
  }

  /** Reads this namespace's subjects from `seq` on, until stopped; restarts after a failure. */
  async #read(seq: number): Promise<void> {
    const consumer = await this.#js.consumers.get(this.#store.streamName, {
      filter_subjects: `${this.#base}.*`,
      deliver_policy: "by_start_sequence",
      opt_start_seq: seq,
    });
    const messages = await consumer.consume();
    let isStopped = false;
    this.#stopReading = () => {
      isStopped = true;
      void messages.close();
      consumer.delete().catch(() => {}); // ordered consumers are ephemeral anyway
    };
    const loop = async (): Promise<void> => {
      for await (const m of messages) if (!isStopped) this.#onStreamMessage(m);
    };
    loop()
      .catch((err: unknown) => this.reportError(this.#readFailed(err)))
      .finally(() => {
        if (!isStopped) this.#readFromLast();
      });
  }

  /** Starts reading after the last message seen, retrying until it works or the adapter closes. */
  #readFromLast(): void {
    setTimeout(() => {
      if (this.#isClosed) return;
      this.#read((this.#lastSeq ?? 0) + 1).catch((err: unknown) => {
        this.reportError(this.#readFailed(err));
        this.#readFromLast();
      });
    }, RESTART_MS);
  }

  #onStreamMessage(m: JetStreamMessage): void {
    this.#lastSeq = m.seq;
    const kind = m.subject.slice(m.subject.lastIndexOf(".") + 1);
    if (kind === "m") {
      this.onEncodedMessage(m.data);
    } else if (kind === "s" || kind === "l") {
      this.#onStored(m, kind === "l");
    }
    if (this.#catchUp.size > 0) this.#catchUp.passed(m.seq);
  }

  #onStored(m: JetStreamMessage, isLocal: boolean): void {
    const decoded = decodeClusterMessage(m.data);
    if (!decoded.ok || decoded.value.type !== ClusterMessageType.BROADCAST) {
      this.reportError(
        new AdapterError(ErrorCode.ADAPTER_ERROR, `malformed stored message ${m.seq}`),
      );
      return;
    }
    const message = decoded.value;
    if (!this.#isRecovering || (isLocal && message.uid !== this.uid)) return;
    const data = [...message.data.packet.data, String(m.seq)];
    const opts = fromWireOptions(message.data.opts);
    const packet: SocketPacket = { type: SocketPacketType.EVENT, nsp: this.port.name, data };
    if (this.#catchUp.size === 0) {
      this.#deliver(packet, opts);
      return;
    }
    const held: HeldPacket = { seq: m.seq, data, compress: opts.flags.compress === true };
    const skipped = this.#catchUp.intercept(held, message.data.opts);
    const except = skipped.length === 0 ? opts.except : new Set([...opts.except, ...skipped]);
    this.#deliver(packet, { ...opts, except });
  }

  /** Writes a held packet to one socket. */
  #write(id: SocketId, held: HeldPacket): void {
    const packet: SocketPacket = {
      type: SocketPacketType.EVENT,
      nsp: this.port.name,
      data: [...held.data],
    };
    this.port.deliver(id, encodeSocketPacket(packet), { compress: held.compress });
  }

  #withNewestOffset(packet: SocketPacket): SocketPacket {
    return { ...packet, data: [...(packet.data as unknown[]), String(this.#lastSeq ?? 0)] };
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

  #readFailed(cause: unknown): AdapterError {
    return new AdapterError(ErrorCode.ADAPTER_ERROR, `JetStream read failed: ${String(cause)}`, {
      cause,
    });
  }

  #notConnected(action: string): AdapterError {
    return new AdapterError(
      ErrorCode.ADAPTER_ERROR,
      `cannot ${action} on namespace "${this.port.name}": nats is not connected`,
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

/** A stream sequence from an offset, or undefined when it is not one. */
function toSeq(offset: string | undefined): number | undefined {
  return offset !== undefined && /^\d{1,15}$/.test(offset) ? Number(offset) : undefined;
}
