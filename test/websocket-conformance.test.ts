// RFC 6455 conformance of the server's WebSocket layer, run against each WebSocket engine
// (`wsEngine`). Frame-level tests drive the server over raw TCP: the upgrade request, the
// masked client frames and the parsing of the server's frames are written by hand, byte by
// byte (test/support/tcp-peer.ts and ws-frames.ts).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { afterEach, describe, test } from "node:test";
import type { EngineCloseReason, EngineServerOptions } from "../src/engine/index.js";
import type { ServerOptions } from "../src/server/index.js";
import { type EngineHarness, startEngine, waitFor } from "./engine-helpers.js";
import {
  closeClients,
  collect,
  connected,
  startServer,
  type TestServer,
} from "./support/harness.js";
import {
  assertServes,
  clientFrame,
  closeOf,
  destroyPeers,
  newKey,
  openSession,
  TcpPeer,
  within,
  writeUpgrade,
} from "./support/tcp-peer.js";
import { acceptFor, closeBody, Opcode, RSV1, RSV2, RSV3 } from "./support/ws-frames.js";

/** RFC 6455 §7.4.1 status codes the tests expect. */
const CloseCode = {
  NORMAL: 1000,
  PROTOCOL_ERROR: 1002,
  INVALID_PAYLOAD: 1007,
  MESSAGE_TOO_BIG: 1009,
} as const;

const TEST = { timeout: 5000 };

/** `length` bytes of varied ASCII text, so that a shifted or lost byte shows. */
function textOfLength(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return alphabet.repeat(Math.ceil(length / alphabet.length)).slice(0, length);
}

/** Frames that break RFC 6455, and the close code the server must answer them with. */
interface ProtocolErrorCase {
  readonly name: string;
  readonly frames: () => Buffer[];
  readonly code: number;
  readonly options?: EngineServerOptions;
}

const LIMIT = { maxHttpBufferSize: 1000 };

