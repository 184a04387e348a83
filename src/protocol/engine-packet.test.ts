import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ErrorCode, type ErrorCodeValue } from "../errors.js";
import {
  decodePacket,
  decodePayload,
  type EnginePacket,
  type EnginePacketKind,
  EnginePacketType,
  encodePacket,
  encodePacketAsText,
  encodePayload,
  type RawData,
} from "./engine-packet.js";

const HANDSHAKE =
  '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
const b1234 = new Uint8Array([1, 2, 3, 4]);

function decoded<T>(result: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!result.ok) assert.fail(`rejected: ${result.error.message}`);
  return result.value;
}

// engine.io-protocol v4 §protocol and §packet-encoding examples, one WebSocket frame each.
const packetRows: readonly { name: string; packet: EnginePacket; wire: RawData }[] = [
  { name: "open with handshake", packet: { type: "open", data: HANDSHAKE }, wire: `0${HANDSHAKE}` },
  { name: "close", packet: { type: "close" }, wire: "1" },
  { name: "ping", packet: { type: "ping" }, wire: "2" },
  { name: "pong", packet: { type: "pong" }, wire: "3" },
  { name: "ping probe", packet: { type: "ping", data: "probe" }, wire: "2probe" },
  { name: "pong probe", packet: { type: "pong", data: "probe" }, wire: "3probe" },
  { name: "message", packet: { type: "message", data: "hello" }, wire: "4hello" },
  {
    name: "socket.io EVENT in a message",
    packet: { type: "message", data: '2["foo"]' },
    wire: '42["foo"]',
  },
  { name: "message without data", packet: { type: "message" }, wire: "4" },
  { name: "upgrade", packet: { type: "upgrade" }, wire: "5" },
  { name: "noop", packet: { type: "noop" }, wire: "6" },
  { name: "unicode message", packet: { type: "message", data: "€\u2028😀" }, wire: "4€\u2028😀" },
  { name: "binary message sent as is", packet: { type: "message", data: b1234 }, wire: b1234 },
];

describe("engine packet golden table (engine.io-protocol v4, WebSocket)", () => {
  for (const row of packetRows) {
    it(`encodes ${row.name}`, () => assert.deepEqual(encodePacket(row.packet), row.wire));
    it(`decodes ${row.name}`, () => assert.deepEqual(decoded(decodePacket(row.wire)), row.packet));
  }

  it("hands a binary frame back as the same object", () => {
    const buffer = Buffer.from([9]);
    assert.equal(decoded(decodePacket(buffer)).data, buffer);
  });

  it("names every wire type once", () => {
    assert.deepEqual(Object.values(EnginePacketType), ["0", "1", "2", "3", "4", "5", "6"]);
  });
});

// engine.io-protocol v4 §http-long-polling examples, plus edge cases.
const payloadRows: readonly { name: string; packets: EnginePacket[]; wire: string }[] = [
  {
    name: "spec example: message, ping, message",
    packets: [
      { type: "message", data: "hello" },
      { type: "ping" },
      { type: "message", data: "world" },
    ],
    wire: "4hello\x1e2\x1e4world",
  },
  {
    name: "spec example: text and base64 binary",
    packets: [
      { type: "message", data: "hello" },
      { type: "message", data: b1234 },
    ],
    wire: "4hello\x1ebAQIDBA==",
  },
  { name: "single packet", packets: [{ type: "noop" }], wire: "6" },
  { name: "empty binary", packets: [{ type: "message", data: new Uint8Array(0) }], wire: "b" },
  {
    name: "binary needing one and two padding characters",
    packets: [
      { type: "message", data: new Uint8Array([1, 2]) },
      { type: "message", data: new Uint8Array([0xff]) },
      { type: "message", data: new Uint8Array([0xfb, 0xff, 0xbf]) },
    ],
    wire: "bAQI=\x1eb/w==\x1eb+/+/",
  },
  {
    name: "socket.io packets with a binary attachment",
    packets: [
      { type: "message", data: '51-["a",{"_placeholder":true,"num":0}]' },
      { type: "message", data: new Uint8Array([0]) },
    ],
    wire: '451-["a",{"_placeholder":true,"num":0}]\x1ebAA==',
  },
];

describe("engine payload golden table (engine.io-protocol v4, long-polling)", () => {
  for (const row of payloadRows) {
    it(`encodes ${row.name}`, () => assert.equal(encodePayload(row.packets), row.wire));
    it(`decodes ${row.name}`, () =>
      assert.deepEqual(decoded(decodePayload(row.wire)), row.packets));
  }

  it("encodes a binary packet as text with the b prefix", () => {
    assert.equal(encodePacketAsText({ type: "message", data: b1234 }), "bAQIDBA==");
  });

  it("decodes URL-safe and unpadded base64 too", () => {
    assert.deepEqual(decoded(decodePacket("b-_-_")), {
      type: "message",
      data: new Uint8Array([0xfb, 0xff, 0xbf]),
    });
    assert.deepEqual(decoded(decodePacket("bAQI")), {
      type: "message",
      data: new Uint8Array([1, 2]),
    });
  });
});

