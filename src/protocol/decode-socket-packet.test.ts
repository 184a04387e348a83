import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ErrorCode } from "../errors.js";
import { decodeSocketPacket, SocketPacketDecoder } from "./socket-packet.js";

// decodeSocketPacket is the stateless decoder of text packets without attachments, and its
// fast path handles the common "2[...]"/"3<id>[...]" shapes: both must agree with the
// stateful decoder on every input, valid or not.
const prefix = fc.constantFrom("", "2", "3", "21", "317", "2007", "0", "1", "4", "2/", "2/a,");
const body = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.json({ maxDepth: 4 }),
  fc.constantFrom('["ev"]', '["ev",1,{"a":[2]}]', "[]", '["connect"]', "[[[[[[1]]]]]]", '{"a":1}'),
);

function same(text: string, maxDepth = 32): void {
  const stateless = decodeSocketPacket(text, { maxDepth });
  const stateful = new SocketPacketDecoder({ maxDepth }).add(text);
  assert.equal(stateless.ok, stateful.ok, text);
  if (stateless.ok && stateful.ok) assert.deepEqual(stateless.value, stateful.value, text);
  if (!stateless.ok && !stateful.ok) assert.equal(stateless.error.code, stateful.error.code, text);
}

describe("decodeSocketPacket", () => {
  it("agrees with SocketPacketDecoder on arbitrary text packets", () => {
    fc.assert(
      fc.property(prefix, body, (p, b) => same(p + b)),
      { numRuns: 1000 },
    );
  });

  it("agrees on the table of common and edge shapes", () => {
    for (const text of [
      '2["hello",1]',
      '21["hello"]',
      '31[{"ok":true}]',
      "3[1]", // ACK without an id
      "2[]",
      '2["disconnect"]',
      '2[1,"a"]',
      `2${"9".repeat(15)}["a"]`,
      `2${"9".repeat(16)}["a"]`,
      '2["a",[[[[1]]]]]',
      '2["a"',
      '2 ["a"]',
      '2/chat,["a"]',
      "0",
      '0{"token":"x"}',
    ]) {
      same(text);
      same(text, 3);
    }
  });

  it("decodes an event and an ack with ids", () => {
    assert.deepEqual(decodeSocketPacket('212["ev",{"a":1}]'), {
      ok: true,
      value: { type: 2, nsp: "/", data: ["ev", { a: 1 }], id: 12 },
    });
    assert.deepEqual(decodeSocketPacket("30[]"), {
      ok: true,
      value: { type: 3, nsp: "/", data: [], id: 0 },
    });
  });

  it("refuses a binary packet header, which needs a stateful decoder", () => {
    const result = decodeSocketPacket('51-["ev",{"_placeholder":true,"num":0}]');
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, ErrorCode.INVALID_PACKET);
  });
});
