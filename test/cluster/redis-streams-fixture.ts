/** Redis Streams mode for the cluster tests: the adapter suite's fixture. */
import {
  createRedisStreamsAdapter,
  type RedisStreamsAdapterOptions,
} from "../../src/redis/index.js";
import { type Broker, startRedisServer } from "./brokers.js";
import type { AdapterFixture, NodeAdapter } from "./cluster-harness.js";
import { redisClient } from "./redis-fixture.js";

/**
 * Starts a redis-server and builds Streams-mode nodes on it, each with its own client (the
 * adapter duplicates it for its subscriber and its stream reader).
 */
export async function createRedisStreamsFixture(
  extra: RedisStreamsAdapterOptions = {},
): Promise<AdapterFixture & { readonly broker: Broker }> {
  const broker = await startRedisServer();
  return {
    broker,
    node: async (opts): Promise<NodeAdapter> => {
      const client = await redisClient(broker.url);
      return {
        adapter: createRedisStreamsAdapter(client, { ...extra, ...opts }),
        // Without its command connection the node can neither publish nor answer: dead to the others.
        kill: async () => {
          if (client.isOpen) client.destroy();
        },
        close: async () => {
          if (client.isReady) await client.close();
          else if (client.isOpen) client.destroy();
        },
      };
    },
    stopBroker: () => broker.stop(),
    startBroker: () => broker.start(),
    close: () => broker.close(),
  };
}
