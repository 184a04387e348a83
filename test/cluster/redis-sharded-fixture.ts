/** Redis sharded pub/sub for the cluster tests: the adapter suite's fixture. */
import {
  createShardedRedisAdapter,
  type ShardedRedisAdapterOptions,
  type ShardedRedisClient,
} from "../../src/redis/index.js";
import { type Broker, startRedisServer } from "./brokers.js";
import type { AdapterFixture, NodeAdapter } from "./cluster-harness.js";
import { redisClient } from "./redis-fixture.js";

/**
 * Starts a redis-server (7+, for SPUBLISH) and builds sharded nodes on it, each with its own
 * two clients. `wrapSub` may stand between a node's adapter and its subscriber client.
 */
export async function createShardedFixture(
  extra: ShardedRedisAdapterOptions = {},
  wrapSub: (sub: ShardedRedisClient, index: number) => ShardedRedisClient = (sub) => sub,
): Promise<AdapterFixture & { readonly broker: Broker }> {
  const broker = await startRedisServer();
  let count = 0;
  return {
    broker,
    node: async (opts): Promise<NodeAdapter> => {
      const [pub, sub] = await Promise.all([redisClient(broker.url), redisClient(broker.url)]);
      const clients = [pub, sub];
      return {
        adapter: createShardedRedisAdapter(pub, wrapSub(sub, count++), { ...extra, ...opts }),
        kill: async () => {
          for (const client of clients) if (client.isOpen) client.destroy();
        },
        close: async () => {
          await Promise.all(
            clients.map((c) => (c.isReady ? c.close() : c.isOpen ? c.destroy() : undefined)),
          );
        },
      };
    },
    stopBroker: () => broker.stop(),
    startBroker: () => broker.start(),
    close: () => broker.close(),
  };
}
