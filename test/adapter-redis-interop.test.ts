// A Socket.IO server with @socket.io/redis-adapter and a Switchboard server with ours, on one
// redis-server: each side's broadcasts and requests reach the other side's clients.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { createAdapter } from "@socket.io/redis-adapter";
import { createRedisAdapter } from "../src/redis/index.js";
import type { Server } from "../src/server/index.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { TIMING, withTimeout } from "./cluster/cluster-harness.js";
import { type InteropPair, interopPairs } from "./cluster/interop-pair.js";
import { waitFor } from "./support/harness.js";

const skip = missingBinary("redis-server");

describe("interop with @socket.io/redis-adapter", { skip: skip ?? false, timeout: 20_000 }, () => {
  let broker: Broker | undefined;
  const pairs = interopPairs(() => broker!, {
    switchboard: (pub, sub) => createRedisAdapter(pub, sub, TIMING),
    socketio: (pub, sub) => createAdapter(pub, sub),
  });

  before(async () => {
    broker = await startRedisServer();
  });
  after(async () => {
    await broker?.close();
  });
  afterEach(() => pairs.stop());

  const startPair = (): Promise<InteropPair> => pairs.start();

  test("a Switchboard broadcast, binary included, reaches the Socket.IO server's clients", async () => {
    const { sb, onSb, onSio } = await startPair();
    const got = Promise.all([waitFor(onSb, "news"), waitFor(onSio, "news")]);
    sb.io.to("r").emit("news", "hi", Buffer.from([1, 2, 3]));
    for (const [text, bytes] of await got) {
      assert.equal(text, "hi");
      assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [1, 2, 3]);
    }
  });

  test("a Socket.IO broadcast reaches the Switchboard server's clients", async () => {
    const { sio, onSb, onSio } = await startPair();
    const got = Promise.all([waitFor(onSb, "news"), waitFor(onSio, "news")]);
    sio.emit("news", { from: "socket.io" }, Buffer.from([9]));
    for (const [obj, bytes] of await got) {
      assert.deepEqual(obj, { from: "socket.io" });
      assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [9]);
    }
    const inRoom = waitFor(onSb, "room");
    sio.to("r").emit("room", 1);
    assert.equal((await inRoom)[0], 1);
  });

  test("Socket.IO's fetchSockets, serverSideEmit and acks get Switchboard's answers", async () => {
    const { sb, sio, onSb, onSio } = await startPair();
    const sockets = await sio.fetchSockets();
    const names = sockets.map((s) => (s.data as { name: string }).name).sort();
    assert.deepEqual(names, ["onSb", "onSio"]);
    const remote = sockets.find((s) => s.id === onSb.id)!;
    assert.deepEqual([...remote.rooms].sort(), [onSb.id, "r"].sort());
    (sb.io as Server).on("whoami", (ack: (name: string) => void) => ack("switchboard"));
    assert.deepEqual(await sio.serverSideEmitWithAck("whoami"), ["switchboard"]);
    onSb.on("ask", (ack: (name: string) => void) => ack("onSb"));
    onSio.on("ask", (ack: (name: string) => void) => ack("onSio"));
    const acks = await sio.timeout(2000).emitWithAck("ask");
    assert.deepEqual((acks as string[]).sort(), ["onSb", "onSio"]);
  });

  test("socketsJoin and disconnectSockets work in both directions", async () => {
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
