/**
 * `ShardedRedisAdapter`: a {@link ClusterAdapter} over Redis 7 sharded pub/sub
 * (`SPUBLISH`/`SSUBSCRIBE`), for Redis Cluster deployments where classic pub/sub would copy
 * every message to every shard. Channels and messages are those of
 * `@socket.io/redis-adapter`'s `createShardedAdapter`, so Socket.IO and Switchboard nodes
 * can share them:
 * ```
 *   <prefix>#<nsp>#          every message of the namespace (and broadcasts to several rooms)
 *   <prefix>#<nsp>#<room>#   broadcasts to exactly one room (dynamic modes)
 *   <prefix>#<nsp>#<uid>#    responses for node <uid>
 * ```
 * Messages are cluster messages (`{ uid, nsp, type, data }`) in MessagePack; JSON from
 * Socket.IO nodes is read too.
 *
 * Per-room channels (`subscriptionMode`): in `"dynamic"` (the default) a node subscribes to
 * a room's channel only while the room has a member on this node, so it receives no
 * traffic for the other rooms; rooms named after a socket id stay on the namespace channel
 * (one subscription per socket would cost more than it saves). `"dynamic-private"` gives
 * socket-id rooms their channels too; `"static"` uses the namespace channel only.
 */
import { Buffer } from "node:buffer";
import type {
  AdapterConstructor,
  BroadcastOptions,
  NamespacePort,
  Room,
  SocketId,
} from "../adapter/adapter.js";
import { ClusterAdapter, type ClusterAdapterOptions } from "../adapter/cluster-adapter.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  encodeClusterMessage,
  parseClusterMessage,
  type TargetedMessage,
} from "../adapter/cluster-message.js";
import { decodeMsgpack } from "../adapter/msgpack.js";
import { AdapterError, ErrorCode, type ProtocolError, type Result } from "../errors.js";
import { decodeJson } from "../protocol/json.js";
import type { RedisListener } from "./redis-adapter.js";
import { RoomSubscriptions } from "./room-subscriptions.js";

/**
 * The parts of a node-redis (v4.6+) client, or cluster client, the sharded adapter uses.
 * Declared here so that `switchboard/redis` does not depend on the client's types.
 */
