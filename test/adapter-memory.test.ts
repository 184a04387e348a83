// The adapter suite over an in-process bus: the ClusterAdapter logic without a broker.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ClusterMessageType } from "../src/adapter/cluster-message.js";
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import {
  type AdapterFixture,
  type ClusterNode,
  joinClient,
  type NodeAdapter,
  startCluster,
} from "./cluster/cluster-harness.js";
import { MemoryBus, type MemoryClusterAdapter } from "./cluster/memory-bus.js";
import { closeClients, waitFor } from "./support/harness.js";

function memoryFixture(bus: MemoryBus): AdapterFixture {
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
}

runAdapterSuite({ name: "memory", create: async () => memoryFixture(new MemoryBus()) });

describe("cluster adapter publishing", () => {
  let nodes: ClusterNode[] = [];
  afterEach(async () => {
    closeClients();
    await Promise.all(nodes.map((node) => node.close()));
    nodes = [];
  });

  test("an emit to one socket of this node costs no publish; to another node's, one", async () => {
    const bus = new MemoryBus();
    nodes = await startCluster(memoryFixture(bus), ["n0", "n1"]);
    const [n0, n1] = nodes as [ClusterNode, ClusterNode];
    const local = await joinClient(n0, "a");
    const remote = await joinClient(n1, "b");
    const broadcasts = () =>
      bus.publishedTypes.filter((type) => type === ClusterMessageType.BROADCAST).length;
    const before = broadcasts();
    const [socket] = n0.io.sockets.sockets.values();
    const got = waitFor(local, "direct");
    socket!.emit("direct", 1); // through the adapter when connection-state recovery is on
    n0.io.to(local.id!).emit("direct", 2);
    await got;
    assert.equal(broadcasts(), before);
    const far = waitFor(remote, "far");
    n0.io.to(remote.id!).emit("far");
    await far;
    assert.equal(broadcasts(), before + 1);
  });
});
