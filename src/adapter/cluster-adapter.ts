/**
 * `ClusterAdapter`: the base of every adapter that spans processes. It keeps the in-memory
 * room index for this node's sockets and turns each cross-node operation into a
 * {@link ClusterMessage}; a subclass only moves messages through its broker (publish,
 * publish a response to one node, subscribe, unsubscribe).
 *
 * Node liveness: every node publishes a HEARTBEAT each `heartbeatInterval` ms (and an
 * INITIAL_HEARTBEAT when it starts or its broker connection comes back, which the others
 * answer at once); a node not heard from for `heartbeatTimeout` ms, or that sent
 * ADAPTER_CLOSE, is gone. Requests wait only for live nodes, and stop waiting for a node the
 * moment it is gone, so `serverCount()` and every request reflect the live cluster.
 *
 * Broker down: operations that promise cluster-wide answers (`fetchSockets`, `allSockets`,
 * `serverSideEmit` with acks) fail fast with an {@link AdapterError}; fire-and-forget ones
 * (broadcasts, `socketsJoin`...) still act on this node's sockets and report the error to
 * `onError`. Other nodes are forgotten until the connection returns.
 */
import { randomBytes } from "node:crypto";
import { AdapterError, ErrorCode } from "../errors.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import type {
  BroadcastOptions,
  NamespacePort,
  NodeChannel,
  NodeRequestHandler,
  Room,
  SocketDetails,
  SocketId,
} from "./adapter.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterRequest,
  type ClusterResponse,
  decodeClusterMessage,
  isClusterResponse,
  type LivenessMessage,
  type TargetedMessage,
  toWireOptions,
  toWirePacket,
  type Unsent,
} from "./cluster-message.js";
import {
  emitWithAcks,
  fetchRemoteSockets,
  type QueryContext,
  requestBroadcastAcks,
} from "./cluster-queries.js";
import { PendingRequests } from "./cluster-requests.js";
import { answerRequest, type LocalOperations } from "./cluster-responder.js";
import { InMemoryAdapter } from "./in-memory-adapter.js";
import { NodeRequests } from "./node-requests.js";
import type { RoomWatcher } from "./session-tracker.js";

/** Options shared by every cluster adapter (names as in Socket.IO's adapters). */
export interface ClusterAdapterOptions {
  /** How long a request (fetchSockets, serverSideEmit acks) waits for other nodes. Default 5000 ms. */
  readonly requestsTimeout?: number;
  /** How often this node announces it is alive. Default 5000 ms. */
  readonly heartbeatInterval?: number;
  /** How long a silent node counts as alive. Default 10000 ms. */
  readonly heartbeatTimeout?: number;
  /**
   * Receives cross-node failures: broker unreachable, publish failed, malformed message.
   * Default: a console warning, once per distinct error until the broker connection returns.
   */
  readonly onError?: (error: AdapterError) => void;
}

type MessageWithoutSender = Unsent<ClusterRequest | LivenessMessage>;

/**
 * A cluster-ready adapter. Subclasses implement {@link ClusterAdapter.doPublish},
 * {@link ClusterAdapter.doPublishResponse}, {@link ClusterAdapter.subscribe},
 * {@link ClusterAdapter.unsubscribe} and {@link ClusterAdapter.isConnected}, and hand every
 * message they receive to {@link ClusterAdapter.onMessage}.
 */
export abstract class ClusterAdapter extends InMemoryAdapter implements NodeChannel {
  /** This node's id in the cluster. */
  readonly uid: string;
  /** Requests to one node (this adapter is its own {@link NodeChannel}). */
  readonly nodeChannel: NodeChannel = this;
  /** Live nodes (not this one), with when each was last heard from. */
  readonly #nodes = new Map<string, number>();
  readonly #requests = new PendingRequests();
  readonly #requestsTimeout: number;
  readonly #heartbeatInterval: number;
  readonly #heartbeatTimeout: number;
  readonly #onError: (error: AdapterError) => void;
  readonly #local: LocalOperations;
  readonly #nodeRequests: NodeRequests;
  readonly #queries: QueryContext;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #isClosed = false;
  #wasConnected = false;
  /** Told of this node's sockets' joins and leaves, when a subclass follows them. */
  protected roomWatcher: RoomWatcher | undefined;

