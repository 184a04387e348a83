// Redis Streams mode over a real redis-server: the adapter suite, and connection-state
// recovery with the official socket.io-client when the client comes back through a
// balancer to ANOTHER node, or to its node after that node restarted.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { createRedisStreamsAdapter, type RedisStreamsAdapterOptions } from "../src/redis/index.js";
import type { Socket } from "../src/server/index.js";
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { TIMING, waitUntil } from "./cluster/cluster-harness.js";
import { redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import { createRedisStreamsFixture } from "./cluster/redis-streams-fixture.js";
import { type SwitchProxy, startSwitchProxy } from "./cluster/switch-proxy.js";
import { collect, connected, startServer, type TestServer, waitFor } from "./support/harness.js";

const skip = missingBinary("redis-server");

runAdapterSuite({
  name: "redis streams",
  skipAll: skip,
  create: () => createRedisStreamsFixture(),
});

/** A server node with its own Redis client. */
interface StreamNode {
  readonly server: TestServer;
  readonly redis: TestRedisClient;
  /** Resolves once every command this node sent to Redis so far has run. */
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

describe("redis streams: recovery across nodes", { skip: skip ?? false, timeout: 20_000 }, () => {
  let broker: Broker;
  let raw: TestRedisClient;
  const nodes: StreamNode[] = [];
  const clients: ClientSocket[] = [];
  let proxy: SwitchProxy | undefined;

  before(async () => {
    broker = await startRedisServer();
    raw = await redisClient(broker.url);
  });
  after(async () => {
    await raw.close();
    await broker.close();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await proxy?.close();
    proxy = undefined;
    await Promise.allSettled(nodes.splice(0).map((node) => node.close()));
    await raw.flushAll();
  });

  async function startNode(
    extra: RedisStreamsAdapterOptions & { maxDisconnectionDuration?: number } = {},
    port = 0,
  ): Promise<StreamNode> {
    const redis = await redisClient(broker.url);
    const { maxDisconnectionDuration, ...opts } = extra;
    const server = await startServer(
      {
        adapter: createRedisStreamsAdapter(redis, { ...TIMING, ...opts }),
        connectionStateRecovery: { maxDisconnectionDuration: maxDisconnectionDuration ?? 60_000 },
      },
      port,
    );
    server.io.on("connection", (socket) => {
      if (!socket.recovered) socket.join("room");
    });
    // A socket that connects before the adapter's reader knows where the stream ends has no
    // start offset: without a packet received, it could not recover.
    await waitUntil(() => server.io.sockets.adapter.lastOffset() !== undefined, "reader started");
    let isClosed = false;
    const node: StreamNode = {
      server,
      redis,
      flush: () => redis.ping(),
      close: async () => {
        if (isClosed) return;
        isClosed = true;
        await server.close();
        if (redis.isOpen) await redis.close();
      },
    };
    nodes.push(node);
    return node;
  }

  /** A socket.io-client that reconnects only when told to (`client.connect()`). */
  async function connectClient(url: string): Promise<{ client: ClientSocket }> {
    const client = ioc(url, { forceNew: true, transports: ["websocket"], reconnection: false });
    clients.push(client);
    await connected(client);
    return { client };
  }

  /** The server-side socket of the next connection to `node`. */
  function nextSocket(node: StreamNode): Promise<Socket> {
    return new Promise((resolve) => node.server.io.once("connection", resolve));
  }

  /** Cuts every connection through the proxy; resolves once `socket`'s node persisted it. */
  async function cutThroughProxy(socket: Socket, node: StreamNode): Promise<void> {
    const gone = waitFor(socket, "disconnect");
    proxy!.cut();
    await gone;
    await node.flush(); // the session's SET went out before "disconnect" fired
  }

  test("a client cut from node A recovers on node B, with every packet it missed, in order", async () => {
    const [a, b] = [await startNode(), await startNode()];
    proxy = await startSwitchProxy(a.server.port);
    const onA = nextSocket(a);
    const { client } = await connectClient(proxy.url);
    const socket = await onA;
    const id = client.id;
    const before = collect<number>(client, "tick", 2);
    a.server.io.emit("tick", 0);
    await a.flush();
    b.server.io.to("room").emit("tick", 1);
    assert.deepEqual(await before, [0, 1]);

    proxy.target(b.server.port);
    await cutThroughProxy(socket, a);
    // Missed packets from both nodes, serialised through Redis so their order is known.
    a.server.io.emit("tick", 2);
    await a.flush();
    b.server.io.to("room").emit("tick", 3);
    b.server.io.except("room").emit("never", 0);
    b.server.io.to("other").emit("never", 1);
    await b.flush();
    a.server.io.to(socket.id).emit("tick", 4);
    a.server.io.local.emit("tick", 5); // for a's clients, which this one was
    await a.flush();
    b.server.io.local.emit("never", 2); // for b's clients, which this one was not
    b.server.io.emit("tick", 6);
    await b.flush();

    const strays: number[] = [];
    client.on("never", (n: number) => strays.push(n));
    const onB = nextSocket(b);
    const missed = collect<number>(client, "tick", 5);
    client.connect();
    await connected(client);
    assert.equal(client.recovered, true);
    assert.equal(client.id, id);
    assert.deepEqual(await missed, [2, 3, 4, 5, 6]);
    const restored = await onB;
    assert.equal(restored.recovered, true);
    assert.ok(restored.rooms.has("room"));

    const later = collect<number>(client, "tick", 2);
    a.server.io.to("room").emit("tick", 7);
    await a.flush();
    b.server.io.to(id!).emit("tick", 8);
    assert.deepEqual(await later, [7, 8]);
    // Under load, b's reader may still be behind "never" 2 when the client comes back: the
    // restore waits for it, so a local broadcast of b is never delivered live to this socket
    // (see "a node whose reader lags" in adapter-redis-streams-recovery.test.ts).
    assert.deepEqual(strays, []);
  });

  test("a client recovers on its node after that node restarted", async () => {
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
    const first = waitFor(client, "tick");
    b.server.io.emit("tick", 0);
    await first;

    const gone = waitFor(client, "disconnect");
    await a.close(); // a redeploy: the sessions are persisted before the adapter closes
    await gone;
    const missed = collect<number>(client, "tick", 3);
    b.server.io.emit("tick", 1);
    b.server.io.to("room").emit("tick", 2);
    b.server.io.to(id!).emit("tick", 3);
    await b.flush();
    const reconnected = waitFor(client, "connect", 5000);
    await startNode({}, port);
    await reconnected;
    assert.equal(client.recovered, true);
    assert.equal(client.id, id);
    assert.deepEqual(await missed, [1, 2, 3]);
  });

  test("binary packets are recovered as bytes", async () => {
    const [a, b] = [await startNode(), await startNode()];
    proxy = await startSwitchProxy(a.server.port);
    const onA = nextSocket(a);
    const { client } = await connectClient(proxy.url);
    const socket = await onA;
    proxy.target(b.server.port);
    await cutThroughProxy(socket, a);
    a.server.io.emit("bin", Buffer.from([1, 2, 3]), { inner: new Uint8Array([250, 0]) });
    await a.flush();
    const missed = waitFor<[ArrayBuffer, { inner: ArrayBuffer }, string]>(client, "bin");
    client.connect();
    await connected(client);
    assert.equal(client.recovered, true);
    const [bytes, { inner }, entryId] = await missed;
    assert.deepEqual([...new Uint8Array(bytes)], [1, 2, 3]);
    assert.deepEqual([...new Uint8Array(inner)], [250, 0]);
    assert.match(entryId, /^\d+-\d+$/);
  });

  test("a session is restored at most once, even by two nodes at the same time", async () => {
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
    assert.deepEqual(found[0]!.acks, session.acks, "the ack ledger's snapshot travels");
    assert.equal(await onB.restoreSession("p1", undefined), undefined);
  });

  test("offset trimmed from the stream: not recovered, never a silent gap", async () => {
    const a = await startNode();
    proxy = await startSwitchProxy(a.server.port);
    const onA = nextSocket(a);
    const { client } = await connectClient(proxy.url);
    const socket = await onA;
    const first = waitFor(client, "tick");
    a.server.io.emit("tick", 0);
    await first;
    await cutThroughProxy(socket, a);
    for (let i = 1; i <= 3; i++) a.server.io.emit("tick", i);
    await a.flush();
    await raw.xTrim("switchboard:stream", "MAXLEN", 1); // exact: the client's offset is gone
    // A node started since knows the stream only from Redis (a's memory still has it all).
    const b = await startNode();
    proxy.target(b.server.port);
    const id = client.id;
    client.connect();
    await connected(client);
    assert.equal(client.recovered, false);
    assert.notEqual(client.id, id);
  });

  test("a node that read packets since trimmed from the stream still replays them", async () => {
    const a = await startNode();
    proxy = await startSwitchProxy(a.server.port);
    const onA = nextSocket(a);
    const { client } = await connectClient(proxy.url);
    const socket = await onA;
    const first = waitFor(client, "tick");
    a.server.io.emit("tick", 0);
    await first;
    await cutThroughProxy(socket, a);
    const { client: other } = await connectClient(a.server.url);
    const readBack = collect<number>(other, "tick", 3); // once a read them back, they are in its memory
    const missed = collect<number>(client, "tick", 3);
    for (let i = 1; i <= 3; i++) a.server.io.emit("tick", i);
    await readBack;
    await raw.xTrim("switchboard:stream", "MAXLEN", 1);
    client.connect();
    await connected(client);
    assert.equal(client.recovered, true);
    assert.deepEqual(await missed, [1, 2, 3]);
  });

  test("a session past maxDisconnectionDuration is gone: not recovered", async () => {
    const a = await startNode({ maxDisconnectionDuration: 200 });
    const b = await startNode({ maxDisconnectionDuration: 200 });
    proxy = await startSwitchProxy(a.server.port);
    const onA = nextSocket(a);
    const { client } = await connectClient(proxy.url);
    const socket = await onA;
    proxy.target(b.server.port);
    await cutThroughProxy(socket, a);
    assert.equal((await raw.keys("switchboard:session:*")).length, 1);
    await waitUntil(
      async () => (await raw.keys("switchboard:session:*")).length === 0,
      "the session expired in Redis",
    );
    client.connect();
    await connected(client);
    assert.equal(client.recovered, false);
  });
});
