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
 *
 * Two more modes, same semantics:
 * - `createShardedRedisAdapter(pub, sub)`: Redis 7 sharded pub/sub (SPUBLISH/SSUBSCRIBE) for
 *   Redis Cluster, with per-room channels: a node subscribes to a room's channel only while
 *   the room has a member on it. Wire-compatible with Socket.IO's `createShardedAdapter`.
 * - `createRedisStreamsAdapter(client)`: messages go through a Redis stream that also keeps
 *   recent packets, and sessions are kept in Redis, so connection-state recovery works when
 *   a client comes back to another node, or to its node after a restart.
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
export {
  createShardedRedisAdapter,
  ShardedRedisAdapter,
  type ShardedRedisAdapterOptions,
  type ShardedRedisClient,
  type SubscriptionMode,
} from "./sharded-redis-adapter.js";
export type { RedisStreamsClient } from "./stream-reader.js";
