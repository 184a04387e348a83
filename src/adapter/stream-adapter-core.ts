/**
 * `StreamAdapterCore`: what the adapters whose recovery store lives outside the process
 * (Redis Streams, NATS JetStream) share, so that each keeps only its broker's I/O. Each
 * adapter holds one: they extend the Redis and NATS pub/sub adapters, so a base class
 * between them and `ClusterAdapter` would sit under those too.
 *
 * - Stored broadcasts go to the adapter's stream once it is open and reach sockets when
 *   read back; one that cannot be stored reaches this node's sockets with the newest offset,
 *   and the error is reported.
 * - Sessions: persisted with this node's uid (the live ack ledger stays here too, see
 *   {@link LedgerCache}), the snapshots of connected sockets (see {@link LiveSessions}),
 *   and the steps of a restore once the session was taken (see {@link admitTaken}).
 * - The writes and restores under way, which the adapter's `close()` waits for.
 *
 * ```
 *   constructed ──start: opening──> ready (stored broadcasts go out) ──announce──> settled
 *                  (stored broadcasts wait for the opening)  (heard from every live node soon)
 * ```
 */
import { AdapterError, ErrorCode } from "../errors.js";
import { type SocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import type {
  BroadcastOptions,
  NamespacePort,
  PersistedSession,
  RecoveredSession,
} from "./adapter.js";
import { LedgerCache } from "./ledger-cache.js";
import {
  admitTaken,
  type ClusterView,
  createLiveSessions,
  type LiveSessions,
  type SnapshotSink,
  type Taken,
} from "./live-sessions.js";
import type { StoredSession } from "./session-codec.js";

/** The adapter a core works for, and the parts of it a core may not reach by itself. */
export interface StreamAdapterCoreOptions {
  readonly adapter: ClusterView & { lastOffset(): string | undefined };
  /** The adapter's namespace. */
  readonly port: NamespacePort;
  /** The broker's name, for error messages (`"redis"`, `"nats"`). */
  readonly broker: string;
  /** `ClusterAdapter`'s: how long until this node has heard from every live node. */
  readonly heartbeatInterval: number;
  /** The `sessionSnapshots` option (default true). */
  readonly sessionSnapshots: boolean | undefined;
  /** Where live snapshots, and the copies a restoring node keeps, are written. */
  readonly sink: SnapshotSink;
  /** Writes the session of a socket that disconnected (with recovery on). */
  persist(session: StoredSession): Promise<void>;
  isConnected(): boolean;
  reportError(error: AdapterError): void;
  /** The base adapters' broadcast (called with `local`: this node's sockets only). */
  broadcast(packet: SocketPacket, opts: BroadcastOptions): void;
}

/** How a stored broadcast goes out (see {@link StreamAdapterCore.store}). */
export interface StoredBroadcast {
  /** Whether the broker can take it now. */
  readonly isUp: boolean;
  /** What sending is called in the error reported when it fails (`"XADD"`). */
  readonly action: string;
  /** Encodes the broadcast now; the function it returns sends it, now or once ready. */
  encode(): () => Promise<unknown>;
}

/** How a restore takes a session from the store and reads what it missed. */
export interface RestoreSteps<T> extends Pick<Taken<T>, "sessionOf" | "retake" | "putBack"> {
  /** Takes the session out of the store (at most once). */
  take(): Promise<T | undefined>;
  /** The EVENT payloads the admitted session missed, each ending with its offset. */
  missed(admitted: T): Promise<unknown[][] | undefined>;
}

/** The part of a stream-backed adapter that does not depend on its broker. */
export class StreamAdapterCore {
  /** Whether connection-state recovery is on (else nothing is stored). */
  readonly isRecovering: boolean;
  /** Snapshots of connected sockets' sessions; undefined when they are not kept. */
  readonly live: LiveSessions | undefined;
  readonly #options: StreamAdapterCoreOptions;
  readonly #ledgers: LedgerCache;
  readonly #pending = new Set<Promise<unknown>>();
  // When this node has heard from every live node: set again when the adapter started.
  #settledAt: number;
  #ready: Promise<void> | undefined;
  #isReady = false;

  constructor(options: StreamAdapterCoreOptions) {
    this.#options = options;
    const { port, adapter } = options;
    this.isRecovering = port.recovery !== undefined;
    this.#ledgers = new LedgerCache(port.recovery?.maxDisconnectionDuration ?? 0);
    this.#settledAt = Date.now() + options.heartbeatInterval;
    const onError = (error: AdapterError) => options.reportError(error);
    const { sessionSnapshots, sink } = options;
    this.live = createLiveSessions(port, sessionSnapshots, adapter.uid, sink, onError);
  }

  /** Whether the stream is open: stored broadcasts go out at once. */
  get isReady(): boolean {
    return this.#isReady;
  }

  /** When this node will have heard from every live node (see {@link admitTaken}). */
  get settledAt(): number {
    return this.#settledAt;
  }

  /** Whether writes or restores are under way. */
  get isBusy(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Starts the adapter: stored broadcasts wait for `opening` (its stream opening), then go
   * out; then `announce` (the base adapter's init) runs, and this node will have heard from
   * every live node one heartbeat interval later.
   */
  async start(opening: Promise<void>, announce: () => Promise<void>): Promise<void> {
    this.#ready = opening.then(() => {
      this.#isReady = true;
    });
    await this.#ready;
    await announce();
    this.#settledAt = Date.now() + this.#options.heartbeatInterval;
  }

  /** Resolves once the work under way now has settled. */
  async whenSettled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** Whether a broadcast is stored (recovery on, an EVENT without ack, not volatile). */
  isStored(packet: SocketPacket, opts: BroadcastOptions): boolean {
    return this.isRecovering && isEvent(packet) && opts.flags.volatile !== true;
  }

  /**
   * Sends a stored broadcast (after the stream opened, when it is opening). When the broker
   * is down or the send fails, the packet reaches this node's sockets only, with the newest
   * offset, and the error is reported.
   */
  store(packet: SocketPacket, opts: BroadcastOptions, how: StoredBroadcast): void {
    const ready = this.#ready;
    if (ready === undefined || !how.isUp) {
      this.#options.reportError(this.notConnected("store a broadcast"));
      this.deliver(this.#withNewestOffset(packet), opts);
      return;
    }
    const send = how.encode();
    const onFailure = (cause: unknown): void => {
      const message = `${how.action} failed: ${String(cause)}`;
      this.#options.reportError(new AdapterError(ErrorCode.ADAPTER_ERROR, message, { cause }));
      this.deliver(this.#withNewestOffset(packet), opts);
    };
    const go = (): void => {
      this.track(send().catch(onFailure));
    };
    // Until the stream is open, an entry could land before where this node reads from.
    if (this.#isReady) go();
    else this.track(ready.then(go, onFailure));
  }

  /**
   * Stored packets get their offset when read back. A volatile event is not stored but
   * carries the newest offset, as with the in-memory store: clients take the last string
   * argument of every event for their offset.
   */
  withOffset(packet: SocketPacket, opts: BroadcastOptions): SocketPacket {
    if (!this.isRecovering || opts.flags.volatile !== true || !isEvent(packet)) return packet;
    return this.#withNewestOffset(packet);
  }

  /** Delivers to this node's sockets only (through the base adapters' local path). */
  deliver(packet: SocketPacket, opts: BroadcastOptions): void {
    this.#options.broadcast(packet, { ...opts, flags: { ...opts.flags, local: true } });
  }

  /** Persists a disconnected socket's session over its snapshot, keeping its live ack ledger. */
  persist(session: PersistedSession): Promise<void> {
    this.live?.persisted(session.sid);
    if (!this.isRecovering) return Promise.resolve();
    if (session.acks !== undefined) this.#ledgers.set(session.pid, session.acks);
    if (!this.#options.isConnected()) return Promise.reject(this.notConnected("persist a session"));
    const done = this.#options.persist({ ...session, node: this.#options.adapter.uid });
    this.track(done);
    return done;
  }

  /**
   * Restores a session (the adapter checked that recovery is on and the broker is up): takes
   * it, admits it ({@link admitTaken}), keeps a copy under this node's name until its
   * socket's snapshot replaces it, then reads what it missed. With this node's live ack
   * ledger when the session was persisted here, else the stored snapshot.
   */
  async restore<T>(pid: string, steps: RestoreSteps<T>): Promise<RecoveredSession | undefined> {
    const taken = await steps.take();
    const live = this.#ledgers.take(pid);
    if (taken === undefined) return undefined;
    const { sessionOf, retake, putBack } = steps;
    const admitted = await admitTaken(this.#options.adapter, {
      taken,
      sessionOf,
      settledAt: this.#settledAt,
      retake,
      putBack,
    });
    if (admitted === undefined) return undefined;
    const stored = sessionOf(admitted);
    if (this.live !== undefined) {
      const copy = { ...stored, node: this.#options.adapter.uid, live: true, restoring: true };
      this.track(this.#options.sink.write(copy).catch(() => {}));
    }
    const missedPackets = await steps.missed(admitted);
    if (missedPackets === undefined) return undefined;
    const { node: _, acks: snapshot, live: _l, restoring: _r, ...session } = stored;
    const acks = live ?? snapshot;
    return acks === undefined ? { ...session, missedPackets } : { ...session, acks, missedPackets };
  }

  /** Counts `promise` as work under way until it settles. */
  track(promise: Promise<unknown>): void {
    const settled: Promise<void> = promise.then(
      () => void this.#pending.delete(settled),
      () => void this.#pending.delete(settled),
    );
    this.#pending.add(settled);
  }

  /** The error for an action that needs the broker while it is down. */
  notConnected(action: string): AdapterError {
    const { port, broker } = this.#options;
    return new AdapterError(
      ErrorCode.ADAPTER_ERROR,
      `cannot ${action} on namespace "${port.name}": ${broker} is not connected`,
    );
  }

  /** The packet with the newest offset appended: a client keeps that offset, not a user string. */
  #withNewestOffset(packet: SocketPacket): SocketPacket {
    const offset = this.#options.adapter.lastOffset() ?? "0";
    return { ...packet, data: [...(packet.data as unknown[]), offset] };
  }
}

/** An EVENT without ack: what may carry an offset. */
function isEvent(packet: SocketPacket): boolean {
  return packet.type === SocketPacketType.EVENT && packet.id === undefined;
}
