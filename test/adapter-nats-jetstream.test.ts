// NATS JetStream mode over a real nats-server (-js): the adapter suite, and
// connection-state recovery with the official socket.io-client when the client comes back
// through a balancer to ANOTHER node, or to its node after that node restarted.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { createNatsJetStreamAdapter } from "../src/nats/index.js";
import type { JetStreamClient, JetStreamMessages } from "../src/nats/jetstream-types.js";
import type { Socket } from "../src/server/index.js";
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { type Broker, missingBinary, startNatsServer } from "./cluster/brokers.js";
import { TIMING, waitUntil } from "./cluster/cluster-harness.js";
import { natsConnection } from "./cluster/nats-fixture.js";
import { createNatsJetStreamFixture } from "./cluster/nats-jetstream-fixture.js";
import { type SwitchProxy, startSwitchProxy } from "./cluster/switch-proxy.js";
import { collect, connected, startServer, type TestServer, waitFor } from "./support/harness.js";

const skip = missingBinary("nats-server");

runAdapterSuite({
  name: "nats jetstream",
  skipAll: skip,
  create: () => createNatsJetStreamFixture(),
});

interface JsNode {
  readonly server: TestServer;
  close(): Promise<void>;
}

/**
 * Stands between a node and JetStream: from `lag()` to `catchUp()`, the first consumer it
 * hands out (the node's live one, created when it starts) reads nothing, as a consumer
 * behind the stream's end under load; the restores' own reads go on.
 */
