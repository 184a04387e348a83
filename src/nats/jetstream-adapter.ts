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
 * What does not depend on NATS, shared with the Redis Streams mode, is in
 * {@link StreamAdapterCore}.
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
import type { StoredSession } from "../adapter/session-codec.js";
import type { LiveSession, SessionTracker } from "../adapter/session-tracker.js";
import { StreamAdapterCore } from "../adapter/stream-adapter-core.js";
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
  readonly #core: StreamAdapterCore;
  readonly #catchUp = new CatchUp();
  #lastSeq: number | undefined;
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
    const ttl = port.recovery?.maxDisconnectionDuration ?? 120_000;
    this.#store = new JetStreamStore(js, jsm, {
      stream: opts.streamName ?? "SWITCHBOARD",
      base: this.#base,
      prefix,
      maxLen: opts.maxLen ?? port.recovery?.maxPackets ?? 10_000,
      storage: opts.storage ?? "file",
      ttl,
      readTimeoutMs: READ_TIMEOUT_MS,
    });
    this.#core = new StreamAdapterCore({
      adapter: this,
      port,
      broker: "nats",
      heartbeatInterval: this.heartbeatInterval,
      sessionSnapshots: opts.sessionSnapshots,
      sink: {
        write: (session: StoredSession) => this.#store.persist(session),
        // An empty message replaces the snapshot (one message per subject) and restores nothing.
        remove: (pid: string) => js.publish(`${prefix}.session.${pid}`, new Uint8Array(0)),
      },
      persist: (session) => this.#store.persist(session),
      isConnected: () => this.isConnected(),
      reportError: (error) => this.reportError(error),
      broadcast: (packet, o) => super.broadcast(packet, o),
    });
    this.roomWatcher = this.#core.live;
  }

  /** Creates the streams if needed, starts reading after their end, then subscribes. */
  override async init(): Promise<void> {
    const opening = this.#store.open().then(async (last) => {
      this.#lastSeq = last;
      await this.#read(last + 1);
    });
    await this.#core.start(opening, () => super.init());
  }

  /** Waits for sessions being persisted, stops reading, then closes as the NATS adapter. */
  override async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#core.whenSettled();
    this.#core.live?.close();
    this.#stopReading?.();
    await super.close();
  }

  /** A stored packet goes to the stream and reaches sockets (here too) when read back. */
  override broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    if (!this.#core.isStored(packet, opts)) {
      super.broadcast(packet, opts);
      return;
    }
    this.#core.store(packet, opts, {
      isUp: this.isConnected(),
      action: "JetStream publish",
      encode: () => {
        const kind = opts.flags.local === true || this.isLocalSocket(opts) ? "l" : "s";
        const message = {
          uid: this.uid,
          nsp: this.port.name,
          type: ClusterMessageType.BROADCAST,
          data: { packet: toWirePacket(packet), opts: toWireOptions(opts) },
        } as const;
        return () => this.#js.publish(`${this.#base}.${kind}`, encodeClusterMessage(message));
      },
    });
  }

  /** Every message but responses goes to the stream, so all arrive in one order. */
  protected override async doPublish(message: ClusterMessage): Promise<void> {
    await this.#js.publish(`${this.#base}.m`, encodeClusterMessage(message));
  }

  /** @see StreamAdapterCore.withOffset */
  protected override withOffset(packet: SocketPacket, opts: BroadcastOptions): SocketPacket {
    return this.#core.withOffset(packet, opts);
  }

  /** A socket joined rooms: packets held for it while it was restored are written now. */
  override addAll(id: SocketId, rooms: Iterable<Room>): void {
    super.addAll(id, rooms);
    if (this.#catchUp.size > 0) this.#catchUp.claim(id, (held) => this.#write(id, held));
  }

  /** @see SessionTracker.trackSession */
  trackSession(session: LiveSession): void {
    this.#core.live?.track(session);
  }

  /** The stream sequence of the last message this node read for this namespace. */
  override lastOffset(): string | undefined {
    return this.#core.isRecovering && this.#lastSeq !== undefined
      ? String(this.#lastSeq)
      : undefined;
  }

  /** Publishes the session to the sessions stream (the live ack ledger stays here too). */
  override persistSession(session: PersistedSession): Promise<void> {
    return this.#core.persist(session);
  }

  /**
   * Takes the session and reads what it missed from the stream; from the moment the read
   * starts, the live consumer holds this socket's packets (see {@link CatchUp}).
   */
  override async restoreSession(
    pid: string,
    offset: string | undefined,
  ): Promise<RecoveredSession | undefined> {
    if (!this.#core.isRecovering) return undefined;
    if (!this.isConnected()) throw this.#core.notConnected("restore a session");
    return this.#core.restore(pid, {
      take: () => this.#store.take(pid),
      sessionOf: (session) => session,
      retake: () => this.#store.take(pid),
      // Without a compare-and-set, this may replace a session saved meanwhile.
      putBack: (snapshot) => this.#store.persist(snapshot),
      missed: (stored) => this.#readMissed(stored, offset),
    });
  }

  /**
   * NATS came back: the consumer is read again from after the last message seen (an
   * ordered consumer would notice the gap only at its next missed heartbeat).
   */
  protected override checkConnection(): void {
    super.checkConnection();
    const isUp = this.isConnected();
    if (isUp && !this.#wasUp && this.#core.isReady && !this.#isClosed) {
      this.#stopReading?.();
      this.#readFromLast();
    }
    this.#wasUp = isUp;
  }

  /** The packets a restored session missed after `offset`, held back from the live consumer. */
  async #readMissed(
    stored: StoredSession,
    offset: string | undefined,
  ): Promise<unknown[][] | undefined> {
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
    if (missedPackets === undefined) this.#catchUp.cancel(stored.sid);
    return missedPackets;
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
    if (!this.#core.isRecovering || (isLocal && message.uid !== this.uid)) return;
    const data = [...message.data.packet.data, String(m.seq)];
    const opts = fromWireOptions(message.data.opts);
    const packet: SocketPacket = { type: SocketPacketType.EVENT, nsp: this.port.name, data };
    if (this.#catchUp.size === 0) {
      this.#core.deliver(packet, opts);
      return;
    }
    const held: HeldPacket = { seq: m.seq, data, compress: opts.flags.compress === true };
    const skipped = this.#catchUp.intercept(held, message.data.opts);
    const except = skipped.length === 0 ? opts.except : new Set([...opts.except, ...skipped]);
    this.#core.deliver(packet, { ...opts, except });
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

  #readFailed(cause: unknown): AdapterError {
    return new AdapterError(ErrorCode.ADAPTER_ERROR, `JetStream read failed: ${String(cause)}`, {
      cause,
    });
  }
}

/** A stream sequence from an offset, or undefined when it is not one. */
function toSeq(offset: string | undefined): number | undefined {
  return offset !== undefined && /^\d{1,15}$/.test(offset) ? Number(offset) : undefined;
}
