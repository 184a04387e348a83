/**
 * `RedisAdapter`: a {@link ClusterAdapter} over Redis pub/sub, speaking the channels and
 * message format of `@socket.io/redis-adapter` (see `redis-codec.ts`), so a Socket.IO fleet
 * can move to Switchboard one server at a time.
 *
 * It takes two node-redis (v4+) clients, as Socket.IO's adapter does: one publishes, the
 * other is put in subscriber mode. node-redis resubscribes by itself after a reconnection;
 * the adapter watches both clients' connection events, fails fast while either is down
 * (instead of letting node-redis queue stale broadcasts), and announces its node again
 * when they are back.
 */
import { Buffer } from "node:buffer";
import type { AdapterConstructor, NamespacePort } from "../adapter/adapter.js";
import { ClusterAdapter, type ClusterAdapterOptions } from "../adapter/cluster-adapter.js";
import {
  type ClusterMessage,
  isNodeMessageType,
  type TargetedMessage,
} from "../adapter/cluster-message.js";
import { AdapterError, ErrorCode } from "../errors.js";
import {
  decodeRedisBroadcast,
  decodeRedisRequest,
  decodeRedisResponse,
  encodeLegacyResponse,
  encodeRedisMessage,
  encodeRedisResponse,
  type LegacyRequest,
  type RedisChannels,
  redisChannels,
} from "./redis-codec.js";

/** A subscription listener in node-redis buffer mode. */
export type RedisListener = (message: Buffer, channel: Buffer) => unknown;

/**
 * The parts of a node-redis v4+ client (`createClient()` from `redis`) the adapter uses.
 * Declared here so that `switchboard/redis` does not depend on the client's types.
 */