function consumerGate(): {
  wrap: (js: JetStreamClient) => JetStreamClient;
  lag(): void;
  catchUp(): void;
} {
  let isLagging = false;
  let isFirst = true;
  const waiting: (() => void)[] = [];
  const gated = (messages: JetStreamMessages): JetStreamMessages => ({
    close: () => messages.close(),
    async *[Symbol.asyncIterator]() {
      for await (const m of messages) {
        while (isLagging) await new Promise<void>((resolve) => waiting.push(resolve));
        yield m;
      }
    },
  });
  return {
    wrap: (js) => ({
      publish: (subject, payload) => js.publish(subject, payload),
      consumers: {
        get: async (name, start) => {
          const consumer = await js.consumers.get(name, start);
          if (!isFirst) return consumer;
          isFirst = false;
          return {
            info: () => consumer.info(),
            consume: async () => gated(await consumer.consume()),
            delete: () => consumer.delete(),
          };
        },
      },
    }),
    lag: () => {
      isLagging = true;
    },
    catchUp: () => {
      isLagging = false;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

describe("nats jetstream: recovery across nodes", { skip: skip ?? false, timeout: 20_000 }, () => {
  let broker: Broker;
  let streams = 0;
  let stream = "";
  const nodes: JsNode[] = [];
  const clients: ClientSocket[] = [];
  let proxy: SwitchProxy | undefined;

  before(async () => {
    broker = await startNatsServer({ jetstream: true });
  });
  after(async () => {
    await broker.close();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await proxy?.close();
    proxy = undefined;
    await Promise.allSettled(nodes.splice(0).map((node) => node.close()));
  });

  /** Each test gets streams and subjects of its own. */
  function fresh(): void {
    streams++;
    stream = `T${streams}`;
  }

  async function startNode(
    opts: { maxLen?: number; wrap?: (js: JetStreamClient) => JetStreamClient } = {},
    port = 0,
  ): Promise<JsNode> {
    const nc: NatsConnection = await natsConnection(broker.url);
    const { wrap, ...settings } = opts;
    const js: JetStreamClient = jetstream(nc);
    const adapter = createNatsJetStreamAdapter(nc, wrap?.(js) ?? js, await jetstreamManager(nc), {
      ...TIMING,
      ...settings,
      streamName: stream,
      prefix: `t${streams}`,
      storage: "memory",
    });
    const server = await startServer({ adapter }, port);
    server.io.on("connection", (socket) => {
      if (!socket.recovered) socket.join("room");
    });
    await waitUntil(() => server.io.sockets.adapter.lastOffset() !== undefined, "consumer started");
    let isClosed = false;
    const node = {
      server,
      close: async () => {
        if (isClosed) return;
        isClosed = true;
        await server.close();
        if (!nc.isClosed()) await nc.close();
      },
    };
    nodes.push(node);
    return node;
  }

  function nextSocket(node: JsNode): Promise<Socket> {
    return new Promise((resolve) => node.server.io.once("connection", resolve));
  }

  /**
   * A client of `node` in "room": `sync(from)` resolves once the stream delivered to it
   * everything `from` sent so far (one connection's publishes are stored in order).
   */
  async function witness(node: JsNode): Promise<(from: JsNode) => Promise<void>> {
    const client = node.server.client("/", { transports: ["websocket"] });
    clients.push(client);
    await connected(client);
    let n = 0;
    return async (from) => {
      const mark = n++;
      const got = new Promise<void>((resolve) => {
        const onSync = (value: number) => {
          if (value !== mark) return;
          client.off("sync", onSync);
          resolve();
        };
        client.on("sync", onSync);
      });
      from.server.io.emit("sync", mark);
      await got;
    };
  }

  async function cutFromA(a: JsNode, b: JsNode) {
    proxy = await startSwitchProxy(a.server.port);
    const onA = nextSocket(a);
    const client = ioc(proxy.url, {
      forceNew: true,
      transports: ["websocket"],
      reconnection: false,
    });
    clients.push(client);
    await connected(client);
    const socket = await onA;
    proxy.target(b.server.port);
    const gone = waitFor(socket, "disconnect");
    proxy.cut();
    await gone;
    return { client, socket };
  }

  test("a client cut from node A recovers on node B, with every packet it missed, in order", async () => {
    fresh();
    const [a, b] = [await startNode(), await startNode()];
    const sync = await witness(b);
    const { client, socket } = await cutFromA(a, b);
    const id = client.id!;
    a.server.io.emit("tick", 1);
    a.server.io.to("room").emit("tick", 2);
    a.server.io.except("room").emit("never", 0);
    a.server.io.to(socket.id).emit("tick", 3);
    a.server.io.local.emit("tick", 4); // for a's clients, which this one was
    await sync(a);
    b.server.io.local.emit("never", 1); // for b's clients, which this one was not
    b.server.io.to("room").emit("tick", 5);
    await sync(b);
    let strays = 0;
    client.on("never", () => strays++);
    const missed = collect<number>(client, "tick", 5);
    client.connect();
    await connected(client);
    assert.equal(client.recovered, true);
    assert.equal(client.id, id);
    assert.deepEqual(await missed, [1, 2, 3, 4, 5]);
    const later = collect<number>(client, "tick", 2);
    a.server.io.to("room").emit("tick", 6);
    await sync(a);
    b.server.io.to(id).emit("tick", 7);
    assert.deepEqual(await later, [6, 7]);
    assert.equal(strays, 0);
  });

  test("a node whose live consumer lags replays what a client missed up to the stream's end", async () => {
    fresh();
    const gate = consumerGate();
    const [a, b] = [await startNode(), await startNode({ wrap: gate.wrap })];
    const sync = await witness(a);
    const { client } = await cutFromA(a, b);
    gate.lag();
    a.server.io.local.emit("tick", 1); // for a's clients, which this one was
    await sync(a);
    b.server.io.local.emit("never", 0); // for b's clients, which this one was not
    b.server.io.to("room").emit("tick", 2);
    await sync(b); // read by a's consumer: stored
    const strays: number[] = [];
    client.on("never", (n: number) => strays.push(n));
    const ticks = collect<number>(client, "tick", 3);
    client.connect();
    await connected(client);
    assert.equal(client.recovered, true);
    gate.catchUp();
    b.server.io.to("room").emit("tick", 3);
    assert.deepEqual(await ticks, [1, 2, 3]);
    assert.deepEqual(strays, []);
  });

  test("a client recovers on its node after that node restarted", async () => {
    fresh();
    const a = await startNode();
    const b = await startNode();
    const port = a.server.port;
    const client = ioc(a.server.url, {
      forceNew: true,
      transports: ["websocket"],
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    });
    clients.push(client);
    await connected(client);
    const id = client.id;
    const gone = waitFor(client, "disconnect");
    await a.close(); // a redeploy: the sessions are persisted before the adapter closes
    await gone;
    const missed = collect<number>(client, "tick", 3);
    b.server.io.emit("tick", 1);
    b.server.io.to("room").emit("tick", 2);
    b.server.io.to(id!).emit("tick", 3);
    const reconnected = waitFor(client, "connect", 5000);
    await startNode({}, port);
    await reconnected;
    assert.equal(client.recovered, true);
    assert.equal(client.id, id);
    assert.deepEqual(await missed, [1, 2, 3]);
  });

  test("packets trimmed by the stream's limit: not recovered, never a silent gap", async () => {
    fresh();
    const [a, b] = [await startNode({ maxLen: 5 }), await startNode({ maxLen: 5 })];
    const sync = await witness(b);
    const { client } = await cutFromA(a, b);
    for (let i = 0; i < 10; i++) a.server.io.emit("tick", i);
    await sync(a);
    const id = client.id;
    client.connect();
    await connected(client);
    assert.equal(client.recovered, false);
    assert.notEqual(client.id, id);
  });

  test("a session is restored at most once, even by two nodes at the same time", async () => {
    fresh();
    const [a, b] = [await startNode(), await startNode()];
    const [onA, onB] = [a.server.io.sockets.adapter, b.server.io.sockets.adapter];
    const session = {
      sid: "s1",
      pid: "p1",
      rooms: ["s1"],
      data: { user: "ada" },
      startOffset: onA.lastOffset(),
      acks: { capacity: 10, answered: [[1, ["done"]]] },
    };
    await onA.persistSession(session);
    const restored = await Promise.all([
      onA.restoreSession("p1", undefined),
      onB.restoreSession("p1", undefined),
    ]);
    const found = restored.filter((r) => r !== undefined);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]!.data, { user: "ada" });
    assert.deepEqual(found[0]!.acks, session.acks);
    assert.equal(await onB.restoreSession("p1", undefined), undefined);
  });
});
