import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Duplex } from "node:stream";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as wsModule from "ws";
import type { EnginePacket } from "../../protocol/engine-packet.js";
import { RawWebSocket } from "./raw-websocket.js";
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

/** What ws itself builds for a server binary frame. */
function wsBinaryFrame(bytes: Uint8Array): Buffer {
  const options = { fin: true, rsv1: false, opcode: 2, mask: false, readOnly: false };
  return Buffer.concat(Sender.frame(Buffer.from(bytes), options));
}

/** A transport over the engine's own WebSocket, on a socket that records each write. */
function recordingTransport(): { transport: WebSocketTransport; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      writes.push(Buffer.from(chunk));
      done();
    },
  });
  const transport = new WebSocketTransport(new RawWebSocket(socket, 1 << 20), socket);
  transport.setListener({
    onPacket: () => {},
    onDrain: () => {},
    onClose: () => {},
  } as unknown as Parameters<WebSocketTransport["setListener"]>[0]);
  return { transport, writes };
}

const RESPONSE =
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: io=\xe9t\xe9\r\n\r\n";

describe("WebSocketTransport upgrade turn", () => {
  // The 101 response and the short ASCII text frames after it are kept as one latin1
  // string; anything else turns the turn into bytes. Either way the bytes must be those of
  // the response followed by ws's frames, in order, in one write.
  const text = fc.oneof(
    fc.string({ maxLength: 130 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.constantFrom("", "x".repeat(124), "x".repeat(125), "x".repeat(126), "é", "\u007f"),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant("message" as const), text }),
    fc.record({ kind: fc.constant("packet" as const), text, isVolatile: fc.boolean() }),
    fc.record({ kind: fc.constant("binary" as const), bytes: fc.uint8Array({ maxLength: 140 }) }),
  );

  it("writes the response and the turn's frames in one write, with ws's bytes", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 6 }), fc.boolean(), (ops, isDropping) => {
        const { transport, writes } = recordingTransport();
        transport.sendUpgradeResponse(RESPONSE);
        const expected: Buffer[] = [Buffer.from(RESPONSE, "latin1")];
        const kept: Buffer[] = [Buffer.from(RESPONSE, "latin1")];
        for (const o of ops) {
          let frame: Buffer;
          let isVolatile = false;
          if (o.kind === "message") {
            transport.sendMessage(o.text, false);
            frame = wsTextFrame(`4${o.text}`);
          } else if (o.kind === "packet") {
            transport.send([{ type: "message", data: o.text, volatile: o.isVolatile }]);
            frame = wsTextFrame(`4${o.text}`);
            isVolatile = o.isVolatile;
          } else {
            transport.sendMessage(o.bytes, false);
            frame = wsBinaryFrame(o.bytes);
          }
          expected.push(frame);
          if (!isVolatile) kept.push(frame);
        }
        assert.equal(transport.bufferedAmount, Buffer.concat(expected).length);
        const sent = isDropping ? kept : expected;
        if (isDropping) transport.dropVolatile();
        transport.flush();
        assert.equal(writes.length, 1);
        assert.deepEqual(writes[0], Buffer.concat(sent));
      }),
    );
  });

  it("puts a response queued after frames behind them, as bytes, in the same write", () => {
    const { transport, writes } = recordingTransport();
    transport.sendMessage("early", false);
    transport.sendUpgradeResponse(RESPONSE);
    transport.sendMessage("late", false);
    transport.flush();
    assert.deepEqual(writes, [
      Buffer.concat([wsTextFrame("4early"), Buffer.from(RESPONSE, "latin1"), wsTextFrame("4late")]),
    ]);
  });

  it("keeps the next turn's frames as bytes, in a write of their own", async () => {
    const { transport, writes } = recordingTransport();
    transport.sendUpgradeResponse(RESPONSE);
    transport.sendMessage("open", false);
    await new Promise((resolve) => setImmediate(resolve)); // the turn's flush
    transport.sendMessage("next", false);
    transport.flush();
    assert.deepEqual(writes, [
      Buffer.concat([Buffer.from(RESPONSE, "latin1"), wsTextFrame("4open")]),
      wsTextFrame("4next"),
    ]);
  });
});
