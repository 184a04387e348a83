/**
 * The Adapter interface: how a namespace resolves rooms to sockets and reaches sockets on
 * other nodes. The in-memory adapter (the default) implements it for one process; the Redis
 * and NATS adapters implement it across processes.
 *
 * Adapters never touch server internals. A namespace hands its adapter a
 * {@link NamespacePort}: the adapter encodes a broadcast once and asks the port to deliver
 * the same encoded frames to each local socket.
 */
import type { RawData } from "../protocol/engine-packet.js";
import type { SocketPacket } from "../protocol/socket-packet.js";

/** A socket id. */
export type SocketId = string;
/** A room name. Every socket is also in the room named after its own id. */
export type Room = string;

/** Flags carried by a broadcast. */
export interface BroadcastFlags {
  /** Drop the packet for sockets that cannot take it right now instead of buffering it. */
  readonly volatile?: boolean;
  /** Ask the transport to compress the packet (permessage-deflate / gzip). */
  readonly compress?: boolean;
  /** Deliver to this node's sockets only. */
  readonly local?: boolean;
  /** Ack timeout in milliseconds, for broadcasts with acks. */
  readonly timeout?: number;
}

/** Who a broadcast or a bulk operation targets. */
export interface BroadcastOptions {
  /** Target sockets in any of these rooms; empty means every socket of the namespace. */
  readonly rooms: ReadonlySet<Room>;
  /** Skip sockets in any of these rooms. */
  readonly except: ReadonlySet<Room>;
  readonly flags: BroadcastFlags;
}

/** A packet already encoded for the wire: the text header, then binary attachments. */
export type EncodedPacket = readonly RawData[];

/** What a namespace tells about one of its sockets, for `fetchSockets`. */
export interface SocketDetails {
  readonly id: SocketId;
  readonly handshake: unknown;
  readonly rooms: ReadonlySet<Room>;
  readonly data: unknown;
}

/** What a disconnected socket leaves behind for connection-state recovery. */
export interface PersistedSession {
  /** The socket id, kept across the reconnection. */
  readonly sid: string;
  /** The private session id the client presents to recover. */
  readonly pid: string;
  readonly rooms: readonly Room[];
  readonly data: unknown;
  /** The newest stored offset when the socket connected: where recovery starts when the client got no packet. */
  readonly startOffset: string | undefined;
  /**
   * The server's record of the client's acked emits, for exactly-once handling. Opaque to
   * adapters: in-process stores keep it as is; a store that serialises sessions may drop
   * it (de-duplication then restarts with the new session).
   */
  readonly acks?: unknown;
}

/** A restored session and the EVENT payloads (`[event, ...args, offset]`) it missed, in order. */
export interface RecoveredSession extends PersistedSession {
  readonly missedPackets: readonly unknown[][];
}

/** Connection-state recovery settings a namespace hands its adapter (see `RecoveryOptions`). */
export interface RecoverySettings {
  readonly maxDisconnectionDuration: number;
  readonly maxPackets: number;
  readonly skipMiddlewares: boolean;
  /** How many acked client emits per session are remembered for de-duplication. */
  readonly maxAcks: number;
}

/** The namespace side of the adapter boundary: what an adapter may ask of its namespace. */
export interface NamespacePort {
  /** The namespace name, e.g. `"/"` or `"/admin"`. */
  readonly name: string;
  /** Connection-state recovery settings, or undefined when recovery is off. */
  readonly recovery: RecoverySettings | undefined;
  /**
   * Writes a pre-encoded packet to one local socket. With `ackId`, registers `onAck` to run
   * when that socket acknowledges. Returns false when the socket is gone or a volatile
   * packet was dropped.
   */
  deliver(
    id: SocketId,
    encoded: EncodedPacket,
    flags: BroadcastFlags,
    ackId?: number,
    onAck?: (args: unknown[]) => void,
  ): boolean;
  /**
   * The ids of this node's sockets in this namespace, in connection order. A socket is
   * listed from just before it joins its own room (`addAll(id, [id])`) until just after the
   * adapter's `delAll(id)` on its disconnection, so an adapter can keep no entry at all for
   * a socket that is only in its own room. A fresh iterator per call; ids deleted while it
   * runs are skipped, as with any `Map`.
   */
  socketIds(): IterableIterator<SocketId>;
  /** Whether `id` is one of the sockets {@link NamespacePort.socketIds} lists. */
  hasSocket(id: SocketId): boolean;
  /** Details of a local socket, for `fetchSockets`. */
  describe(id: SocketId): SocketDetails | undefined;
  /** Disconnects a local socket (`close` also closes its whole connection). */
  disconnect(id: SocketId, close: boolean): void;
  /** Runs the namespace's server-side listeners for an event emitted by another node. */
  receiveServerSideEmit(args: unknown[], ack?: (response: unknown) => void): void;
  /** Allocates a namespace-wide ack id. */
  nextAckId(): number;
}

