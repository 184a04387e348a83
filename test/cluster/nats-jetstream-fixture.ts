/** NATS JetStream mode for the cluster tests: the adapter suite's fixture. */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  createNatsJetStreamAdapter,
  type NatsJetStreamAdapterOptions,
} from "../../src/nats/index.js";
import { type Broker, startNatsServer } from "./brokers.js";
import type { AdapterFixture, NodeAdapter } from "./cluster-harness.js";
import { natsConnection } from "./nats-fixture.js";

/** Starts a nats-server with JetStream and builds JetStream-mode nodes on it, each with its own connection. */
export async function createNatsJetStreamFixture(
  extra: NatsJetStreamAdapterOptions = {},
): Promise<AdapterFixture & { readonly broker: Broker }> {
  const broker = await startNatsServer({ jetstream: true });
  return {
    broker,
    node: async (opts): Promise<NodeAdapter> => {
      const nc = await natsConnection(broker.url);
      const jsm = await jetstreamManager(nc);
      const adapter = createNatsJetStreamAdapter(nc, jetstream(nc), jsm, { ...extra, ...opts });
      const close = async (): Promise<void> => {
        if (!nc.isClosed()) await nc.close();
      };
      return { adapter, kill: close, close };
    },
    stopBroker: () => broker.stop(),
    startBroker: () => broker.start(),
    close: () => broker.close(),
  };
}
