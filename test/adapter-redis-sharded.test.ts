// Redis sharded pub/sub (SPUBLISH/SSUBSCRIBE) over a real redis-server: the adapter suite in
// every subscription mode, and per-room channels proven by counting what each node's
// subscriber receives.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ClusterMessageType } from "../src/adapter/cluster-message.js";
import type { RedisListener, ShardedRedisClient } from "../src/redis/index.js";
import { decodeShardedMessage } from "../src/redis/sharded-redis-adapter.js";
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { missingBinary } from "./cluster/brokers.js";
import { TIMING, waitUntil } from "./cluster/cluster-harness.js";
import { redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import { createShardedFixture } from "./cluster/redis-sharded-fixture.js";
import {
  closeClients,
  collect,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

const skip = missingBinary("redis-server");

for (const mode of ["dynamic", "dynamic-private", "static"] as const) {
  runAdapterSuite({
    name: `redis sharded (${mode})`,
    skipAll: skip,
    create: () => createShardedFixture({ subscriptionMode: mode }),
  });
}

/** What one node's subscriber received: each message's channel, type and target rooms. */
interface Received {
  readonly channel: string;
  readonly type: number;
  readonly rooms: readonly string[];
}

/** A subscriber client that logs every message it hands to the adapter. */
function counting(sub: ShardedRedisClient, log: Received[]): ShardedRedisClient {
  const wrapped = new Map<RedisListener, RedisListener>();
  const wrap = (listener: RedisListener): RedisListener => {
    let logged = wrapped.get(listener);
    if (logged === undefined) {
      logged = (message, channel) => {
        const decoded = decodeShardedMessage(message);
        assert.ok(decoded.ok);
        const { type, data } = decoded.value;
        const rooms =
          type === ClusterMessageType.BROADCAST
            ? (data as { opts: { rooms: readonly string[] } }).opts.rooms
            : [];
        log.push({ channel: channel.toString(), type, rooms });
        return listener(message, channel);
      };
      wrapped.set(listener, logged);
    }
    return logged;
  };
  return {
    get isReady() {
      return sub.isReady;
    },
    sPublish: (channel, message) => sub.sPublish(channel, message),
    sSubscribe: (channel, listener, mode) => sub.sSubscribe(channel, wrap(listener), mode),
    sUnsubscribe: (channel, listener, mode) => sub.sUnsubscribe(channel, wrap(listener), mode),
    on: (event, listener) => sub.on(event, listener),
    off: (event, listener) => sub.off(event, listener),
  };
}

for (const [mode, strangerGets] of [
  ["dynamic", 0],
  ["static", 5],
] as const) {
  describe(`per-room channels (${mode})`, { skip: skip ?? false, timeout: 20_000 }, () => {
    const logs: Received[][] = [[], [], []];
    let fixture: Awaited<ReturnType<typeof createShardedFixture>> | undefined;
    const nodes: { server: TestServer; close(): Promise<void> }[] = [];
    let raw: TestRedisClient | undefined;
    after(async () => {
      closeClients();
      for (const node of nodes) await node.close();
      await raw?.close();
      await fixture?.close();
    });

    test(`a node with no member in a room ${strangerGets === 0 ? "receives nothing" : "still receives everything"} for it`, async () => {
      fixture = await createShardedFixture({ subscriptionMode: mode }, (sub, i) =>
        counting(sub, logs[i]!),
      );
      raw = await redisClient(fixture.broker.url);
      for (let i = 0; i < 3; i++) {
        const nodeAdapter = await fixture.node(TIMING);
        const server = await startServer({ adapter: nodeAdapter.adapter });
        server.io.on("connection", (socket) => {
          socket.join((socket.handshake.auth as { rooms: string[] }).rooms);
        });
        nodes.push({
          server,
          close: async () => {
            await server.close();
            await nodeAdapter.close();
          },
        });
      }
      const [n0, n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
      const member = n1.server.client("/", { auth: { rooms: ["x"] } });
      const stranger = n2.server.client("/", { auth: { rooms: ["z"] } });
      await Promise.all([connected(member), connected(stranger)]);
      const xChannel = "socket.io#/#x#";
      const expectedSubscribers = mode === "static" ? 0 : 1;
      await waitUntil(
        async () => (await raw!.pubSubShardNumSub(xChannel))[xChannel] === expectedSubscribers,
        `${expectedSubscribers} subscriber(s) on the room's channel`,
      );
      for (const log of logs) log.length = 0;

      const got = collect<number>(member, "news", 5);
      const markers = Promise.all([member, stranger].map((c) => waitFor(c, "marker")));
      for (let i = 0; i < 5; i++) n0.server.io.to("x").emit("news", i);
      n0.server.io.emit("marker"); // published after the five: once it arrives, they would have
      assert.deepEqual(await got, [0, 1, 2, 3, 4]);
      await markers;
      const forX = (log: Received[]) => log.filter((m) => m.rooms.includes("x")).length;
      assert.equal(forX(logs[1]!), 5, "the member's node received the room's broadcasts");
      assert.equal(forX(logs[2]!), strangerGets, "the node without a member");
      assert.equal(forX(logs[0]!), strangerGets, "the sending node, with no member either");

      if (mode === "static") return;
      // The last member leaves: its node unsubscribes and hears nothing more for the room.
      member.disconnect();
      await waitUntil(
        async () => (await raw!.pubSubShardNumSub(xChannel))[xChannel] === 0,
        "nobody subscribed to the room's channel",
      );
      const marker = waitFor(stranger, "marker");
      for (let i = 0; i < 3; i++) n0.server.io.to("x").emit("news", i);
      n0.server.io.emit("marker");
      await marker;
      await waitUntil(
        () => logs[1]!.some((m) => m.type === ClusterMessageType.BROADCAST && m.rooms.length === 0),
        "n1 got the marker",
      );
      assert.equal(forX(logs[1]!), 5, "nothing more for the room once its member left");
    });
  });
}

describe("per-socket channels (dynamic-private)", { skip: skip ?? false, timeout: 20_000 }, () => {
  test("a socket's own channel is subscribed while it is connected, and dropped when it leaves", async () => {
    const fixture = await createShardedFixture({ subscriptionMode: "dynamic-private" });
    const raw = await redisClient(fixture.broker.url);
    const nodeAdapter = await fixture.node(TIMING);
    const server = await startServer({ adapter: nodeAdapter.adapter });
    try {
      const joined = waitFor<[{ id: string }]>(server.io, "connection");
      const client = server.client("/");
      await connected(client);
      const [socket] = await joined;
      const own = `socket.io#/#${socket.id}#`;
      await waitUntil(
        async () => (await raw.pubSubShardNumSub(own))[own] === 1,
        "one subscriber on the socket's own channel",
      );
      client.disconnect();
      await waitUntil(
        async () => (await raw.pubSubShardNumSub(own))[own] === 0,
        "nobody subscribed to the socket's own channel after it left",
      );
    } finally {
      closeClients();
      await server.close();
      await nodeAdapter.close();
      await raw.close();
      await fixture.close();
    }
  });
});
