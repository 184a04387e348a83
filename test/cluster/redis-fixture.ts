/** Redis for the cluster tests: node-redis clients and the adapter suite's fixture. */
import { createClient } from "redis";
import { createRedisAdapter } from "../../src/redis/index.js";
import { type Broker, startRedisServer } from "./brokers.js";
import type { AdapterFixture, NodeAdapter } from "./cluster-harness.js";

/** A connected node-redis client that retries fast and never crashes a test on an error. */
export async function redisClient(url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } });
  client.on("error", () => {}); // the adapter reports errors; tests assert on those
  await client.connect();
  return client;
}

/** A node-redis client, as `redisClient` returns it. */
export type TestRedisClient = Awaited<ReturnType<typeof redisClient>>;

/** Starts a redis-server and builds nodes on it, each with its own two clients. */
export async function createRedisFixture(): Promise<AdapterFixture> {
  const broker: Broker = await startRedisServer();
  return {
    node: async (opts): Promise<NodeAdapter> => {
      const [pub, sub] = await Promise.all([redisClient(broker.url), redisClient(broker.url)]);
      const clients = [pub, sub];
      return {
        adapter: createRedisAdapter(pub, sub, opts),
        kill: async () => {
          for (const client of clients) if (client.isOpen) client.destroy();
        },
        close: async () => {
          // a client waiting to reconnect has nothing to flush: destroy it
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
