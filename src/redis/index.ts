/**
 * `switchboard/redis`: run several Switchboard servers as one, through Redis pub/sub.
 *
 * Every namespace's adapter publishes broadcasts and cross-node requests (fetchSockets,
 * socketsJoin, serverSideEmit...) on Redis channels and answers the other nodes' requests.
 * The channels and messages are those of `@socket.io/redis-adapter`, so Socket.IO servers
 * and Switchboard servers can share one Redis while a fleet migrates. Node liveness comes
 * from heartbeats, so a crashed node delays requests by at most one timeout.
 *
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "switchboard";
 * import { createRedisAdapter } from "switchboard/redis";
 *
 * const pubClient = createClient({ url: "redis://localhost:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server(3000, { adapter: createRedisAdapter(pubClient, subClient) });
 * ```
 */
export {
  createRedisAdapter,
  RedisAdapter,
  type RedisAdapterOptions,
  type RedisClient,
  type RedisListener,
} from "./redis-adapter.js";
export { type RedisChannels, RedisRequestType, redisChannels } from "./redis-codec.js";
export {
  createRedisStreamsAdapter,
  RedisStreamsAdapter,
  type RedisStreamsAdapterOptions,
} from "./redis-streams-adapter.js";
export type { RedisStreamsClient } from "./stream-reader.js";
