// The adapter suite over a real redis-server this file starts (and stops, to play outages).
import { createClient } from "redis";
import { createRedisAdapter } from "../src/redis/index.js";
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import type { NodeAdapter } from "./cluster/cluster-harness.js";

/** A node-redis client that retries fast and never crashes the test on a connection error. */
export async function redisClient(url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } });
  client.on("error", () => {}); // the adapter reports errors; tests assert on those
  await client.connect();
  return client;
}

runAdapterSuite({
  name: "redis",
  skipAll: missingBinary("redis-server"),
  create: async () => {
    const broker: Broker = await startRedisServer();
    return {
      node: async (opts): Promise<NodeAdapter> => {
        const [pub, sub] = await Promise.all([redisClient(broker.url), redisClient(broker.url)]);
        const close = async (): Promise<void> => {
          for (const client of [pub, sub]) if (client.isOpen) client.destroy();
        };
        return { adapter: createRedisAdapter(pub, sub, opts), kill: close, close };
      },
      stopBroker: () => broker.stop(),
      startBroker: () => broker.start(),
      close: () => broker.close(),
    };
  },
});
