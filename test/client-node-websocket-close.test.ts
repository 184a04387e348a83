/**
 * The client's own WebSocket in Node (src/client/node-websocket.ts) against a raw TCP server
 * (test/support/raw-ws-server.ts): handshakes it refuses, and closing handshakes from either
 * side, TCP resets and ends.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { afterEach, describe, it } from "node:test";
import {
  bytesOf,
  client,
  closeRawPeers,
  openPair,
  Recorder,
  rawServer,
  response101,
  settle,
  TEST,
  upgraded,
} from "./support/raw-ws-server.js";
import { acceptFor, buildFrame, closeBody, Opcode } from "./support/ws-frames.js";

const { BINARY, CLOSE, CONTINUATION: CONT, PING, TEXT } = Opcode;

afterEach(closeRawPeers);

describe("NodeWebSocket against a raw TCP server", () => {
  describe("refusals: close(err) and the socket closed", () => {
    /** Answers the upgrade request with `respond(key)` and awaits the refusal. */
    async function refusedHandshake(respond: (key: string) => string): Promise<Error> {
      const server = await rawServer();
      const { ws, rec } = client(server.url());
      const peer = await server.nextPeer();
      const request = await peer.upgradeRequest();
      peer.socket.write(respond(request.headers.get("sec-websocket-key")!));
      const { err } = await rec.closed();
      assert.ok(err instanceof Error, "close is reported with an Error");
      await peer.gone();
      assert.ok(ws.socket.destroyed, "the client's socket is destroyed");
      assert.deepEqual(rec.events, [["close", err]], "no open, one close");
      assert.equal(peer.frames.length, 0);
      return err;
    }

    const refusals: { name: string; respond: (key: string) => string; message?: RegExp }[] = [
      {
        name: "a 403 response",
        respond: () => "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
        message: /403/,
      },
      { name: "a 200 response", respond: () => "HTTP/1.1 200 OK\r\n\r\n", message: /200/ },
      {
        name: "a wrong Sec-WebSocket-Accept",
        respond: (key) => response101(key, upgraded(key, acceptFor(`${key}x`))),
      },
      {
        name: "no Sec-WebSocket-Accept",
        respond: (key) => response101(key, upgraded(key).slice(0, 2)),
      },
      { name: "no Upgrade header", respond: (key) => response101(key, upgraded(key).slice(1)) },
      {
        name: "a Connection header without upgrade",
        respond: (key) =>
          response101(
            key,
            upgraded(key).map((h) => (h.startsWith("Connection") ? "Connection: keep-alive" : h)),
          ),
      },
      {
        name: "an unrequested Sec-WebSocket-Extensions",
        respond: (key) =>
          response101(key, [...upgraded(key), "Sec-WebSocket-Extensions: permessage-deflate"]),
      },
      {
        name: "an unrequested Sec-WebSocket-Protocol",
        respond: (key) => response101(key, [...upgraded(key), "Sec-WebSocket-Protocol: chat"]),
      },
    ];
    for (const { name, respond, message } of refusals) {
      it(name, TEST, async () => {
        const err = await refusedHandshake(respond);
        if (message !== undefined) assert.match(err.message, message);
      });
    }

    it("the server closing the connection before the 101", TEST, async () => {
      const server = await rawServer();
      const { rec } = client(server.url());
      const peer = await server.nextPeer();
      await peer.upgradeRequest();
      peer.socket.end();
      const { err } = await rec.closed();
      assert.ok(err instanceof Error);
      assert.equal(rec.closeCount, 1);
    });

    it("connection refused (a closed port)", TEST, async () => {
      const tcp = createTcpServer();
      await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
      const { port } = tcp.address() as AddressInfo;
      await new Promise((resolve) => tcp.close(resolve));
      const { ws, rec } = client(`ws://127.0.0.1:${port}/`);
      const { err } = await rec.closed();
      assert.ok(err instanceof Error);
      assert.equal((err as NodeJS.ErrnoException).code, "ECONNREFUSED");
      assert.ok(ws.socket.destroyed);
      await settle();
      assert.deepEqual(rec.events, [["close", err]]);
    });

    // Frames the client must refuse once open (RFC 6455 §5.1, §5.2, §5.4, §5.5, §8.1).
    const badFrames: { name: string; bytes: Buffer; codes?: number[] }[] = [
      {
        name: "a masked server frame",
        bytes: buildFrame({ opcode: TEXT, payload: "hidden", mask: Buffer.from([1, 2, 3, 4]) }),
      },
      { name: "reserved data opcode 0x3", bytes: buildFrame({ opcode: 0x3, payload: "x" }) },
      { name: "reserved control opcode 0xB", bytes: buildFrame({ opcode: 0xb }) },
      { name: "RSV1 set", bytes: buildFrame({ opcode: TEXT, payload: "x", rsv: 4 }) },
      { name: "RSV3 set", bytes: buildFrame({ opcode: BINARY, payload: "x", rsv: 1 }) },
      {
        name: "invalid UTF-8 in a text frame",
        bytes: buildFrame({ opcode: TEXT, payload: new Uint8Array([0x68, 0xc3, 0x28]) }),
        codes: [1002, 1007],
      },
      {
        name: "invalid UTF-8 across text fragments",
        bytes: Buffer.concat([
          buildFrame({ opcode: TEXT, payload: new Uint8Array([0xe2, 0x82]), fin: false }),
          buildFrame({ opcode: CONT, payload: new Uint8Array([0x41]) }),
        ]),
        codes: [1002, 1007],
      },
      { name: "a continuation without a started message", bytes: buildFrame({ opcode: CONT }) },
      {
        name: "a new message inside a fragmented one",
        bytes: Buffer.concat([
          buildFrame({ opcode: TEXT, payload: "a", fin: false }),
          buildFrame({ opcode: TEXT, payload: "b" }),
        ]),
      },
      { name: "a fragmented ping", bytes: buildFrame({ opcode: PING, fin: false }) },
      {
        name: "a 64-bit length of 1 TiB (past the message size limit)",
        bytes: Buffer.from([0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3]),
        codes: [1002, 1009],
      },
      { name: "a 126-byte ping", bytes: buildFrame({ opcode: PING, payload: bytesOf(126) }) },
      {
        name: "a close frame with a 1-byte payload",
        bytes: buildFrame({ opcode: CLOSE, payload: "x" }),
      },
      {
        name: "a close frame with status 1005",
        bytes: buildFrame({ opcode: CLOSE, payload: closeBody(1005) }),
      },
    ];
    for (const { name, bytes, codes = [1002] } of badFrames) {
      it(name, TEST, async () => {
        const server = await rawServer();
        const { ws, rec, peer } = await openPair(server);
        peer.socket.write(Buffer.concat([bytes, buildFrame({ opcode: TEXT, payload: "after" })]));
        const { err } = await rec.closed();
        assert.ok(err instanceof Error, "close is reported with an Error");
        await peer.gone();
        assert.ok(ws.socket.destroyed, "the client's socket is destroyed");
        assert.deepEqual(rec.events, [["open"], ["close", err]], "no message, one close");
        // Failing the connection (§7.1.7): this client sends a close frame first, as ws does,
        // with a status that says why, and nothing else.
        assert.equal(peer.frames.length, 1, "one close frame");
        const [f] = peer.frames;
        assert.equal(f?.opcode, CLOSE);
        assert.ok(f.isMasked);
        assert.ok(codes.includes(f.payload.readUInt16BE(0)), `status ${f.payload.readUInt16BE(0)}`);
      });
    }
    it("writes the replies a read triggered before its 1002 close frame", TEST, async () => {
      const server = await rawServer();
      const { ws, rec, peer } = await openPair(server);
      // The reply waits for the end of the read when the bad frame after it is found.
      rec.message = (data) => {
        Recorder.prototype.message.call(rec, data);
        ws.send(`re: ${String(data)}`);
      };
      peer.socket.write(
        Buffer.concat([
          buildFrame({ opcode: TEXT, payload: "hi" }),
          buildFrame({ opcode: 0x3, payload: "x" }),
        ]),
      );
      await rec.closed();
      await peer.gone();
      const seen = peer.frames.map((f) =>
        f.opcode === CLOSE ? [CLOSE, f.payload.readUInt16BE(0)] : [f.opcode, f.payload.toString()],
      );
      assert.deepEqual(seen, [
        [TEXT, "re: hi"],
        [CLOSE, 1002],
      ]);
    });
  });

  describe("closing handshakes", () => {
    for (const [name, body] of [
      ["1000 with a reason", closeBody(1000, "bye")],
      ["1001", closeBody(1001)],
      ["without a status", Buffer.alloc(0)],
    ] as const) {
      it(`answers a server close (${name}), echoing the status`, TEST, async () => {
        const server = await rawServer();
        const { rec, peer } = await openPair(server);
        peer.socket.write(
          Buffer.concat([
            buildFrame({ opcode: TEXT, payload: "last" }),
            buildFrame({ opcode: CLOSE, payload: body }),
            buildFrame({ opcode: TEXT, payload: "after the close frame" }), // §5.5.1: ignored
          ]),
        );
        const answer = await peer.nextFrame();
        assert.deepEqual([answer.fin, answer.opcode], [true, CLOSE]);
        assert.ok(
          answer.payload.equals(body.subarray(0, 2)),
          `payload ${answer.payload.toString("hex")}`,
        );
        await settle(); // the client may end its side meanwhile (this one does, as ws)
        assert.equal(rec.closeCount, 0, "close reported before the TCP connection closed");
        peer.socket.end();
        const { err } = await rec.closed();
        assert.equal(err, undefined);
        assert.deepEqual(rec.events, [["open"], ["message", "last"], ["close", undefined]]);
        assert.equal(peer.frames.length, 1, "one close frame, nothing after it");
      });
    }

    it("close() sends an empty masked close; ends with the server", TEST, async () => {
      const server = await rawServer();
      const { ws, rec, peer } = await openPair(server);
      ws.close();
      ws.send("after close()"); // closing: dropped
      const f = await peer.nextFrame();
      assert.deepEqual([f.fin, f.opcode, f.payload.length], [true, CLOSE, 0]);
      await settle();
      assert.equal(rec.closeCount, 0, "closed before the server answered");
      assert.equal(peer.isEnded, false, "the client ended before the server's close frame");
      peer.socket.write(buildFrame({ opcode: CLOSE, payload: closeBody(1000) }));
      await settle(); // the client may end its side meanwhile
      assert.equal(rec.closeCount, 0, "closed before the server closed the TCP connection");
      peer.socket.end();
      const { err } = await rec.closed();
      assert.equal(err, undefined);
      assert.equal(peer.frames.length, 1, "no second close frame, nothing sent after close()");
      ws.close(); // closed: nothing more
      await settle();
      assert.deepEqual(rec.events, [["open"], ["close", undefined]]);
    });

    it("close() while connecting destroys the socket, reports nothing", TEST, async () => {
      const server = await rawServer();
      const { ws, rec } = client(server.url());
      const peer = await server.nextPeer();
      const request = await peer.upgradeRequest();
      ws.close();
      assert.ok(ws.socket.destroyed);
      await peer.gone();
      // A 101 and a frame sent now reach nobody.
      peer.socket.write(
        response101(request.headers.get("sec-websocket-key")!) +
          buildFrame({ opcode: TEXT, payload: "late" }).toString("latin1"),
      );
      await settle();
      assert.ok(!rec.events.some((e) => e[0] !== "close"), JSON.stringify(rec.events));
      assert.ok(rec.closeCount <= 1);
      assert.equal(peer.frames.length, 0);
    });

    it("close() right after construction: no request sent", TEST, async () => {
      const server = await rawServer();
      const { ws, rec } = client(server.url());
      ws.close();
      assert.ok(ws.socket.destroyed);
      ws.send("nothing");
      if (!ws.socket.closed) await once(ws.socket, "close");
      await settle();
      assert.ok(!rec.events.some((e) => e[0] !== "close"), JSON.stringify(rec.events));
      for (const peer of server.peers) assert.equal(peer.request, null, "a request was sent");
    });

    it("a TCP end while open reports close without an error", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      peer.socket.end();
      const { err } = await rec.closed();
      assert.equal(err, undefined);
      await settle();
      assert.equal(rec.closeCount, 1);
    });
  });
});
