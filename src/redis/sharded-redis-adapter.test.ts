import assert from "node:assert/strict";
import { test } from "node:test";
import notepack from "notepack.io";
import { ClusterMessageType } from "../adapter/cluster-message.js";
import { ErrorCode } from "../errors.js";
import { decodeShardedMessage } from "./sharded-redis-adapter.js";

const join = {
  uid: "u1",
  nsp: "/",
  type: ClusterMessageType.SOCKETS_JOIN,
  data: { opts: { rooms: ["a"], except: [], flags: {} }, rooms: ["b"] },
};

test("sharded messages decode from MessagePack and from Socket.IO's JSON", () => {
  for (const bytes of [notepack.encode(join), Buffer.from(JSON.stringify(join))]) {
    const decoded = decodeShardedMessage(bytes);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, join);
  }
});

test("malformed sharded messages are errors, not exceptions", () => {
  const rows = [
    Buffer.from([0xc1]),
    Buffer.from("{nope"),
    notepack.encode({ uid: "u" }),
    notepack.encode([1]),
  ];
  for (const bytes of rows) {
    const decoded = decodeShardedMessage(bytes);
    assert.equal(decoded.ok, false);
    if (!decoded.ok)
      assert.ok(
        [ErrorCode.INVALID_PAYLOAD, ErrorCode.INVALID_JSON].includes(decoded.error.code as never),
      );
  }
});
