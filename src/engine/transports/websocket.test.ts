import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as wsModule from "ws";
import type { EnginePacket } from "../../protocol/engine-packet.js";
import { encodeWebSocketFrame, frameText, WebSocketTransport } from "./websocket.js";

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

describe("WebSocketTransport read buffer", () => {
  it("lets go of ws's read buffer after the first message and after each pong, not per message", async () => {
    const server = new wsModule.WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const client = new wsModule.WebSocket(`ws://127.0.0.1:${port}`);
    try {
      const [ws] = (await once(server, "connection")) as [wsModule.WebSocket];
      const packets: EnginePacket[] = [];
      let arrived: (() => void) | undefined;
      const transport = new WebSocketTransport(ws, null);
      transport.setListener({
        onPacket: (packet: EnginePacket) => {
          packets.push(packet);
          arrived?.();
        },
        onDrain: () => {},
        onClose: () => {},
      } as unknown as Parameters<WebSocketTransport["setListener"]>[0]);
      const receiver = (ws as unknown as { _receiver: { _buffers: unknown[] } })._receiver;
      const send = async (text: string): Promise<unknown[]> => {
        const next = new Promise<void>((resolve) => {
          arrived = resolve;
        });
        client.send(text);
        await next;
        return receiver._buffers;
      };
      if (client.readyState !== wsModule.WebSocket.OPEN) await once(client, "open");
      const initial = receiver._buffers;
      const afterFirst = await send("4first");
      assert.notEqual(afterFirst, initial, "let go after the first message");
      assert.deepEqual(afterFirst, []);
      const afterSecond = await send("4second");
      assert.equal(afterSecond, afterFirst, "kept while messages flow: no array per message");
      const afterPong = await send("3");
      assert.notEqual(afterPong, afterSecond, "let go after a pong");
      assert.deepEqual(
        packets.map((p) => p.type),
        ["message", "message", "pong"],
      );
      assert.deepEqual(
        packets.slice(0, 2).map((p) => p.data),
        ["first", "second"],
      );
    } finally {
      client.terminate();
      server.close();
    }
  });
});