export interface ShardedRedisClient {
  readonly isReady: boolean;
  sPublish(channel: string, message: Buffer): Promise<unknown>;
  sSubscribe(channels: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
  sUnsubscribe(channels: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Which rooms get a channel of their own (as in `@socket.io/redis-adapter`). */
export type SubscriptionMode = "static" | "dynamic" | "dynamic-private";

/** Options of the sharded adapter. */
export interface ShardedRedisAdapterOptions extends ClusterAdapterOptions {
  /** The channel prefix. Default `"socket.io"`, as `@socket.io/redis-adapter`. */
  readonly channelPrefix?: string;
  /** Default `"dynamic"`: public rooms get their own channel while they have a member here. */
  readonly subscriptionMode?: SubscriptionMode;
}

const MAX_DEPTH = 100;
const CHAR_OPEN_BRACE = 0x7b;
/** Socket.IO's test for a socket-id room when publishing: ids are 20 characters long. */
const SOCKET_ID_LENGTH = 20;
const utf8 = new TextDecoder();
/**
 * How long, after this node asked the others to join a room, its broadcasts to that room
 * still go to the namespace channel: the joining nodes subscribe to the room's channel
 * only when the join reaches them, so a broadcast sent on the room's channel right after
 * the join could arrive before their subscription. On the namespace channel it arrives
 * after the join, in order.
 */
const JOIN_SETTLE_MS = 2000;

/**
 * Builds the `adapter` server option for Redis sharded pub/sub (Redis 7+).
 * @example
 * import { createClient } from "redis";
 * import { Server } from "switchboard";
 * import { createShardedRedisAdapter } from "switchboard/redis";
 *
 * const pubClient = createClient({ url: "redis://localhost:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server(3000, { adapter: createShardedRedisAdapter(pubClient, subClient) });
 */
export function createShardedRedisAdapter(
  pubClient: ShardedRedisClient,
  subClient: ShardedRedisClient,
  opts: ShardedRedisAdapterOptions = {},
): AdapterConstructor {
  return (port) => new ShardedRedisAdapter(port, pubClient, subClient, opts);
}

/** A cluster adapter over Redis sharded pub/sub, with per-room channels. */
export class ShardedRedisAdapter extends ClusterAdapter {
  readonly #pub: ShardedRedisClient;
  readonly #sub: ShardedRedisClient;
  readonly #channel: string;
  readonly #mode: SubscriptionMode;
  readonly #roomChannels: RoomSubscriptions;
  /** Rooms this node asked the others to join, and until when they settle (see JOIN_SETTLE_MS). */
  readonly #settling = new Map<Room, number>();
  readonly #onRaw: RedisListener = (message) => this.#receive(message);
  readonly #onStatus = (): void => this.checkConnection();
  readonly #onClientError = (err: unknown): void => {
    this.checkConnection();
    this.#report("redis", err);
  };

  constructor(
    port: NamespacePort,
    pubClient: ShardedRedisClient,
    subClient: ShardedRedisClient,
    opts: ShardedRedisAdapterOptions = {},
  ) {
    super(port, opts);
    this.#pub = pubClient;
    this.#sub = subClient;
    this.#channel = `${opts.channelPrefix ?? "socket.io"}#${port.name}#`;
    this.#mode = opts.subscriptionMode ?? "dynamic";
    this.#roomChannels = new RoomSubscriptions(
      (room) => this.#sub.sSubscribe(this.#roomChannel(room), this.#onRaw, true),
      (room) => this.#sub.sUnsubscribe(this.#roomChannel(room), this.#onRaw, true),
      (err) => this.#report("room subscription", err),
    );
  }

  /** The room channels this node is subscribed to (dynamic modes). */
  get subscribedRooms(): ReadonlySet<Room> {
    return this.#roomChannels.rooms;
  }

  override addAll(id: SocketId, rooms: Iterable<Room>): void {
    const joined = [...rooms];
    // A socket's own room counts as fresh: the room index shows it from the moment the
    // namespace lists the socket, before this join (adding a subscribed room is a no-op).
    const fresh = joined.filter((room) => room === id || !this.rooms.has(room));
    super.addAll(id, joined);
    for (const room of fresh) if (this.#hasOwnChannel(room)) this.#roomChannels.add(room);
  }

  override addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    if (opts.flags.local !== true && this.#mode !== "static") {
      const until = Date.now() + JOIN_SETTLE_MS;
      for (const room of rooms) {
        this.#settling.delete(room); // re-insert: the map stays ordered by deadline
        this.#settling.set(room, until);
      }
    }
    super.addSockets(opts, rooms);
  }

  override del(id: SocketId, room: Room): void {
    super.del(id, room);
    if (!this.rooms.has(room)) this.#roomChannels.delete(room);
  }

  override delAll(id: SocketId): void {
    const left = [...(this.socketRooms(id) ?? [])];
    super.delAll(id);
    for (const room of left) if (!this.rooms.has(room)) this.#roomChannels.delete(room);
  }

  protected override async subscribe(): Promise<void> {
    for (const client of [this.#pub, this.#sub]) {
      for (const event of ["ready", "end", "reconnecting"]) client.on(event, this.#onStatus);
      client.on("error", this.#onClientError);
    }
    // One channel per call: in a Redis Cluster, channels of one SSUBSCRIBE must share a slot.
    await Promise.all(
      [this.#channel, this.#responseChannel(this.uid)].map((channel) =>
        this.#sub.sSubscribe(channel, this.#onRaw, true),
      ),
    );
  }

  protected override async unsubscribe(): Promise<void> {
    for (const client of [this.#pub, this.#sub]) {
      for (const event of ["ready", "end", "reconnecting"]) client.off(event, this.#onStatus);
      client.off("error", this.#onClientError);
    }
    const done = [this.#channel, this.#responseChannel(this.uid)].map((channel) =>
      this.#sub.sUnsubscribe(channel, this.#onRaw, true).catch(() => {}),
    );
    done.push(this.#roomChannels.clear());
    // While disconnected, node-redis would queue these until Redis returns: do not wait.
    if (this.#sub.isReady) await Promise.all(done);
  }

  protected override isConnected(): boolean {
    return this.#pub.isReady && this.#sub.isReady;
  }

  protected override async doPublish(message: ClusterMessage): Promise<void> {
    await this.#pub.sPublish(this.#channelFor(message), toBuffer(encodeClusterMessage(message)));
  }

  protected override async doPublishResponse(uid: string, message: TargetedMessage): Promise<void> {
    await this.#pub.sPublish(this.#responseChannel(uid), toBuffer(encodeClusterMessage(message)));
  }

  /**
   * A broadcast without acks to exactly one room goes to that room's channel in the dynamic
   * modes; everything else to the namespace channel. (A broadcast with acks must reach every
   * node: each one answers with its client count.)
   */
  #channelFor(message: ClusterMessage): string {
    if (message.type !== ClusterMessageType.BROADCAST || message.data.requestId !== undefined) {
      return this.#channel;
    }
    const { rooms } = message.data.opts;
    const room = rooms.length === 1 ? rooms[0] : undefined;
    if (room === undefined || this.#mode === "static") return this.#channel;
    if (this.#mode === "dynamic" && room.length === SOCKET_ID_LENGTH) return this.#channel;
    return this.#isSettling(room) ? this.#channel : this.#roomChannel(room);
  }

  #isSettling(room: Room): boolean {
    if (this.#settling.size === 0) return false;
    const now = Date.now();
    for (const [settled, until] of this.#settling) {
      if (until > now) break; // in deadline order: the rest are later
      this.#settling.delete(settled);
    }
    return this.#settling.has(room);
  }

  /** Whether a room with a member here gets its own subscription. */
  #hasOwnChannel(room: Room): boolean {
    if (this.#mode === "static") return false;
    // A socket's own room: the socket is in the index under that id.
    return this.#mode === "dynamic-private" || this.socketRooms(room) === undefined;
  }

  #roomChannel(room: Room): string {
    return `${this.#channel}${room}#`;
  }

  #responseChannel(uid: string): string {
    return `${this.#channel}${uid}#`;
  }

  #receive(bytes: Buffer): void {
    const decoded = decodeShardedMessage(bytes);
    if (decoded.ok) this.onMessage(decoded.value);
    else this.#report("malformed redis message", decoded.error);
  }

  #report(what: string, cause: unknown): void {
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.reportError(new AdapterError(ErrorCode.ADAPTER_ERROR, `${what}: ${reason}`, { cause }));
  }
}

/** A cluster message in MessagePack, or in JSON when it starts with `{` (as Socket.IO sends it). */
export function decodeShardedMessage(bytes: Uint8Array): Result<ClusterMessage, ProtocolError> {
  const decoded =
    bytes[0] === CHAR_OPEN_BRACE
      ? decodeJson(utf8.decode(bytes), 0, MAX_DEPTH)
      : decodeMsgpack(bytes, { maxDepth: MAX_DEPTH });
  return decoded.ok ? parseClusterMessage(decoded.value) : decoded;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
