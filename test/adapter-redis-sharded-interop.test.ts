// A Socket.IO server with @socket.io/redis-adapter's createShardedAdapter and a Switchboard
// server with createShardedRedisAdapter, on one redis-server (sharded pub/sub, dynamic
// room channels on both sides): each side's broadcasts and requests reach the other's.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { Server as SocketIOServer } from "socket.io";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { createShardedRedisAdapter } from "../src/redis/index.js";
import type { Server } from "../src/server/index.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { TIMING, waitUntil, withTimeout } from "./cluster/cluster-harness.js";
import { redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

interface Pair {
  sb: TestServer;
  sio: SocketIOServer;
  /** Client of the Switchboard server, in room "r". */
  onSb: ClientSocket;
  /** Client of the Socket.IO server, in room "r". */
  onSio: ClientSocket;
}

const skip = missingBinary("redis-server");

describe("interop with @socket.io/redis-adapter's sharded adapter", {
  skip: skip ?? false,
  timeout: 20_000,
}, () => {
  let broker: Broker | undefined;
  let pair: Pair | undefined;
  const redisClients: TestRedisClient[] = [];
  const sioClients: ClientSocket[] = [];

  before(async () => {
    broker = await startRedisServer();
  });
  after(async () => {
    await broker?.close();
  });
  afterEach(async () => {
    closeClients();
    for (const client of sioClients.splice(0)) client.disconnect();
    await pair?.sb.close();
    await new Promise((resolve) => pair?.sio.close(resolve) ?? resolve(undefined));
    pair = undefined;
    await Promise.all(redisClients.splice(0).map((c) => (c.isOpen ? c.close() : undefined)));
  });

  async function clients(): Promise<[TestRedisClient, TestRedisClient]> {
    const made = await Promise.all([redisClient(broker!.url), redisClient(broker!.url)]);
    redisClients.push(...made);
    return made;
  }

  async function startPair(): Promise<Pair> {
    const [pub1, sub1] = await clients();
    const sb = await startServer({ adapter: createShardedRedisAdapter(pub1, sub1, TIMING) });
    const [pub2, sub2] = await clients();
    const http = createServer();
    const sio = new SocketIOServer(http, { adapter: createShardedAdapter(pub2, sub2) });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const sioUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    for (const server of [sb.io, sio] as const) {
      (server as Server).on("connection", (socket) => {
        socket.data = { name: socket.handshake.auth.name as string };
        socket.join("r");
      });
    }
    // Socket.IO counts the subscribers of the namespace channel (SHARDNUMSUB)
    await waitUntil(async () => (await sio.of("/").adapter.serverCount()) === 2, "both subscribed");
    const onSb = sb.client("/", { auth: { name: "onSb" } });
    const onSio = ioc(sioUrl, { forceNew: true, reconnection: false, auth: { name: "onSio" } });
    sioClients.push(onSio);
    await Promise.all([connected(onSb), connected(onSio)]);
    // both sides subscribed to room r's channel
    const channel = "socket.io#/#r#";
    await waitUntil(
      async () => (await pub1.pubSubShardNumSub(channel))[channel] === 2,
      "both nodes on room r's channel",
    );
    pair = { sb, sio, onSb, onSio };
    return pair;
  }

  test("broadcasts cross both ways, to everyone and to a room's channel, binary included", async () => {
    const { sb, sio, onSb, onSio } = await startPair();
    const fromSb = Promise.all([waitFor(onSb, "news"), waitFor(onSio, "news")]);
    sb.io.to("r").emit("news", "hi", Buffer.from([1, 2, 3]));
    for (const [text, bytes] of await fromSb) {
      assert.equal(text, "hi");
      assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [1, 2, 3]);
    }
    const fromSio = Promise.all([waitFor(onSb, "all"), waitFor(onSio, "all")]);
    sio.emit("all", { from: "socket.io" });
    for (const [obj] of await fromSio) assert.deepEqual(obj, { from: "socket.io" });
    const inRoom = waitFor(onSb, "room");
    sio.to("r").emit("room", 1, Buffer.from([9]));
    const [n, bytes] = await inRoom;
    assert.equal(n, 1);
    assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [9]);
  });

  test("Socket.IO's fetchSockets, serverSideEmit and acks get Switchboard's answers", async () => {
    const { sb, sio, onSb, onSio } = await startPair();
    const sockets = await sio.fetchSockets();
    assert.deepEqual(sockets.map((s) => (s.data as { name: string }).name).sort(), [
      "onSb",
      "onSio",
    ]);
    (sb.io as Server).on("whoami", (ack: (name: string) => void) => ack("switchboard"));
    assert.deepEqual(await sio.serverSideEmitWithAck("whoami"), ["switchboard"]);
    onSb.on("ask", (ack: (name: string) => void) => ack("onSb"));
    onSio.on("ask", (ack: (name: string) => void) => ack("onSio"));
    const acks = await sio.timeout(2000).emitWithAck("ask");
    assert.deepEqual((acks as string[]).sort(), ["onSb", "onSio"]);
  });

  test("socketsJoin from Switchboard and disconnectSockets from Socket.IO", async () => {
    const { sb, sio, onSb, onSio } = await startPair();
    sb.io.in("r").socketsJoin("both");
    const joined = Promise.all([waitFor(onSb, "j"), waitFor(onSio, "j")]);
    sb.io.to("both").emit("j");
    await withTimeout(joined, 3000, "both clients in room both");
    const gone = waitFor(onSb, "disconnect");
    sio.in(onSb.id!).disconnectSockets();
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal(onSio.connected, true);
  });
});