const PROTOCOL_ERRORS: readonly ProtocolErrorCase[] = [
  {
    name: "an unmasked client frame (§5.1)",
    frames: () => [clientFrame({ opcode: Opcode.TEXT, payload: "4hi", mask: false })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  ...(
    [
      ["RSV1", RSV1],
      ["RSV2", RSV2],
      ["RSV3", RSV3],
    ] as const
  ).map(([bit, rsv]) => ({
    name: `${bit} set without a negotiated extension (§5.2)`,
    frames: () => [clientFrame({ opcode: Opcode.TEXT, payload: "4hi", rsv })],
    code: CloseCode.PROTOCOL_ERROR,
  })),
  {
    name: "reserved data opcode 3 (§5.2)",
    frames: () => [clientFrame({ opcode: 0x3, payload: "4hi" })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  {
    name: "reserved control opcode 0xB (§5.2)",
    frames: () => [clientFrame({ opcode: 0xb })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  {
    name: "a control frame with a 126-byte payload (§5.5)",
    frames: () => [clientFrame({ opcode: Opcode.PING, payload: Buffer.alloc(126, 0x61) })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  {
    name: "a fragmented ping (§5.5)",
    frames: () => [clientFrame({ opcode: Opcode.PING, payload: "p", fin: false })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  {
    name: "a continuation frame with no message started (§5.4)",
    frames: () => [clientFrame({ opcode: Opcode.CONTINUATION, payload: "4hi" })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  {
    name: "a new text frame while a fragmented message is in progress (§5.4)",
    frames: () => [
      clientFrame({ opcode: Opcode.TEXT, payload: "4ab", fin: false }),
      clientFrame({ opcode: Opcode.TEXT, payload: "4cd" }),
    ],
    code: CloseCode.PROTOCOL_ERROR,
  },
  {
    name: "invalid UTF-8 in a text frame (§8.1)",
    frames: () => [clientFrame({ opcode: Opcode.TEXT, payload: Buffer.from([0x34, 0xc3, 0x28]) })],
    code: CloseCode.INVALID_PAYLOAD,
  },
  {
    name: "a text message ending inside a UTF-8 sequence, over fragments (§8.1)",
    frames: () => [
      clientFrame({ opcode: Opcode.TEXT, payload: Buffer.from([0x34, 0xe2]), fin: false }),
      clientFrame({ opcode: Opcode.CONTINUATION, payload: Buffer.from([0x82]) }),
    ],
    code: CloseCode.INVALID_PAYLOAD,
  },
  {
    name: "a message over maxHttpBufferSize in one frame",
    frames: () => [clientFrame({ opcode: Opcode.TEXT, payload: `4${textOfLength(1000)}` })],
    code: CloseCode.MESSAGE_TOO_BIG,
    options: LIMIT,
  },
  {
    name: "fragments whose sum is over maxHttpBufferSize",
    frames: () => [
      clientFrame({ opcode: Opcode.TEXT, payload: `4${textOfLength(599)}`, fin: false }),
      clientFrame({ opcode: Opcode.CONTINUATION, payload: textOfLength(600) }),
    ],
    code: CloseCode.MESSAGE_TOO_BIG,
    options: LIMIT,
  },
  {
    name: "a close frame with a 1-byte payload (§5.5.1)",
    frames: () => [clientFrame({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03]) })],
    code: CloseCode.PROTOCOL_ERROR,
  },
  ...[1005, 1006, 999, 1016].map((code) => ({
    name: `a close frame with the invalid code ${code} (§7.4)`,
    frames: () => [clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(code) })],
    code: CloseCode.PROTOCOL_ERROR,
  })),
  {
    name: "a close frame whose reason is invalid UTF-8 (§5.5.1)",
    frames: () => [
      clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(1000, Buffer.from([0xff])) }),
    ],
    code: CloseCode.INVALID_PAYLOAD,
  },
];

/** How a session may end when its client goes away: the transport failed or closed. */
const TRANSPORT_END: readonly EngineCloseReason[] = ["transport error", "transport close"];

for (const wsEngine of ["ws", "builtin"] as const) {
  describe(`RFC 6455 conformance, wsEngine "${wsEngine}"`, () => {
    let h: EngineHarness | undefined;
    let io: TestServer | undefined;
    // The server's ends of the connections: an upgrade left unanswered would otherwise keep
    // the HTTP server from closing (upgraded sockets are not HTTP connections any more).
    const serverSockets = new Set<Socket>();

    afterEach(async () => {
      destroyPeers();
      for (const socket of serverSockets) socket.destroy();
      serverSockets.clear();
      closeClients();
      await io?.close();
      io = undefined;
      await h?.stop();
      h = undefined;
    });

    /** Starts an EngineServer with this engine and `options`. */
    async function start(options: EngineServerOptions = {}): Promise<EngineHarness> {
      h = await startEngine({ wsEngine, ...options } as EngineServerOptions);
      h.http.on("connection", (socket: Socket) => serverSockets.add(socket));
      return h;
    }

    describe("handshake", () => {
      test("101 with the accept value, the open packet, messages both ways", TEST, async () => {
        const { peer, session } = await openSession(await start());
        peer.write(clientFrame({ opcode: Opcode.TEXT, payload: "4hello" }));
        const [message] = await waitFor<[string | Buffer]>(session, "message");
        assert.equal(message, "hello");
        session.send("x");
        const frame = await peer.readFrame();
        assert.deepEqual([frame.fin, frame.rsv, frame.opcode], [true, 0, Opcode.TEXT]);
        assert.equal(frame.payload.toString(), "4x");
        // Engine.IO v4: binary messages are binary frames without a type prefix.
        peer.write(clientFrame({ opcode: Opcode.BINARY, payload: Buffer.from([0, 1, 255]) }));
        const [binary] = await waitFor<[string | Buffer]>(session, "message");
        assert.deepEqual(binary, Buffer.from([0, 1, 255]));
        session.send(Buffer.from([9, 8, 7]));
        const reply = await peer.readFrame();
        assert.equal(reply.opcode, Opcode.BINARY);
        assert.deepEqual(reply.payload, Buffer.from([9, 8, 7]));
      });

      test("a frame sent with the upgrade request, in one write, is read", TEST, async () => {
        const harness = await start();
        // Listening from the "connection" event on: the frame may be read during the upgrade.
        const message = new Promise<string | Buffer>((resolve) => {
          harness.engine.once("connection", (session) => session.once("message", resolve));
        });
        const peer = await TcpPeer.connect(harness.port);
        const key = newKey();
        peer.socket.cork();
        writeUpgrade(harness, peer, [`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13"]);
        peer.write(clientFrame({ opcode: Opcode.TEXT, payload: "4early" }));
        peer.socket.uncork();
        const response = await peer.readResponse();
        assert.equal(response.status, 101);
        assert.equal(response.headers.get("sec-websocket-accept"), acceptFor(key));
        assert.equal(await within(message, "the early message"), "early");
      });

      test("an offer of subprotocols gets the first one echoed", TEST, async () => {
        const { response } = await openSession(await start(), [
          "Sec-WebSocket-Protocol: chat, superchat",
        ]);
        assert.equal(response.headers.get("sec-websocket-protocol"), "chat");
      });

      const REFUSALS: readonly { name: string; headers: () => string[] }[] = [
        { name: "a missing Sec-WebSocket-Key", headers: () => ["Sec-WebSocket-Version: 13"] },
        {
          name: "a Sec-WebSocket-Key that is not 16 bytes in base64",
          headers: () => [
            `Sec-WebSocket-Key: ${randomBytes(8).toString("base64")}`,
            "Sec-WebSocket-Version: 13",
          ],
        },
        {
          name: "the unsupported Sec-WebSocket-Version 12",
          headers: () => [`Sec-WebSocket-Key: ${newKey()}`, "Sec-WebSocket-Version: 12"],
        },
      ];
      for (const refusal of REFUSALS) {
        test(`${refusal.name} is refused with 400`, TEST, async () => {
          const harness = await start();
          const peer = await TcpPeer.connect(harness.port);
          writeUpgrade(harness, peer, refusal.headers());
          const response = await peer.readResponse(1000);
          assert.equal(response.status, 400);
          await peer.ended(1000);
          await assertServes(await openSession(harness));
        });
      }
    });

    describe("fragmentation and control frames", () => {
      test("a fragmented text message arrives as one message", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const message = waitFor<[string]>(session, "message");
        peer.write(
          clientFrame({ opcode: Opcode.TEXT, payload: "4hel", fin: false }),
          clientFrame({ opcode: Opcode.CONTINUATION, payload: "lo, wor", fin: false }),
          clientFrame({ opcode: Opcode.CONTINUATION, payload: "ld" }),
        );
        assert.deepEqual(await message, ["hello, world"]);
      });

      test("empty fragments and a fragmented binary message", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const messages = collect<string | Buffer>(session, "message", 2);
        peer.write(
          clientFrame({ opcode: Opcode.TEXT, payload: "4abc", fin: false }),
          clientFrame({ opcode: Opcode.CONTINUATION, fin: false }),
          clientFrame({ opcode: Opcode.CONTINUATION }),
          clientFrame({ opcode: Opcode.BINARY, payload: Buffer.from([1, 2]), fin: false }),
          clientFrame({ opcode: Opcode.CONTINUATION, payload: Buffer.from([3]) }),
        );
        assert.deepEqual(await messages, ["abc", Buffer.from([1, 2, 3])]);
      });

      test("a ping between fragments is answered with its payload", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const message = waitFor<[string]>(session, "message");
        peer.write(clientFrame({ opcode: Opcode.TEXT, payload: "4frag", fin: false }));
        peer.write(clientFrame({ opcode: Opcode.PING, payload: "are you there" }));
        const pong = await peer.readFrame();
        assert.deepEqual([pong.fin, pong.opcode], [true, Opcode.PONG]);
        assert.equal(pong.payload.toString(), "are you there");
        peer.write(clientFrame({ opcode: Opcode.CONTINUATION, payload: "mented" }));
        assert.deepEqual(await message, ["fragmented"]);
      });

      test("standalone pings are answered with pongs of the same payload", TEST, async () => {
        const { peer } = await openSession(await start());
        for (const payload of [Buffer.alloc(0), Buffer.from("abc"), randomBytes(125)]) {
          peer.write(clientFrame({ opcode: Opcode.PING, payload }));
          const pong = await peer.readFrame();
          assert.deepEqual([pong.fin, pong.opcode], [true, Opcode.PONG]);
          assert.deepEqual(pong.payload, payload);
        }
      });

      test("an unsolicited pong is ignored", TEST, async () => {
        const opened = await openSession(await start());
        opened.peer.write(clientFrame({ opcode: Opcode.PONG, payload: "hb" }));
        await assertServes(opened);
      });
    });

    describe("framing across TCP writes", () => {
      test("frames written one byte at a time arrive whole and in order", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const long = textOfLength(300); // 16-bit length: the split crosses it too
        const messages = collect<string>(session, "message", 2);
        const bytes = Buffer.concat([
          clientFrame({ opcode: Opcode.TEXT, payload: "4first" }),
          clientFrame({ opcode: Opcode.TEXT, payload: `4${long}` }),
        ]);
        for (const byte of bytes) {
          peer.write(Buffer.from([byte]));
          await new Promise((resolve) => setImmediate(resolve));
        }
        assert.deepEqual(await messages, ["first", long]);
      });

      test("a 20,000-byte frame written in 7-byte pieces arrives intact", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const text = textOfLength(19_999);
        const message = waitFor<[string]>(session, "message");
        const bytes = clientFrame({ opcode: Opcode.TEXT, payload: `4${text}` });
        for (let i = 0; i < bytes.length; i += 7) {
          peer.write(bytes.subarray(i, i + 7));
          if (i % 700 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        const [got] = await message;
        assert.ok(got === text, "the message differs");
      });

      if (wsEngine === "builtin") {
        test(
          "a message in more fragments than maxHttpBufferSize / 64 is refused: 1009",
          TEST,
          async () => {
            const { peer, session } = await openSession(await start({ maxHttpBufferSize: 65_536 }));
            const closed = closeOf(session);
            // 1,024 fragments are allowed whatever the limit; one more is refused.
            const fragments = [clientFrame({ opcode: Opcode.TEXT, payload: "4", fin: false })];
            for (let i = 0; i < 1024; i++) {
              fragments.push(
                clientFrame({ opcode: Opcode.CONTINUATION, payload: "x", fin: false }),
              );
            }
            peer.write(...fragments);
            const frame = await peer.readFrame();
            assert.equal(frame.opcode, Opcode.CLOSE);
            assert.equal(frame.payload.readUInt16BE(0), CloseCode.MESSAGE_TOO_BIG);
            assert.equal((await closed)[0], "transport error");
          },
        );
      }

      test("several frames in one TCP write all arrive, in order", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const messages = collect<string | Buffer>(session, "message", 3);
        peer.write(
          clientFrame({ opcode: Opcode.TEXT, payload: "4one" }),
          clientFrame({ opcode: Opcode.BINARY, payload: Buffer.from([2]) }),
          clientFrame({ opcode: Opcode.TEXT, payload: "4three" }),
        );
        assert.deepEqual(await messages, ["one", Buffer.from([2]), "three"]);
      });
    });

    describe("payload lengths", () => {
      // 7-bit maximum, 16-bit minimum and maximum, 64-bit minimum, and 70,000 bytes.
      for (const length of [125, 126, 65_535, 65_536, 70_000]) {
        test(`a ${length}-byte frame arrives intact and is echoed intact`, TEST, async () => {
          const { peer, session } = await openSession(await start({ maxHttpBufferSize: 100_000 }));
          const text = textOfLength(length - 1);
          session.once("message", (data) => session.send(data));
          peer.write(clientFrame({ opcode: Opcode.TEXT, payload: `4${text}` }));
          const echo = await peer.readFrame();
          assert.equal(echo.opcode, Opcode.TEXT);
          assert.equal(echo.payload.length, length);
          assert.ok(echo.payload.toString() === `4${text}`, "echoed text differs");
        });
      }

      test("multi-byte UTF-8 split across fragments arrives intact", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const bytes = Buffer.from("4naïve café ☕ 𝄞");
        const message = waitFor<[string]>(session, "message");
        // Cut inside the 4-byte sequence of the last character.
        const cut = bytes.length - 2;
        peer.write(
          clientFrame({ opcode: Opcode.TEXT, payload: bytes.subarray(0, cut), fin: false }),
          clientFrame({ opcode: Opcode.CONTINUATION, payload: bytes.subarray(cut) }),
        );
        assert.deepEqual(await message, ["naïve café ☕ 𝄞"]);
      });
    });

    describe("protocol errors close with a close code", () => {
      for (const c of PROTOCOL_ERRORS) {
        test(`${c.name}: ${c.code}`, TEST, async () => {
          const harness = await start(c.options);
          const { peer, session } = await openSession(harness);
          const closed = closeOf(session);
          peer.write(...c.frames());
          const frame = await peer.readFrame();
          assert.equal(frame.opcode, Opcode.CLOSE, "a close frame");
          assert.ok(frame.payload.length >= 2, "the close frame carries a code");
          assert.equal(frame.payload.readUInt16BE(0), c.code);
          assert.equal((await peer.ended()).length, 0, "nothing after the close frame (§5.5.1)");
          // EngineCloseReason: "transport error" is the transport failing, as here.
          const [reason, description] = await closed;
          assert.equal(reason, "transport error");
          if (c.code === CloseCode.MESSAGE_TOO_BIG) {
            // Documented in EngineServerOptions.maxHttpBufferSize and EngineCloseReason.
            assert.equal(
              (description as { code?: string } | undefined)?.code,
              "SB_ERR_PAYLOAD_TOO_LARGE",
            );
          }
          await assertServes(await openSession(harness));
        });
      }
    });

    describe("close handshake", () => {
      test("a client close is answered with the same code, then the end", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const closed = closeOf(session);
        peer.write(clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(1000, "bye") }));
        const frame = await peer.readFrame();
        assert.equal(frame.opcode, Opcode.CLOSE);
        assert.equal(frame.payload.readUInt16BE(0), CloseCode.NORMAL);
        assert.equal((await peer.ended()).length, 0, "nothing after the close frame (§5.5.1)");
        assert.deepEqual((await closed)[0], "transport close");
      });

      test("a client close without a code is answered with a close frame", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const closed = closeOf(session);
        peer.write(clientFrame({ opcode: Opcode.CLOSE }));
        const frame = await peer.readFrame();
        assert.equal(frame.opcode, Opcode.CLOSE);
        // §5.5.1: an empty close frame may be echoed empty, or with a code (1000).
        if (frame.payload.length > 0) assert.equal(frame.payload.readUInt16BE(0), 1000);
        await peer.ended();
        assert.deepEqual((await closed)[0], "transport close");
      });

      test("session.close() sends a close frame and ends after the client's", TEST, async () => {
        const { peer, session } = await openSession(await start());
        const closed = closeOf(session);
        session.close();
        const frame = await peer.readFrame();
        assert.equal(frame.opcode, Opcode.CLOSE);
        if (frame.payload.length > 0) {
          assert.ok(frame.payload.length >= 2, "a close payload starts with a 2-byte code");
          assert.equal(frame.payload.readUInt16BE(0), CloseCode.NORMAL);
        }
        assert.deepEqual((await closed)[0], "forced close");
        // §7.1.1: the server waits for the client's close frame before it ends the connection.
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(peer.isEnded, false, "the server ended before the client's close frame");
        peer.write(clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(1000) }));
        assert.equal((await peer.ended()).length, 0, "nothing after the close frame (§5.5.1)");
      });

      test("a client that never answers the close frame is cut off after 30 s", TEST, async (t) => {
        const { peer, session } = await openSession(await start());
        const closed = closeOf(session);
        t.mock.timers.enable({ apis: ["setTimeout"] }); // the close deadline is made now
        session.close();
        assert.equal((await peer.readFrame()).opcode, Opcode.CLOSE);
        await closed;
        // The client keeps the connection busy without ever closing: a byte every 20 s.
        const partial = clientFrame({ opcode: Opcode.TEXT, payload: "4never finished" });
        for (let i = 0; i < 2; i++) {
          peer.write(partial.subarray(i, i + 1));
          await new Promise((resolve) => setImmediate(resolve));
          t.mock.timers.tick(20_000);
          await new Promise((resolve) => setImmediate(resolve));
        }
        await within(peer.ended(), "the connection ends at the deadline", 2000);
      });
    });

    test("an abrupt disconnect mid-frame closes the session", TEST, async () => {
      const harness = await start();
      const { peer, session } = await openSession(harness);
      const closed = closeOf(session);
      const frame = clientFrame({ opcode: Opcode.TEXT, payload: `4${textOfLength(99)}` });
      peer.write(frame.subarray(0, 2 + 4 + 10)); // header, mask and 10 of the 100 bytes
      await new Promise((resolve) => setImmediate(resolve));
      peer.socket.destroy();
      const [reason] = await closed;
      assert.ok(TRANSPORT_END.includes(reason), `session closed with "${reason}"`);
      await assertServes(await openSession(harness));
    });

    test("socket.io-client: emitWithAck round-trips text, 200 KB and binary", {
      timeout: 10_000,
    }, async () => {
      io = await startServer({ wsEngine } as ServerOptions);
      io.io.on("connection", (socket) => {
        socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value));
      });
      const client = io.client("/", { transports: ["websocket"] });
      await connected(client);
      assert.equal(client.io.engine.transport.name, "websocket");
      assert.equal(await client.timeout(3000).emitWithAck("echo", "hello"), "hello");
      const big = textOfLength(200 * 1024);
      const bigEcho: unknown = await client.timeout(3000).emitWithAck("echo", big);
      assert.ok(bigEcho === big, "the 200 KB string came back changed");
      const bytes = randomBytes(4096);
      const binary = (await client.timeout(3000).emitWithAck("echo", bytes)) as Uint8Array;
      assert.ok(Buffer.from(binary).equals(bytes), "the Buffer came back changed");
    });
  });
}
