/**
 * The client's own WebSocket in Node (src/client/node-websocket.ts), RFC 6455 from the client
 * side, against a raw TCP server written in the test (test/support/raw-ws-server.ts): the
 * upgrade request it sends and the messages it frames and reads. Refusals and closing
 * handshakes are in client-node-websocket-close.test.ts, the client over it against both
 * Socket.IO servers in client-node-websocket-io.test.ts.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { NodeWebSocket } from "../src/client/node-websocket.js";
import {
  asBytes,
  bytesOf,
  client,
  closeRawPeers,
  openPair,
  type RawServer,
  Recorder,
  rawServer,
  response101,
  settle,
  TEST,
} from "./support/raw-ws-server.js";
import { acceptFor, buildFrame, Opcode } from "./support/ws-frames.js";

const { BINARY, CONTINUATION: CONT, PING, PONG, TEXT } = Opcode;

afterEach(closeRawPeers);

describe("NodeWebSocket against a raw TCP server", () => {
  describe("handshake request", () => {
    it("sends GET path?query, Host, upgrade headers, a key, extra headers", TEST, async () => {
      const server = await rawServer();
      const path = "/socket.io/?EIO=4&transport=websocket&q=a%20b";
      const { rec } = client(server.url(path), { "X-Custom": "v1", Cookie: "a=b; c=d" });
      const peer = await server.nextPeer();
      const { requestLine, headers } = await peer.upgradeRequest();
      assert.equal(requestLine, `GET ${path} HTTP/1.1`);
      assert.equal(headers.get("host"), `127.0.0.1:${server.port}`);
      assert.equal(headers.get("upgrade")?.toLowerCase(), "websocket");
      assert.match(headers.get("connection") ?? "", /(^|,)\s*upgrade\s*(,|$)/i);
      assert.equal(headers.get("sec-websocket-version"), "13");
      const key = headers.get("sec-websocket-key") ?? "";
      assert.equal(Buffer.from(key, "base64").length, 16, `key ${key}`);
      assert.equal(Buffer.from(key, "base64").toString("base64"), key);
      assert.equal(headers.get("x-custom"), "v1");
      assert.equal(headers.get("cookie"), "a=b; c=d");
      assert.equal(headers.get("sec-websocket-extensions"), undefined, "no extension offered");
      assert.equal(headers.get("sec-websocket-protocol"), undefined);
      assert.deepEqual(rec.events, [], "nothing reported before the 101");
    });

    it("uses a fresh key per connection", TEST, async () => {
      const server = await rawServer();
      client(server.url());
      client(server.url());
      const a = await (await server.nextPeer()).upgradeRequest();
      const b = await (await server.nextPeer()).upgradeRequest();
      assert.notEqual(a.headers.get("sec-websocket-key"), b.headers.get("sec-websocket-key"));
    });

    it("sends Host as [::1]:port for an IPv6 URL and connects over ::1", TEST, async (t) => {
      let server: RawServer;
      try {
        server = await rawServer("::1");
      } catch {
        t.skip("no IPv6 loopback on this machine");
        return;
      }
      assert.equal(server.url("/x"), `ws://[::1]:${server.port}/x`);
      const { rec, peer, request } = await openPair(server, "/x?y=1");
      assert.equal(request.requestLine, "GET /x?y=1 HTTP/1.1");
      assert.equal(request.headers.get("host"), `[::1]:${server.port}`);
      assert.equal(peer.socket.remoteAddress, "::1");
      peer.socket.write(buildFrame({ opcode: TEXT, payload: "over v6" }));
      assert.deepEqual(await rec.nextMessages(1), ["over v6"]);
    });

    it("throws a TypeError for an invalid header name or value, before connecting", TEST, () => {
      const rec = new Recorder();
      const url = "ws://127.0.0.1:9/";
      assert.throws(() => new NodeWebSocket(url, { "bad name": "x" }, rec), TypeError);
      assert.throws(() => new NodeWebSocket(url, { "x-a": "1\r\nx-b: 2" }, rec), TypeError);
      assert.deepEqual(rec.events, []);
    });
  });

  describe("messages", () => {
    it("reports open, and carries text (multi-byte UTF-8) and binary both ways", TEST, async () => {
      const server = await rawServer();
      const { ws, rec, peer } = await openPair(server);
      assert.deepEqual(rec.events, [["open"]]);

      const text = "héllo wörld ✓ 😀";
      ws.send(text);
      const backing = new Uint8Array([9, 9, 0, 1, 128, 255, 9]);
      ws.send(backing.subarray(2, 6)); // a view: only its own bytes go out
      const t = await peer.nextFrame();
      assert.deepEqual([t.fin, t.rsv, t.opcode], [true, 0, TEXT]);
      assert.equal(t.payload.toString("utf8"), text);
      assert.ok(t.payload.equals(Buffer.from(text)));
      const b = await peer.nextFrame();
      assert.deepEqual([b.fin, b.rsv, b.opcode], [true, 0, BINARY]);
      assert.deepEqual([...b.payload], [0, 1, 128, 255]);

      peer.socket.write(buildFrame({ opcode: TEXT, payload: text }));
      peer.socket.write(buildFrame({ opcode: BINARY, payload: new Uint8Array([0, 1, 128, 255]) }));
      peer.socket.write(buildFrame({ opcode: TEXT, payload: "" }));
      peer.socket.write(buildFrame({ opcode: BINARY }));
      const [m1, m2, m3, m4] = await rec.nextMessages(4);
      assert.equal(m1, text);
      assert.deepEqual([...asBytes(m2)], [0, 1, 128, 255]);
      assert.equal(m3, "");
      assert.equal(asBytes(m4).length, 0);
    });

    it("masks every frame with a fresh, generally non-zero key", TEST, async () => {
      const server = await rawServer();
      const { ws, peer } = await openPair(server);
      const plain = Buffer.from("the same payload every time");
      for (let i = 0; i < 32; i++) ws.send(i % 2 === 0 ? plain.toString() : new Uint8Array(plain));
      const keys = new Set<string>();
      for (let i = 0; i < 32; i++) {
        const f = await peer.nextFrame(); // asserts the mask bit
        assert.ok(f.payload.equals(plain), `frame ${i} unmasks to the payload`);
        if (!f.key.equals(Buffer.alloc(4))) assert.ok(!f.raw.equals(plain), "masked on the wire");
        keys.add(f.key.toString("hex"));
      }
      keys.delete("00000000");
      assert.ok(keys.size >= 30, `only ${keys.size} distinct non-zero keys in 32 frames`);
    });

    for (const n of [125, 126, 65_535, 65_536, 70_000]) {
      it(`sends a ${n}-byte message with the right length field`, TEST, async () => {
        const server = await rawServer();
        const { ws, peer } = await openPair(server);
        const data = bytesOf(n);
        ws.send(data);
        ws.send("é".repeat(Math.ceil(n / 2)));
        const b = await peer.nextFrame();
        assert.equal(b.lengthCode, n < 126 ? n : n < 65_536 ? 126 : 127);
        assert.ok(b.payload.equals(data), "binary payload differs");
        const t = await peer.nextFrame();
        assert.equal(t.payload.toString(), "é".repeat(Math.ceil(n / 2)));
      });
    }

    it("reads server frames with 7, 16 and 64-bit lengths", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const sizes = [0, 125, 126, 65_535, 65_536, 70_000];
      for (const n of sizes) peer.socket.write(buildFrame({ opcode: BINARY, payload: bytesOf(n) }));
      const long = "ü€".repeat(14_000); // 70,000 bytes of UTF-8
      peer.socket.write(buildFrame({ opcode: TEXT, payload: long }));
      const got = await rec.nextMessages(sizes.length + 1);
      for (const [i, n] of sizes.entries()) assert.ok(asBytes(got[i]).equals(bytesOf(n)), `${n} B`);
      assert.equal(got[sizes.length], long);
    });

    it("joins fragmented text and binary and answers a ping between fragments", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const text = Buffer.from("héllo wörld");
      // The first split falls inside the two bytes of "é": only the whole message is UTF-8.
      peer.socket.write(buildFrame({ opcode: TEXT, payload: text.subarray(0, 2), fin: false }));
      peer.socket.write(buildFrame({ opcode: PING, payload: "p-1" }));
      peer.socket.write(buildFrame({ opcode: CONT, payload: text.subarray(2, 7), fin: false }));
      peer.socket.write(buildFrame({ opcode: PONG, payload: "unsolicited" })); // ignored
      peer.socket.write(buildFrame({ opcode: CONT, payload: text.subarray(7) }));
      peer.socket.write(
        buildFrame({ opcode: BINARY, payload: new Uint8Array([1, 2]), fin: false }),
      );
      peer.socket.write(buildFrame({ opcode: CONT, payload: new Uint8Array([3]), fin: false }));
      peer.socket.write(buildFrame({ opcode: PING }));
      peer.socket.write(buildFrame({ opcode: CONT, payload: new Uint8Array([4, 5]) }));
      const [m1, m2] = await rec.nextMessages(2);
      assert.equal(m1, "héllo wörld");
      assert.deepEqual([...asBytes(m2)], [1, 2, 3, 4, 5]);
      const pong1 = await peer.nextFrame();
      assert.deepEqual([pong1.fin, pong1.opcode, pong1.payload.toString()], [true, PONG, "p-1"]);
      const pong2 = await peer.nextFrame();
      assert.deepEqual([pong2.opcode, pong2.payload.length], [PONG, 0]);
      assert.equal(rec.messages.length, 2);
    });

    it("keeps a fragment and a binary message intact across later reads", TEST, async () => {
      // A plain TCP client reads every chunk into one buffer that the next read overwrites:
      // the fragment waiting for its continuation, and a binary message the application
      // keeps, must not change when later chunks arrive.
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const start = rec.received;
      const chunksBefore = rec.chunks.length;
      const first = buildFrame({ opcode: TEXT, payload: "abc", fin: false });
      peer.socket.write(first);
      await rec.bytesRead(start + first.length);
      // Each continuation is read where the fragments before it were.
      const middle = buildFrame({ opcode: CONT, payload: "def", fin: false });
      peer.socket.write(middle);
      await rec.bytesRead(start + first.length + middle.length);
      peer.socket.write(buildFrame({ opcode: CONT, payload: "ghi" }));
      const [joined] = await rec.nextMessages(1);
      assert.equal(joined, "abcdefghi");

      const received = rec.received;
      const kept = buildFrame({ opcode: BINARY, payload: new Uint8Array([1, 2, 3, 4]) });
      peer.socket.write(kept);
      await rec.bytesRead(received + kept.length);
      const later = buildFrame({ opcode: BINARY, payload: new Uint8Array([9, 9, 9, 9]) });
      peer.socket.write(later);
      const [m1, m2] = (await rec.nextMessages(3)).slice(1);
      assert.deepEqual([...asBytes(m1)], [1, 2, 3, 4]);
      assert.deepEqual([...asBytes(m2)], [9, 9, 9, 9]);
      assert.equal(rec.chunks.length - chunksBefore, 5, "each frame in its own read");
    });

    it("reads several frames from one TCP write, in order", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const before = rec.chunks.length;
      peer.socket.write(
        Buffer.concat([
          buildFrame({ opcode: TEXT, payload: "one" }),
          buildFrame({ opcode: BINARY, payload: new Uint8Array([2]) }),
          buildFrame({ opcode: PING, payload: "in the middle" }),
          buildFrame({ opcode: TEXT, payload: "x".repeat(300) }),
          buildFrame({ opcode: TEXT, payload: "four" }),
        ]),
      );
      const got = await rec.nextMessages(4);
      assert.equal(rec.chunks.length, before + 1, "the frames arrived in one chunk");
      assert.deepEqual(got, ["one", new Uint8Array([2]), "x".repeat(300), "four"]);
      const pong = await peer.nextFrame();
      assert.deepEqual([pong.opcode, pong.payload.toString()], [PONG, "in the middle"]);
    });

    it("reads frames that arrive one byte per TCP chunk", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const bytes = Buffer.concat([
        buildFrame({ opcode: TEXT, payload: "first" }),
        buildFrame({ opcode: TEXT, payload: "ü".repeat(150) }), // 16-bit length
        buildFrame({ opcode: TEXT, payload: "é", fin: false }),
        buildFrame({ opcode: CONT, payload: "!" }),
        buildFrame({ opcode: BINARY, payload: new Uint8Array([7, 8, 9]) }),
      ]);
      const start = rec.received;
      const chunksBefore = rec.chunks.length;
      for (let i = 0; i < bytes.length; i++) {
        peer.socket.write(bytes.subarray(i, i + 1));
        await rec.bytesRead(start + i + 1); // one chunk each: the next waits for this one
      }
      assert.equal(rec.chunks.length - chunksBefore, bytes.length, "one byte per chunk");
      const got = await rec.nextMessages(4);
      assert.deepEqual(got, ["first", "ü".repeat(150), "é!", new Uint8Array([7, 8, 9])]);
    });

    it("reads a 64-bit-length frame whose bytes arrive in many chunks", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const data = bytesOf(70_000);
      const bytes = buildFrame({ opcode: BINARY, payload: data });
      const start = rec.received;
      // Splits inside the 10-byte header, then through the payload.
      for (const [from, to] of [
        [0, 1],
        [1, 5],
        [5, 10],
        [10, 11],
        [11, 40_000],
        [40_000, bytes.length],
      ] as const) {
        peer.socket.write(bytes.subarray(from, to));
        await rec.bytesRead(start + to);
      }
      const [got] = await rec.nextMessages(1);
      assert.ok(asBytes(got).equals(data));
    });

    it("reads a large frame completed by a chunk carrying the next frames", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const data = bytesOf(70_000);
      const big = buildFrame({ opcode: BINARY, payload: data });
      const text = buildFrame({ opcode: TEXT, payload: "after" });
      const last = buildFrame({ opcode: BINARY, payload: bytesOf(300) });
      const start = rec.received;
      const parts = [
        big.subarray(0, 30_000),
        Buffer.concat([big.subarray(30_000), text, last.subarray(0, 3)]), // ends in a header
        last.subarray(3),
      ];
      let sent = start;
      for (const part of parts) {
        peer.socket.write(part);
        sent += part.length;
        await rec.bytesRead(sent);
      }
      const [got, after, small] = await rec.nextMessages(3);
      // A later read must not change the messages already delivered.
      peer.socket.write(buildFrame({ opcode: BINARY, payload: new Uint8Array(70_000).fill(9) }));
      await rec.nextMessages(4);
      assert.ok(asBytes(got).equals(data), "the large frame, intact");
      assert.equal(after, "after");
      assert.ok(asBytes(small).equals(bytesOf(300)));
    });

    it("reads any frames however TCP splits them (seeded random splits)", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      // Sizes at the length fields' bounds and beyond one 64 KB read, and small ones.
      const SIZES = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000, 150_000];
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const pick = (n: number): number => Math.floor(random() * n);
      const frames: Buffer[] = [];
      const expected: (string | Buffer)[] = [];
      for (let i = 0; i < 30; i++) {
        const size = random() < 0.5 ? SIZES[pick(SIZES.length)]! : pick(3000);
        const kind = pick(3);
        if (kind === 0) {
          const text = "é".repeat(size >> 2) + "x".repeat(size - ((size >> 2) << 1));
          frames.push(buildFrame({ opcode: TEXT, payload: text }));
          expected.push(text);
        } else if (kind === 1) {
          const data = bytesOf(size + i);
          frames.push(buildFrame({ opcode: BINARY, payload: data }));
          expected.push(data);
        } else {
          // Fragmented: the message's parts, with a ping between two of them.
          const data = bytesOf(size + 3);
          const cut = pick(data.length);
          frames.push(buildFrame({ opcode: BINARY, payload: data.subarray(0, cut), fin: false }));
          frames.push(buildFrame({ opcode: PING, payload: "p" }));
          frames.push(buildFrame({ opcode: CONT, payload: data.subarray(cut) }));
          expected.push(data);
        }
      }
      const bytes = Buffer.concat(frames);
      const start = rec.received;
      for (let at = 0; at < bytes.length; ) {
        const end = Math.min(bytes.length, at + 1 + pick(random() < 0.3 ? 20 : 90_000));
        peer.socket.write(bytes.subarray(at, end));
        at = end;
        // Mostly a read of its own; else joined with the next writes.
        if (random() < 0.7) await rec.bytesRead(start + at);
      }
      const check = (got: (string | Uint8Array)[]) => {
        assert.equal(got.length, expected.length);
        for (let i = 0; i < got.length; i++) {
          const want = expected[i]!;
          if (typeof want === "string") assert.equal(got[i], want, `message ${i}`);
          else assert.ok(asBytes(got[i]).equals(want), `message ${i}`);
        }
      };
      check(await rec.nextMessages(expected.length));
      // Later reads leave the messages already delivered as they were.
      peer.socket.write(buildFrame({ opcode: BINARY, payload: new Uint8Array(100_000).fill(1) }));
      await rec.nextMessages(expected.length + 1);
      check(rec.messages.slice(0, expected.length));
    });

    it("reads a split 101, the first frame in its last chunk", TEST, async () => {
      const server = await rawServer();
      const { rec } = client(server.url());
      const peer = await server.nextPeer();
      const request = await peer.upgradeRequest();
      const head = Buffer.from(response101(request.headers.get("sec-websocket-key")!));
      const first = buildFrame({ opcode: TEXT, payload: "in the head's chunk" });
      const second = buildFrame({ opcode: BINARY, payload: new Uint8Array([1, 2, 3]) });
      const parts = [
        head.subarray(0, 12), // "HTTP/1.1 101"
        head.subarray(12, head.length - 3), // up to "\r\n\r" of the terminator, split
        Buffer.concat([head.subarray(head.length - 3), first, second.subarray(0, 1)]),
        second.subarray(1),
      ];
      let sent = 0;
      for (const [i, part] of parts.entries()) {
        peer.socket.write(part);
        sent += part.length;
        await rec.bytesRead(sent);
        if (i < 2) assert.deepEqual(rec.events, [], `nothing reported after part ${i}`);
      }
      assert.equal(rec.chunks.length, parts.length, "each part arrived as its own chunk");
      await rec.nextMessages(2);
      assert.deepEqual(rec.events, [
        ["open"],
        ["message", "in the head's chunk"],
        ["message", new Uint8Array([1, 2, 3])],
      ]);
    });

    it("reads a 101 and two frames written at once", TEST, async () => {
      const server = await rawServer();
      const { rec } = client(server.url());
      const peer = await server.nextPeer();
      const request = await peer.upgradeRequest();
      peer.socket.write(
        Buffer.concat([
          Buffer.from(response101(request.headers.get("sec-websocket-key")!)),
          buildFrame({ opcode: TEXT, payload: "a" }),
          buildFrame({ opcode: TEXT, payload: "b" }),
        ]),
      );
      await rec.nextMessages(2);
      assert.deepEqual(rec.events, [["open"], ["message", "a"], ["message", "b"]]);
    });

    it("accepts the 101's header names and values in any case", TEST, async () => {
      const server = await rawServer();
      const { rec } = client(server.url());
      const peer = await server.nextPeer();
      const key = (await peer.upgradeRequest()).headers.get("sec-websocket-key")!;
      const lines = ["UPGRADE: WebSocket", "connection: keep-alive, Upgrade"];
      peer.socket.write(response101(key, [...lines, `sec-websocket-accept:${acceptFor(key)}`]));
      await rec.opened();
      peer.socket.write(buildFrame({ opcode: TEXT, payload: "ok" }));
      assert.deepEqual(await rec.nextMessages(1), ["ok"]);
    });

    it("send() before open writes nothing", TEST, async () => {
      const server = await rawServer();
      const { ws, rec } = client(server.url());
      ws.send("too early"); // not even connected
      ws.send(new Uint8Array([1]));
      const peer = await server.nextPeer();
      const request = await peer.upgradeRequest();
      ws.send("still too early"); // request sent, no 101 yet
      await settle();
      assert.equal(peer.bytesAfterHead, 0, "bytes after the request, before the 101");
      peer.socket.write(response101(request.headers.get("sec-websocket-key")!));
      await rec.opened();
      ws.send("after open");
      const first = await peer.nextFrame();
      assert.equal(first.payload.toString(), "after open");
      assert.equal(peer.bytesAfterHead, 2 + 4 + "after open".length, "only that frame");
    });
  });
});
