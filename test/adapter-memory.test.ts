// The adapter suite over an in-process bus: the ClusterAdapter logic without a broker.
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import type { NodeAdapter } from "./cluster/cluster-harness.js";
import { MemoryBus, type MemoryClusterAdapter } from "./cluster/memory-bus.js";

runAdapterSuite({
  name: "memory",
  create: async () => {
    const bus = new MemoryBus();
    return {
      node: async (opts): Promise<NodeAdapter> => {
        const adapters: MemoryClusterAdapter[] = [];
        const build = bus.adapter(opts);
        return {
          adapter: (port) => {
            const adapter = build(port) as MemoryClusterAdapter;
            adapters.push(adapter);
            return adapter;
          },
          kill: async () => {
            for (const adapter of adapters) adapter.cut();
          },
          close: async () => {},
        };
      },
      stopBroker: async () => bus.stop(),
      startBroker: async () => {
        if (!bus.isUp) bus.start();
      },
      close: async () => {},
    };
  },
});