export interface RedisClient {
  readonly isReady: boolean;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(
    channels: string | string[],
    listener: RedisListener,
    bufferMode: true,
  ): Promise<unknown>;
  unsubscribe(channels: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
  pSubscribe(patterns: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
  pUnsubscribe(patterns: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Options of the Redis adapter. */
export interface RedisAdapterOptions extends ClusterAdapterOptions {
  /** The channel prefix. Default `"socket.io"`, as `@socket.io/redis-adapter`. */
  readonly key?: string;
  /**
   * Publish each response on the requester's own channel (`<key>-response#<nsp>#<uid>#`)
   * instead of the shared one, so other nodes do not receive it. Every
   * `@socket.io/redis-adapter` v7.1+ node listens there. Default false, as in Socket.IO.
   */
  readonly publishOnSpecificResponseChannel?: boolean;
}

/**
 * Builds the `adapter` server option for a Redis cluster.
 * @example
 * import { createClient } from "redis";
 * import { Server } from "switchboard";
 * import { createRedisAdapter } from "switchboard/redis";
 *
 * const pubClient = createClient({ url: "redis://localhost:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server(3000, { adapter: createRedisAdapter(pubClient, subClient) });
 */
export function createRedisAdapter(
  pubClient: RedisClient,
  subClient: RedisClient,
  opts: RedisAdapterOptions = {},
): AdapterConstructor {
  return (port) => new RedisAdapter(port, pubClient, subClient, opts);
}

/** A cluster adapter over Redis pub/sub, wire-compatible with `@socket.io/redis-adapter`. */
export class RedisAdapter extends ClusterAdapter {
  readonly #pub: RedisClient;
  readonly #sub: RedisClient;
  readonly #channels: RedisChannels;
  readonly #isSpecific: boolean;
  readonly #onBroadcast: RedisListener = (message, channel) =>
    this.#receiveBroadcast(message, channel);
  readonly #onRequest: RedisListener = (message, channel) => this.#receive(message, channel);
  readonly #onStatus = (): void => this.checkConnection();
  readonly #onClientError = (err: unknown): void => {
    this.checkConnection();
    const reason = err instanceof Error ? err.message : String(err);
    this.reportError(new AdapterError(ErrorCode.ADAPTER_ERROR, `redis: ${reason}`, { cause: err }));
  };

  constructor(
    port: NamespacePort,
    pubClient: RedisClient,
    subClient: RedisClient,
    opts: RedisAdapterOptions = {},
  ) {
    super(port, opts);
    this.#pub = pubClient;
    this.#sub = subClient;
    this.#channels = redisChannels(opts.key ?? "socket.io", port.name);
    this.#isSpecific = opts.publishOnSpecificResponseChannel ?? false;
  }

  protected override async subscribe(): Promise<void> {
    for (const client of [this.#pub, this.#sub]) {
      for (const event of ["ready", "end", "reconnecting"]) client.on(event, this.#onStatus);
      client.on("error", this.#onClientError);
    }
    const { request, response } = this.#channels;
    await Promise.all([
      this.#sub.pSubscribe(`${escapeGlob(this.#channels.broadcast)}*`, this.#onBroadcast, true),
      this.#sub.subscribe(
        [request, response, this.#channels.specificResponse(this.uid)],
        this.#onRequest,
        true,
      ),
    ]);
  }

  protected override async unsubscribe(): Promise<void> {
    for (const client of [this.#pub, this.#sub]) {
      for (const event of ["ready", "end", "reconnecting"]) client.off(event, this.#onStatus);
      client.off("error", this.#onClientError);
    }
    const { broadcast, request, response } = this.#channels;
    // One call per channel: node-redis v4 mishandles several channels with one listener.
    const done = [
      this.#sub.pUnsubscribe(`${escapeGlob(broadcast)}*`, this.#onBroadcast, true),
      ...[request, response, this.#channels.specificResponse(this.uid)].map((channel) =>
        this.#sub.unsubscribe(channel, this.#onRequest, true),
      ),
    ].map((p) => p.catch(() => {})); // a closed client has nothing left to unsubscribe
    // While disconnected, node-redis would queue these until Redis returns: do not wait.
    if (this.#sub.isReady) await Promise.all(done);
  }

  protected override isConnected(): boolean {
    return this.#pub.isReady && this.#sub.isReady;
  }

  protected override async doPublish(message: ClusterMessage): Promise<void> {
    const { channel, payload } = encodeRedisMessage(message, this.#channels);
    await this.#pub.publish(channel, toBuffer(payload));
  }

  protected override async doPublishResponse(uid: string, message: TargetedMessage): Promise<void> {
    // Node requests go to the node's own channel: Socket.IO nodes never see them.
    const isOwnChannel = isNodeMessageType(message.type);
    await this.#publishResponse(uid, encodeRedisResponse(message), isOwnChannel);
  }

  #publishResponse(
    requesterUid: string,
    payload: Uint8Array,
    isOwnChannel = false,
  ): Promise<unknown> {
    const channel =
      isOwnChannel || this.#isSpecific
        ? this.#channels.specificResponse(requesterUid)
        : this.#channels.response;
    return this.#pub.publish(channel, toBuffer(payload));
  }

  #receiveBroadcast(message: Buffer, channel: Buffer): void {
    const name = channel.toString();
    const { broadcast } = this.#channels;
    if (!name.startsWith(broadcast)) return;
    const room = name.slice(broadcast.length, -1);
    if (room !== "" && !this.rooms.has(room)) return; // a room without members here
    const decoded = decodeRedisBroadcast(message, this.port.name);
    if (decoded.ok) this.onMessage(decoded.value);
    else this.#reportMalformed(decoded.error);
  }

  #receive(message: Buffer, channel: Buffer): void {
    const name = channel.toString();
    if (name.startsWith(this.#channels.response)) {
      const decoded = decodeRedisResponse(message, this.port.name);
      if (decoded.ok) this.onMessage(decoded.value);
      return; // responses to other nodes' legacy requests may not parse: not ours anyway
    }
    const decoded = decodeRedisRequest(message, this.port.name);
    if (!decoded.ok) {
      this.#reportMalformed(decoded.error);
      return;
    }
    if ("kind" in decoded.value) this.#answerLegacy(decoded.value);
    else this.onMessage(decoded.value);
  }

  /** Requests only Socket.IO nodes send (`allSockets`, `allRooms`), answered locally. */
  #answerLegacy(request: LegacyRequest): void {
    if (request.uid === this.uid || !this.isConnected()) return;
    const reply = (body: { sockets: string[] } | { rooms: string[] }): void => {
      this.#publishResponse(request.uid, encodeLegacyResponse(request.requestId, body)).catch(
        () => {}, // the requester times out; nothing to do here
      );
    };
    if (request.kind === "allRooms") reply({ rooms: [...this.rooms.keys()] });
    else this.localSockets(new Set(request.rooms)).then((ids) => reply({ sockets: [...ids] }));
  }

  #reportMalformed(cause: Error): void {
    this.reportError(
      new AdapterError(ErrorCode.ADAPTER_ERROR, `malformed redis message: ${cause.message}`, {
        cause,
      }),
    );
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Escapes Redis glob characters, so a namespace name matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