const malformedPackets: readonly { name: string; input: RawData; code: ErrorCodeValue }[] = [
  { name: "empty text", input: "", code: ErrorCode.INVALID_PACKET },
  { name: "unknown type 7", input: "7", code: ErrorCode.INVALID_PACKET },
  { name: "unknown type letter", input: "x1", code: ErrorCode.INVALID_PACKET },
  { name: "base64 with a bad character", input: "bAQ!D", code: ErrorCode.INVALID_BASE64 },
  { name: "base64 of impossible length", input: "bAQIDB", code: ErrorCode.INVALID_BASE64 },
  { name: "base64 with three padding characters", input: "bAQ===", code: ErrorCode.INVALID_BASE64 },
  { name: "base64 with padding inside", input: "bAQ==AQ==", code: ErrorCode.INVALID_BASE64 },
  { name: "base64 with a non-ASCII character", input: "bAQé=", code: ErrorCode.INVALID_BASE64 },
];

const malformedPayloads: readonly {
  name: string;
  input: string;
  code: ErrorCodeValue;
  max?: number;
}[] = [
  { name: "empty payload", input: "", code: ErrorCode.INVALID_PACKET },
  { name: "trailing separator", input: "4a\x1e", code: ErrorCode.INVALID_PACKET },
  { name: "empty record in the middle", input: "4a\x1e\x1e2", code: ErrorCode.INVALID_PACKET },
  { name: "unknown type in second record", input: "4a\x1e9", code: ErrorCode.INVALID_PACKET },
  { name: "bad base64 record", input: "2\x1eb%%%%", code: ErrorCode.INVALID_BASE64 },
  {
    name: "more packets than allowed",
    input: "2\x1e2\x1e2",
    code: ErrorCode.TOO_MANY_PACKETS,
    max: 2,
  },
];

describe("engine malformed input", () => {
  for (const row of malformedPackets) {
    it(`packet: ${row.name} -> ${row.code}`, () => {
      const result = decodePacket(row.input);
      assert.equal(result.ok ? "accepted" : result.error.code, row.code);
    });
  }
  for (const row of malformedPayloads) {
    it(`payload: ${row.name} -> ${row.code}`, () => {
      const result = decodePayload(row.input, row.max);
      assert.equal(result.ok ? "accepted" : result.error.code, row.code);
    });
  }

  it("accepts exactly maxPackets packets", () => {
    assert.equal(decoded(decodePayload("2\x1e2", 2)).length, 2);
  });
});

const RUNS = { numRuns: 300 };
const kinds = Object.keys(EnginePacketType) as EnginePacketKind[];
// Text data never contains the record separator: it cannot be framed in a payload.
const textData = fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !s.includes("\x1e"));
// fast-check may build null-prototype records; packets from the decoder are plain objects.
const enginePacket: fc.Arbitrary<EnginePacket> = fc
  .oneof(
    fc.record({ type: fc.constantFrom(...kinds) }),
    fc.record({ type: fc.constantFrom(...kinds), data: textData.filter((s) => s.length > 0) }),
    fc.record({ type: fc.constant("message" as const), data: fc.uint8Array({ maxLength: 40 }) }),
  )
  .map((packet): EnginePacket => ({ ...packet }));

describe("engine codec properties", () => {
  it("decodePacket(encodePacket(p)) equals p", () => {
    fc.assert(
      fc.property(enginePacket, (packet) => {
        assert.deepEqual(decoded(decodePacket(encodePacket(packet))), packet);
      }),
      RUNS,
    );
  });

  it("decodePayload(encodePayload(ps)) equals ps", () => {
    fc.assert(
      fc.property(fc.array(enginePacket, { minLength: 1, maxLength: 8 }), (packets) => {
        assert.deepEqual(decoded(decodePayload(encodePayload(packets))), packets);
      }),
      RUNS,
    );
  });

  it("decodePacket never throws on arbitrary strings or bytes", () => {
    const input = fc.oneof(fc.string({ unit: "binary" }), fc.uint8Array());
    fc.assert(
      fc.property(input, (raw) => {
        assert.equal(typeof decodePacket(raw).ok, "boolean");
      }),
      RUNS,
    );
  });

  it("decodePayload never throws on arbitrary strings and respects maxPackets", () => {
    const pieces = fc.array(
      fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.constant("\x1e")),
    );
    fc.assert(
      fc.property(pieces, fc.integer({ min: 1, max: 5 }), (parts, max) => {
        const result = decodePayload(parts.join(""), max);
        if (result.ok) assert.ok(result.value.length <= max);
      }),
      RUNS,
    );
  });
});
