// A Socket.IO server with @socket.io/redis-adapter's createShardedAdapter and a Switchboard
// server with createShardedRedisAdapter, on one redis-server (sharded pub/sub, dynamic
// room channels on both sides): each side's broadcasts and requests reach the other's.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { createShardedRedisAdapter } from "../src/redis/index.js";
import type { Server } from "../src/server/index.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { TIMING, waitUntil, withTimeout } from "./cluster/cluster-harness.js";
import { type InteropPair, interopPairs } from "./cluster/interop-pair.js";
import { waitFor } from "./support/harness.js";

const skip = missingBinary("redis-server");

describe("interop with @socket.io/redis-adapter's sharded adapter", {
  skip: skip ?? false,
  timeout: 20_000,
}, () => {
  let broker: Broker | undefined;
  const pairs = interopPairs(() => broker!, {
    switchboard: (pub, sub) => createShardedRedisAdapter(pub, sub, TIMING),
    socketio: (pub, sub) => createShardedAdapter(pub, sub),
  });

  before(async () => {
    broker = await startRedisServer();
  });
  after(async () => {
    await broker?.close();
  });
  afterEach(() => pairs.stop());

  async function startPair(): Promise<InteropPair> {
    const pair = await pairs.start();
    // both sides subscribed to room r's channel
    const channel = "socket.io#/#r#";
    await waitUntil(
      async () => (await pair.sbPub.pubSubShardNumSub(channel))[channel] === 2,
      "both nodes on room r's channel",
    );
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
