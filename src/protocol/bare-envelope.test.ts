import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeBareFrame, encodeBareFrame } from "./bare-envelope.js";
import { SocketPacketType } from "./socket-packet.js";

describe("bare-WebSocket envelope", () => {
  test("client frames become Socket.IO packets", () => {
    const cases: [string, unknown][] = [
      ['{"connect":"/chat","auth":{"t":1}}', { type: 0, nsp: "/chat", data: { t: 1 } }],
      ['{"connect":"/"}', { type: 0, nsp: "/", data: undefined }],
      ['{"disconnect":"/chat"}', { type: 1, nsp: "/chat" }],
      ['{"event":"e"}', { type: 2, nsp: "/", data: ["e"], id: undefined }],
      [
        '{"event":"e","args":[1,{"a":null}],"ack":3,"nsp":"/x"}',
        { type: 2, nsp: "/x", data: ["e", 1, { a: null }], id: 3 },
      ],
      ['{"ack":0,"args":["ok"]}', { type: 3, nsp: "/", data: ["ok"], id: 0 }],
      [
        '{"event":"b","args":[{"$binary":"AQI="}]}',
        { type: 2, nsp: "/", data: ["b", new Uint8Array([1, 2])], id: undefined },
      ],
      [
        '{"event":"b","args":[{"$binary":"AQI=","x":1}]}',
        { type: 2, nsp: "/", data: ["b", { $binary: "AQI=", x: 1 }], id: undefined },
      ],
    ];
    for (const [text, expected] of cases) {
      const decoded = decodeBareFrame(text, 32);
      assert.ok(decoded.ok, text);
      assert.deepEqual(decoded.value, expected, text);
    }
  });

  test("malformed frames are errors with codes", () => {
    const cases: [string, string][] = [
      ["nope", "SB_ERR_INVALID_JSON"],
      ["null", "SB_ERR_INVALID_PAYLOAD"],
      ['{"event":1}', "SB_ERR_INVALID_PAYLOAD"],
      ['{"event":"e","args":{}}', "SB_ERR_INVALID_PAYLOAD"],
      ['{"event":"disconnect"}', "SB_ERR_INVALID_PAYLOAD"],
      ['{"event":"e","ack":1.5}', "SB_ERR_INVALID_ACK_ID"],
      ['{"event":"e","nsp":"x"}', "SB_ERR_INVALID_NAMESPACE"],
      ['{"connect":"/","auth":[1]}', "SB_ERR_INVALID_PAYLOAD"],
      ['{"nothing":true}', "SB_ERR_INVALID_PAYLOAD"],
    ];
    for (const [text, code] of cases) {
      const decoded = decodeBareFrame(text, 32);
      assert.equal(decoded.ok, false, text);
      if (!decoded.ok) assert.equal(decoded.error.code, code, text);
    }
  });

  test("server packets become envelopes; recovery offsets are dropped only where they are", () => {
    const event = { type: SocketPacketType.EVENT, nsp: "/", data: ["e", 1, "off-1"] };
    assert.equal(encodeBareFrame(event, true), '{"event":"e","args":[1]}');
    assert.equal(encodeBareFrame(event, false), '{"event":"e","args":[1,"off-1"]}');
    const withAck = { ...event, id: 4, nsp: "/x" };
    assert.equal(
      encodeBareFrame(withAck, true),
      '{"event":"e","args":[1,"off-1"],"ack":4,"nsp":"/x"}',
    );
    assert.equal(
      encodeBareFrame(
        { type: SocketPacketType.ACK, nsp: "/", data: [Buffer.from([255])], id: 2 },
        true,
      ),
      '{"ack":2,"args":[{"$binary":"/w=="}]}',
    );
    assert.equal(
      encodeBareFrame(
        { type: SocketPacketType.CONNECT, nsp: "/a", data: { sid: "S", pid: "P" } },
        false,
      ),
      '{"connected":"/a","id":"S"}',
    );
    assert.equal(
      encodeBareFrame(
        { type: SocketPacketType.CONNECT_ERROR, nsp: "/a", data: { message: "no" } },
        false,
      ),
      '{"connect_error":"/a","message":"no"}',
    );
  });
});
