/** NATS for the cluster tests: connections and the adapter suite's fixture. */
import { connect } from "@nats-io/transport-node";
import { createNatsAdapter } from "../../src/nats/index.js";
import { type Broker, startNatsServer } from "./brokers.js";
import type { AdapterFixture, NodeAdapter } from "./cluster-harness.js";

/** A NATS connection that reconnects fast and forever. */
export function natsConnection(url: string) {
  return connect({
    servers: url,
    reconnectTimeWait: 50,
    reconnectJitter: 0,
    maxReconnectAttempts: -1,
  });
}

/** Starts a nats-server and builds nodes on it, each with its own connection. */
export async function createNatsFixture(): Promise<AdapterFixture> {
  const broker: Broker = await startNatsServer();
  return {
    node: async (opts): Promise<NodeAdapter> => {
      const nc = await natsConnection(broker.url);
      const close = async (): Promise<void> => {
        if (!nc.isClosed()) await nc.close();
      };
      return { adapter: createNatsAdapter(nc, opts), kill: close, close };
    },
    stopBroker: () => broker.stop(),
    startBroker: () => broker.start(),
    close: () => broker.close(),
  };
}
