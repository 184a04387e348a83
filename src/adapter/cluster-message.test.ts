import assert from "node:assert/strict";
import { describe, test } from "node:test";
import notepack from "notepack.io";
import { ErrorCode } from "../errors.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  decodeClusterMessage,
  encodeClusterMessage,
  fromWireOptions,
  parseClusterMessage,
  toWireOptions,
} from "./cluster-message.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Golden rows: each message encodes as notepack.io encodes the same object, and back. */
const golden: { name: string; message: ClusterMessage }[] = [
  {
    name: "heartbeat",
    message: { uid: "u1", nsp: "/", type: ClusterMessageType.HEARTBEAT, data: undefined },
  },
  {
    name: "broadcast with binary and options",
    message: {
      uid: "u1",
      nsp: "/chat",
      type: ClusterMessageType.BROADCAST,
      data: {
        packet: { type: 2, nsp: "/chat", data: ["ev", Buffer.from([1, 2])] },
        opts: { rooms: ["r1"], except: ["r2"], flags: { volatile: true } },
      },
    },
  },
  {
    name: "fetch sockets response",
    message: {
      uid: "u2",
      nsp: "/",
      type: ClusterMessageType.FETCH_SOCKETS_RESPONSE,
      data: {
        requestId: "q1",
        sockets: [{ id: "s1", handshake: { auth: { a: 1 } }, rooms: ["s1", "r"], data: { n: 1 } }],
      },
    },
  },
  {
    name: "server-side emit with a request id",
    message: {
      uid: "u1",
      nsp: "/",
      type: ClusterMessageType.SERVER_SIDE_EMIT,
      data: { packet: ["hello", 1], requestId: "q2" },
    },
  },
  {
    name: "broadcast client count",
    message: {
      uid: "u3",
      nsp: "/",
      type: ClusterMessageType.BROADCAST_CLIENT_COUNT,
      data: { requestId: "q3", clientCount: 4 },
    },
  },
];

describe("cluster messages", () => {
  for (const row of golden) {
    test(`${row.name}: encodes as notepack.io does`, () => {
      assert.equal(hex(encodeClusterMessage(row.message)), hex(notepack.encode(row.message)));
    });
    test(`${row.name}: decodes back`, () => {
      const result = decodeClusterMessage(notepack.encode(row.message) as Buffer);
      assert.ok(result.ok, result.ok ? "" : result.error.message);
      assert.deepEqual(result.value, row.message);
    });
  }

  test("options travel as arrays without the local flag", () => {
    const wire = toWireOptions({
      rooms: new Set(["a"]),
      except: new Set(["b"]),
      flags: { local: true, compress: false, timeout: 5 },
    });
    assert.deepEqual(wire, { rooms: ["a"], except: ["b"], flags: { compress: false, timeout: 5 } });
    assert.deepEqual(fromWireOptions(wire).rooms, new Set(["a"]));
  });

  test("a BINARY_EVENT packet is accepted (binaries are inline)", () => {
    const result = parseClusterMessage({
      uid: "u",
      nsp: "/",
      type: ClusterMessageType.BROADCAST,
      data: { packet: { type: 5, data: ["x"] }, opts: { rooms: [], except: [] } },
    });
    assert.ok(result.ok);
  });
});

describe("malformed cluster messages", () => {
  const rows: { name: string; value: unknown }[] = [
    { name: "not a map", value: [1, 2] },
    { name: "no uid", value: { nsp: "/", type: 2 } },
    { name: "string type", value: { uid: "u", nsp: "/", type: "2" } },
    { name: "unknown type", value: { uid: "u", nsp: "/", type: 99, data: {} } },
    {
      name: "broadcast without options",
      value: { uid: "u", nsp: "/", type: 3, data: { packet: { type: 2, data: [] } } },
    },
    {
      name: "broadcast of a CONNECT packet",
      value: {
        uid: "u",
        nsp: "/",
        type: 3,
        data: { packet: { type: 0, data: [] }, opts: { rooms: [], except: [] } },
      },
    },
    {
      name: "rooms that are not strings",
      value: { uid: "u", nsp: "/", type: 4, data: { opts: { rooms: [1], except: [] }, rooms: [] } },
    },
    {
      name: "fetch without a request id",
      value: { uid: "u", nsp: "/", type: 7, data: { opts: { rooms: [], except: [] } } },
    },
    {
      name: "negative client count",
      value: { uid: "u", nsp: "/", type: 11, data: { requestId: "q", clientCount: -1 } },
    },
    {
      name: "socket without rooms",
      value: { uid: "u", nsp: "/", type: 8, data: { requestId: "q", sockets: [{ id: "s" }] } },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = parseClusterMessage(row.value);
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, ErrorCode.INVALID_PAYLOAD);
    });
  }

  test("undecodable bytes", () => {
    const result = decodeClusterMessage(new Uint8Array([0xc1]));
    assert.equal(result.ok, false);
  });
});
