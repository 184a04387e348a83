import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as wsModule from "ws";
import { encodeWebSocketFrame, frameText } from "./websocket.js";

const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** What ws itself builds for a server text frame. */
function wsTextFrame(text: string): Buffer {
  const options = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false };
  return Buffer.concat(Sender.frame(Buffer.from(text, "utf8"), options));
}

// RFC 6455 §5.2: FIN + opcode, then the payload length (7 bits, or 126 + 16 bits, or
// 127 + 64 bits), unmasked from a server; Engine.IO text messages carry the "4" prefix.
describe("encodeWebSocketFrame", () => {
  const rows: { name: string; data: string | Uint8Array; header: number[]; payload: Buffer }[] = [
    { name: "short text", data: "hi", header: [0x81, 3], payload: Buffer.from("4hi") },
    { name: "empty text", data: "", header: [0x81, 1], payload: Buffer.from("4") },
    {
      name: "UTF-8 text counts bytes",
      data: "☃",
      header: [0x81, 4],
      payload: Buffer.from("4☃"),
    },
    {
      name: "binary, no prefix",
      data: new Uint8Array([1, 2, 255]),
      header: [0x82, 3],
      payload: Buffer.from([1, 2, 255]),
    },
    {
      name: "126 bytes: 16-bit length",
      data: "a".repeat(125),
      header: [0x81, 126, 0, 126],
      payload: Buffer.from(`4${"a".repeat(125)}`),
    },
    {
      name: "65536 bytes: 64-bit length",
      data: new Uint8Array(65_536),
      header: [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0],
      payload: Buffer.alloc(65_536),
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const bytes = Buffer.from(encodeWebSocketFrame(row.data).bytes);
      assert.deepEqual([...bytes.subarray(0, row.header.length)], row.header);
      assert.ok(bytes.subarray(row.header.length).equals(row.payload));
    });
  }
});

describe("frameText", () => {
  it("builds exactly the bytes of ws's Sender.frame, with or without a prefix", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 200 }),
      fc.integer({ min: 0, max: 70_000 }).map((n) => "é".repeat(n >> 1)),
      fc.constantFrom("", "a".repeat(124), "a".repeat(125), "a".repeat(65_535), "☃".repeat(42)),
    );
    fc.assert(
      fc.property(text, fc.boolean(), (value, withPrefix) => {
        const framed = frameText(withPrefix ? 0x34 : -1, value);
        assert.ok(framed.equals(wsTextFrame(withPrefix ? `4${value}` : value)));
      }),
      { numRuns: 300 },
    );
  });
});