  constructor(port: NamespacePort, opts: ClusterAdapterOptions = {}) {
    super(port);
    this.uid = randomBytes(8).toString("hex");
    this.#requestsTimeout = opts.requestsTimeout ?? 5000;
    this.#heartbeatInterval = opts.heartbeatInterval ?? 5000;
    this.#heartbeatTimeout = opts.heartbeatTimeout ?? 10_000;
    this.#onError = opts.onError ?? warnOncePerError();
    this.#nodeRequests = new NodeRequests(this.uid, (uid, message) => this.#sendTo(uid, message));
    this.#queries = {
      requests: this.#requests,
      nodes: this.#nodes,
      timeout: this.#requestsTimeout,
      publish: (message, onFailure) => this.#publish(message, onFailure),
    };
    this.#local = {
      broadcast: (packet, o) => super.broadcast(packet, o),
      broadcastWithAck: (packet, o, onExpected, onAck) =>
        super.broadcastWithAck(packet, o, onExpected, onAck),
      fetchSockets: (o) => super.fetchSockets(o),
      addSockets: (o, rooms) => super.addSockets(o, rooms),
      delSockets: (o, rooms) => super.delSockets(o, rooms),
      disconnectSockets: (o, close) => super.disconnectSockets(o, close),
    };
  }

  /** Publishes a message to every node (this one may receive it too; it is ignored). */
  protected abstract doPublish(message: ClusterMessage): Promise<void>;
  /**
   * Publishes a message to one node: a response to the node that sent a request, or a
   * Switchboard node request (NODE_*), which must go to that node's own channel.
   */
  protected abstract doPublishResponse(uid: string, message: TargetedMessage): Promise<void>;
  /** Starts receiving this namespace's messages. */
  protected abstract subscribe(): Promise<void>;
  /** Stops receiving this namespace's messages. */
  protected abstract unsubscribe(): Promise<void>;
  /** Whether the broker connection is up right now (checked before every publish). */
  protected abstract isConnected(): boolean;

  /** Subscribes, then announces this node and starts its heartbeat. */
  override async init(): Promise<void> {
    await this.subscribe();
    if (this.#isClosed) return;
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatInterval);
    this.#heartbeat.unref?.();
    this.checkConnection(); // announces this node (INITIAL_HEARTBEAT) when connected
  }

  /** Tells the other nodes this one leaves, ends pending requests and unsubscribes. */
  override async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearInterval(this.#heartbeat);
    if (this.isConnected()) {
      await this.doPublish(
        this.#envelope({ type: ClusterMessageType.ADAPTER_CLOSE, data: undefined }),
      ).catch(
        () => {}, // best effort: the others will time this node out anyway
      );
    }
    this.#nodes.clear();
    this.#requests.completeAll();
    this.#nodeRequests.close();
    await this.unsubscribe();
  }

  /** How often this node announces it is alive, in ms (`heartbeatInterval`, default 5000). */
  protected get heartbeatInterval(): number {
    return this.#heartbeatInterval;
  }

  override addAll(id: SocketId, rooms: Iterable<Room>): void {
    super.addAll(id, rooms);
    this.roomWatcher?.touch(id);
  }

  override del(id: SocketId, room: Room): void {
    super.del(id, room);
    this.roomWatcher?.touch(id);
  }

  override delAll(id: SocketId): void {
    super.delAll(id);
    this.roomWatcher?.left(id);
  }

  /** This node plus every node heard from within `heartbeatTimeout`. */
  override serverCount(): Promise<number> {
    return Promise.resolve(1 + this.#nodes.size);
  }

  override broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    if (opts.flags.local !== true && !this.isLocalSocket(opts)) {
      this.#publish({
        type: ClusterMessageType.BROADCAST,
        data: { packet: toWirePacket(packet), opts: toWireOptions(opts) },
      });
    }
    super.broadcast(packet, opts);
  }

  override broadcastWithAck(
    packet: SocketPacket,
    opts: BroadcastOptions,
    onExpected: (count: number) => void,
    onAck: (args: unknown[]) => void,
  ): void {
    if (opts.flags.local !== true)
      requestBroadcastAcks(this.#queries, packet, opts, onExpected, onAck);
    super.broadcastWithAck(packet, opts, onExpected, onAck);
  }

  /** @see NodeChannel.isLiveNode */
  isLiveNode(uid: string): boolean {
    return this.#nodes.has(uid);
  }

  /** @see NodeChannel.requestNode */
  requestNode(uid: string, body: unknown, timeout: number, signal?: AbortSignal): Promise<unknown> {
    if (!this.#nodes.has(uid)) {
      return Promise.reject(new AdapterError(ErrorCode.ADAPTER_ERROR, `node ${uid} is not alive`));
    }
    return this.#nodeRequests.request(uid, body, timeout, signal);
  }

  /** @see NodeChannel.setNodeRequestHandler */
  setNodeRequestHandler(handler: NodeRequestHandler | undefined): void {
    this.#nodeRequests.setHandler(handler);
  }

  /** Ids of the matching sockets on every node. */
  override async sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    const found = await this.fetchSockets({ rooms, except: new Set(), flags: {} });
    return new Set(found.map((socket) => socket.id));
  }

  /** This node's matching socket ids, without asking the others. */
  protected localSockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    return super.sockets(rooms);
  }

  /**
   * Details of the matching sockets on every live node. Resolves once every live node
   * answered, or at `requestsTimeout` with the answers received; rejects at once with an
   * {@link AdapterError} when the broker is down.
   */
  override async fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]> {
    const local = await super.fetchSockets(opts);
    if (opts.flags.local === true) return local;
    this.#assertConnected("fetch sockets");
    return fetchRemoteSockets(this.#queries, opts, local);
  }

  override addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    super.addSockets(opts, rooms);
    if (opts.flags.local === true) return;
    this.#publish({
      type: ClusterMessageType.SOCKETS_JOIN,
      data: { opts: toWireOptions(opts), rooms: [...rooms] },
    });
  }

  override delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    super.delSockets(opts, rooms);
    if (opts.flags.local === true) return;
    this.#publish({
      type: ClusterMessageType.SOCKETS_LEAVE,
      data: { opts: toWireOptions(opts), rooms: [...rooms] },
    });
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    super.disconnectSockets(opts, close);
    if (opts.flags.local === true) return;
    this.#publish({
      type: ClusterMessageType.DISCONNECT_SOCKETS,
      data: { opts: toWireOptions(opts), close },
    });
  }

  /**
   * Runs the other nodes' server-side listeners. With `onAck`: resolves with one response
   * per live node; at the timeout, with a TimeoutError and the responses received; at once
   * with an AdapterError when the broker is down.
   */
  override serverSideEmit(
    args: unknown[],
    onAck?: (err: Error | null, responses: unknown[]) => void,
    timeout?: number,
  ): void {
    if (onAck === undefined) {
      this.#publish({ type: ClusterMessageType.SERVER_SIDE_EMIT, data: { packet: args } });
      return;
    }
    if (!this.isConnected()) {
      onAck(this.#notConnected("emit to other servers"), []);
      return;
    }
    emitWithAcks(this.#queries, args, timeout ?? this.#requestsTimeout, onAck);
  }

  /** Decodes a message in the standard MessagePack format and handles it. */
  protected onEncodedMessage(bytes: Uint8Array): void {
    const decoded = decodeClusterMessage(bytes);
    if (decoded.ok) this.onMessage(decoded.value);
    else
      this.reportError(
        new AdapterError(ErrorCode.ADAPTER_ERROR, "malformed cluster message", {
          cause: decoded.error,
        }),
      );
  }

  /** Handles a message from the broker: liveness, a request to act on, or a response. */
  protected onMessage(message: ClusterMessage): void {
    if (this.#isClosed || message.uid === this.uid || message.nsp !== this.port.name) return;
    switch (message.type) {
      case ClusterMessageType.INITIAL_HEARTBEAT:
        this.#nodes.set(message.uid, Date.now());
        this.#publishQuietly({ type: ClusterMessageType.HEARTBEAT, data: undefined });
        return;
      case ClusterMessageType.HEARTBEAT:
        this.#nodes.set(message.uid, Date.now());
        return;
      case ClusterMessageType.ADAPTER_CLOSE:
        this.#forget(message.uid);
        return;
    }
    if (this.#nodes.has(message.uid)) this.#nodes.set(message.uid, Date.now());
    if (
      message.type === ClusterMessageType.NODE_REQUEST ||
      message.type === ClusterMessageType.NODE_RESPONSE ||
      message.type === ClusterMessageType.NODE_ABORT
    ) {
      this.#nodeRequests.onMessage(message);
    } else if (isClusterResponse(message)) this.#requests.onResponse(message);
    else
      answerRequest(message, this.#local, this.port, (uid, response) =>
        this.#respond(uid, response),
      );
  }

  /**
   * Compares the broker connection with what it was: when it dropped, the other nodes are
   * unreachable, so they are forgotten; when it came back, this node announces itself so
   * they answer at once. Subclasses call it on their client's connection events; the
   * heartbeat calls it too.
   */
  protected checkConnection(): void {
    const isConnected = this.isConnected();
    if (this.#isClosed || isConnected === this.#wasConnected) return;
    this.#wasConnected = isConnected;
    if (isConnected) {
      this.#publishQuietly({ type: ClusterMessageType.INITIAL_HEARTBEAT, data: undefined });
    } else {
      for (const uid of [...this.#nodes.keys()]) this.#forget(uid);
    }
  }

  /** Reports a cross-node failure to `onError`. */
  protected reportError(error: AdapterError): void {
    this.#onError(error);
  }

  /**
   * True when the target is one socket of this node, by its id: `socket.emit` goes through
   * `broadcast` when connection-state recovery is on, and must not cost a publish. (A socket
   * on another node joining a room named after this socket's id would be missed; Socket.IO
   * code does not do that.)
   */
  protected isLocalSocket(opts: BroadcastOptions): boolean {
    if (opts.rooms.size !== 1 || opts.except.size !== 0) return false;
    for (const room of opts.rooms) return this.socketRooms(room) !== undefined;
    return false;
  }

  #beat(): void {
    this.checkConnection();
    const deadline = Date.now() - this.#heartbeatTimeout;
    for (const [uid, seen] of [...this.#nodes]) if (seen < deadline) this.#forget(uid);
    this.#publishQuietly({ type: ClusterMessageType.HEARTBEAT, data: undefined });
  }

  #forget(uid: string): void {
    if (!this.#nodes.delete(uid)) return;
    this.#requests.onNodeGone(uid);
    this.#nodeRequests.onNodeGone(uid);
  }

  #envelope(message: MessageWithoutSender): ClusterMessage {
    return { ...message, uid: this.uid, nsp: this.port.name } as ClusterMessage;
  }

  /** Publishes, or reports why it cannot; `onFailure` also learns of the failure. */
  #publish(message: MessageWithoutSender, onFailure?: (error: AdapterError) => void): void {
    const fail = (error: AdapterError): void => {
      this.reportError(error);
      onFailure?.(error);
    };
    if (!this.isConnected()) {
      fail(this.#notConnected(`publish message type ${message.type}`));
      return;
    }
    this.doPublish(this.#envelope(message)).catch((cause: unknown) =>
      fail(
        new AdapterError(ErrorCode.ADAPTER_ERROR, `publish failed: ${String(cause)}`, { cause }),
      ),
    );
  }

  /** Heartbeats: skipped while disconnected, failures ignored (the next one will do). */
  #publishQuietly(message: MessageWithoutSender): void {
    if (!this.isConnected()) return;
    this.doPublish(this.#envelope(message)).catch(() => {});
  }

  #respond(requesterUid: string, message: Unsent<ClusterResponse>): void {
    this.#sendTo(requesterUid, message).catch((cause: unknown) => {
      // Broker down: the requester will time out, or forget this node.
      if (this.isConnected()) this.reportError(asAdapterError("response failed", cause));
    });
  }

  /** Publishes to one node's own channel; rejects when the broker is down or publish fails. */
  async #sendTo(uid: string, message: Unsent<TargetedMessage>): Promise<void> {
    if (!this.isConnected()) throw this.#notConnected(`send message type ${message.type}`);
    const stamped = { ...message, uid: this.uid, nsp: this.port.name } as TargetedMessage;
    await this.doPublishResponse(uid, stamped);
  }

  #assertConnected(action: string): void {
    if (!this.isConnected()) throw this.#notConnected(action);
  }

  #notConnected(action: string): AdapterError {
    return new AdapterError(
      ErrorCode.ADAPTER_ERROR,
      `cannot ${action} on namespace "${this.port.name}": the broker is not connected`,
    );
  }
}

function asAdapterError(what: string, cause: unknown): AdapterError {
  return new AdapterError(ErrorCode.ADAPTER_ERROR, `${what}: ${String(cause)}`, { cause });
}

/** The default `onError`: one console warning per distinct message. */
function warnOncePerError(): (error: AdapterError) => void {
  const seen = new Set<string>();
  return (error) => {
    if (seen.has(error.message)) return;
    if (seen.size > 100) seen.clear();
    seen.add(error.message);
    console.warn(`switchboard adapter: ${error.message}`);
  };
}
