import assert from "node:assert/strict";
import { describe, test } from "node:test";
import notepack from "notepack.io";
import { ClusterMessageType, type TargetedMessage } from "../adapter/cluster-message.js";
import {
  decodeRedisBroadcast,
  decodeRedisRequest,
  decodeRedisResponse,
  encodeRedisMessage,
  encodeRedisResponse,
  redisChannels,
} from "./redis-codec.js";

const channels = redisChannels("socket.io", "/chat");
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const opts = { rooms: ["r"], except: [], flags: {} };
const packet = { type: 2, nsp: "/chat", data: ["ev", Buffer.from([1])] };

describe("redis channels", () => {
  test("are @socket.io/redis-adapter's", () => {
    assert.equal(channels.broadcast, "socket.io#/chat#");
    assert.equal(channels.request, "socket.io-request#/chat#");
    assert.equal(channels.response, "socket.io-response#/chat#");
    assert.equal(channels.specificResponse("u1"), "socket.io-response#/chat#u1#");
  });
});

describe("redis messages, as @socket.io/redis-adapter writes them", () => {
  test("a one-room broadcast goes to the room's channel as [uid, packet, opts]", () => {
    const message = {
      uid: "u1",
      nsp: "/chat",
      type: ClusterMessageType.BROADCAST,
      data: { packet, opts },
    } as const;
    const { channel, payload } = encodeRedisMessage(message, channels);
    assert.equal(channel, "socket.io#/chat#r#");
    assert.equal(hex(payload), hex(notepack.encode(["u1", packet, opts])));
    const decoded = decodeRedisBroadcast(payload, "/chat");
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, message);
  });

  test("a broadcast with acks is a BROADCAST (7) request", () => {
    const message = {
      uid: "u1",
      nsp: "/chat",
      type: ClusterMessageType.BROADCAST,
      data: { packet, opts, requestId: "q1" },
    } as const;
    const { channel, payload } = encodeRedisMessage(message, channels);
    assert.equal(channel, channels.request);
    const wire = { uid: "u1", requestId: "q1", type: 7, packet, opts };
    assert.equal(hex(payload), hex(notepack.encode(wire)));
    const decoded = decodeRedisRequest(notepack.encode(wire), "/chat");
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, message);
  });

  test("a JSON REMOTE_FETCH (5) is a FETCH_SOCKETS", () => {
    const wire = { uid: "sio", requestId: "q2", type: 5, opts: { rooms: ["r"], except: [] } };
    const decoded = decodeRedisRequest(json(wire), "/chat");
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, {
      uid: "sio",
      nsp: "/chat",
      type: ClusterMessageType.FETCH_SOCKETS,
      data: { opts: { rooms: ["r"], except: [] }, requestId: "q2" },
    });
  });

  test("a JSON SERVER_SIDE_EMIT (6) without ack, and the legacy SOCKETS (0) request", () => {
    const emit = decodeRedisRequest(json({ uid: "sio", type: 6, data: ["hi", 1] }), "/");
    assert.ok(emit.ok);
    assert.deepEqual(emit.value, {
      uid: "sio",
      nsp: "/",
      type: ClusterMessageType.SERVER_SIDE_EMIT,
      data: { packet: ["hi", 1] },
    });
    const sockets = decodeRedisRequest(
      json({ uid: "sio", requestId: "q", type: 0, rooms: ["r"] }),
      "/",
    );
    assert.ok(sockets.ok);
    assert.deepEqual(sockets.value, { kind: "sockets", uid: "sio", requestId: "q", rooms: ["r"] });
  });

  test("heartbeats ride the request channel as type 102", () => {
    const message = {
      uid: "u1",
      nsp: "/chat",
      type: ClusterMessageType.HEARTBEAT,
      data: undefined,
    } as const;
    const { channel, payload } = encodeRedisMessage(message, channels);
    assert.equal(channel, channels.request);
    assert.equal(hex(payload), hex(notepack.encode({ uid: "u1", type: 102 })));
    const decoded = decodeRedisRequest(payload, "/chat");
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, message);
  });

  test("responses: Socket.IO's name no sender; ours add the uid", () => {
    const fromSio = decodeRedisResponse(
      json({ requestId: "q", sockets: [{ id: "s", handshake: {}, rooms: ["s"], data: {} }] }),
      "/",
    );
    assert.ok(fromSio.ok);
    assert.equal(fromSio.value.uid, "");
    assert.equal(fromSio.value.type, ClusterMessageType.FETCH_SOCKETS_RESPONSE);
    const count = {
      uid: "u2",
      nsp: "/",
      type: ClusterMessageType.BROADCAST_CLIENT_COUNT,
      data: { requestId: "q", clientCount: 3 },
    } as const;
    const payload = encodeRedisResponse(count);
    assert.equal(
      hex(payload),
      hex(notepack.encode({ type: 8, requestId: "q", clientCount: 3, uid: "u2" })),
    );
    const decoded = decodeRedisResponse(payload, "/");
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, count);
  });
});

describe("malformed redis messages", () => {
  const rows: { name: string; decode: () => { ok: boolean } }[] = [
    {
      name: "broadcast that is not an array",
      decode: () => decodeRedisBroadcast(notepack.encode({}), "/"),
    },
    {
      name: "broadcast of a CONNECT",
      decode: () => decodeRedisBroadcast(notepack.encode(["u", { type: 0, data: [] }, opts]), "/"),
    },
    {
      name: "request that is not JSON",
      decode: () => decodeRedisRequest(new TextEncoder().encode("{nope"), "/"),
    },
    {
      name: "request of an unknown type",
      decode: () => decodeRedisRequest(json({ uid: "u", type: 42 }), "/"),
    },
    {
      name: "old single-socket REMOTE_JOIN",
      decode: () =>
        decodeRedisRequest(json({ uid: "u", type: 2, sid: "s", room: "r", requestId: "q" }), "/"),
    },
    {
      name: "response without requestId",
      decode: () => decodeRedisResponse(json({ sockets: [] }), "/"),
    },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(row.decode().ok, false));
  }
});

describe("Switchboard node messages on a response channel", () => {
  test("they travel through the Redis response codec unchanged", () => {
    const message: TargetedMessage = {
      uid: "a",
      nsp: "/",
      type: ClusterMessageType.NODE_REQUEST,
      data: { requestId: "a-1", body: { sid: "x", b: Buffer.from("4h") } },
    };
    const decoded = decodeRedisResponse(encodeRedisResponse(message), "/");
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, message);
  });
});