/** Answers a request from another node; `signal` aborts when the requester gives up. */
export type NodeRequestHandler = (body: unknown, signal: AbortSignal) => Promise<unknown>;

/**
 * Optional capability of an adapter spanning several nodes: a request to ONE node, answered
 * by the handler that node registered. The server uses it so that polling works without
 * sticky sessions: a node that receives a polling request for a session it does not hold
 * forwards it to the node that does (see the README, "No sticky sessions").
 */
export interface NodeChannel {
  /** This node's id, as the other nodes address it. */
  readonly uid: string;
  /** Whether `uid` is another node that is alive right now. */
  isLiveNode(uid: string): boolean;
  /**
   * Sends `body` (anything MessagePack carries) to node `uid` and resolves with its
   * handler's answer. Rejects at once when that node is gone or the broker is down, after
   * `timeout` ms without an answer, or when `signal` aborts; the node is told it can stop.
   */
  requestNode(uid: string, body: unknown, timeout: number, signal?: AbortSignal): Promise<unknown>;
  /** Sets (or removes, with undefined) what answers the other nodes' requests. */
  setNodeRequestHandler(handler: NodeRequestHandler | undefined): void;
}

/** The adapter contract. One instance serves one namespace. */
export interface Adapter {
  /** Connects to the backing service, if any. */
  init(): Promise<void>;
  /** Releases resources. */
  close(): Promise<void>;

  /** Adds a socket to rooms. */
  addAll(id: SocketId, rooms: Iterable<Room>): void;
  /** Removes a socket from one room. */
  del(id: SocketId, room: Room): void;
  /** Removes a socket from every room. */
  delAll(id: SocketId): void;
  /** The rooms a local socket is in, if it is known. */
  socketRooms(id: SocketId): ReadonlySet<Room> | undefined;
  /** Local room index: room to socket ids. */
  readonly rooms: ReadonlyMap<Room, ReadonlySet<SocketId>>;

  /** Sends a packet to every matching socket. The packet is encoded once. */
  broadcast(packet: SocketPacket, opts: BroadcastOptions): void;
  /**
   * Sends a packet that expects acks. `onExpected` is told how many sockets were sent the
   * packet (it may be called once per node); `onAck` runs for each response.
   */
  broadcastWithAck(
    packet: SocketPacket,
    opts: BroadcastOptions,
    onExpected: (count: number) => void,
    onAck: (args: unknown[]) => void,
  ): void;

  /** Ids of the sockets matching the rooms (every socket when `rooms` is empty). */
  sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>>;
  /** Details of the matching sockets on every node. */
  fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]>;
  /** Makes the matching sockets join rooms. */
  addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void;
  /** Makes the matching sockets leave rooms. */
  delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void;
  /** Disconnects the matching sockets. */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void;
  /**
   * Emits to the other nodes' server-side listeners. With `onAck`, collects their responses
   * and resolves once every other node answered or the timeout elapsed.
   */
  serverSideEmit(
    args: unknown[],
    onAck?: (err: Error | null, responses: unknown[]) => void,
    timeout?: number,
  ): void;
  /** How many nodes serve this namespace (1 for the in-memory adapter). */
  serverCount(): Promise<number>;

  /** The newest offset stored for recovery, if any (undefined when recovery is off). */
  lastOffset(): string | undefined;
  /** Keeps a disconnected socket's session for recovery. */
  persistSession(session: PersistedSession): Promise<void>;
  /**
   * Restores a session and the packets it missed after `offset`; undefined when the session
   * is unknown, expired, or its packets are no longer stored.
   */
  restoreSession(pid: string, offset: string | undefined): Promise<RecoveredSession | undefined>;

  /** Requests to one node, when the adapter spans several (optional capability). */
  readonly nodeChannel?: NodeChannel;
}

/** Builds an adapter for a namespace; pass one as the `adapter` server option. */
export type AdapterConstructor = (port: NamespacePort) => Adapter;
