/**
 * The client's own WebSocket in Node (src/client/node-websocket.ts), RFC 6455 from the client
 * side. First `NodeWebSocket` alone against a raw TCP server written here: the server reads
 * the upgrade request, answers the 101 itself and builds and parses every frame byte by byte
 * (its frames unmasked, the client's checked to be masked and unmasked here). Then the
 * client (`io`, websocket only) against the official socket.io server and ours.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server as TcpServer,
  type Socket as TcpSocket,
} from "node:net";
import { afterEach, describe, it } from "node:test";
import type { Socket } from "../src/client/index.js";
import { NodeWebSocket, type NodeWebSocketListener } from "../src/client/node-websocket.js";
import { Server } from "../src/server/index.js";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";

const TEST = { timeout: 15_000 };
const WAIT_MS = 3000;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Opcodes and lengths as RFC 6455 §5.2 numbers them, written out here on purpose: the test
// does not take them from the code under test.
const CONT = 0x0;
const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** Something whose state tests wait on: `until` resolves once `get` returns a value. */
class Watched {
  #waiters = new Set<() => boolean>();

  /** Re-checks every pending wait. */
  changed(): void {
    for (const check of [...this.#waiters]) check();
  }

  until<T>(get: () => T | undefined, what: string, ms = WAIT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const value = get();
        if (value === undefined) return false;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      if (!check()) this.#waiters.add(check);
    });
  }
}

// ---------------------------------------------------------------------------------------
// The raw server side.

interface ClientFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  isMasked: boolean;
  key: Buffer;
  /** The 7-bit length field: the length itself, 126 (16-bit follows) or 127 (64-bit). */
  lengthCode: number;
  /** The payload as sent (masked). */
  raw: Buffer;
  /** The payload unmasked. */
  payload: Buffer;
}

interface UpgradeRequest {
  requestLine: string;
  /** Header names in lower case. */
  headers: Map<string, string>;
}

/** Parses one frame at the start of `buf`, or null while it is incomplete. */
function parseFrame(buf: Buffer): { frame: ClientFrame; used: number } | null {
  if (buf.length < 2) return null;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const lengthCode = b1 & 0x7f;
  let length = lengthCode;
  let at = 2;
  if (lengthCode === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    at = 4;
  } else if (lengthCode === 127) {
    if (buf.length < 10) return null;
    length = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const isMasked = (b1 & 0x80) !== 0;
  const key = isMasked ? Buffer.from(buf.subarray(at, at + 4)) : Buffer.alloc(0);
  if (isMasked) at += 4;
  if (buf.length < at + length) return null;
  const raw = Buffer.from(buf.subarray(at, at + length));
  const payload = Buffer.from(raw);
  if (isMasked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
  const frame = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, isMasked, key };
  return { frame: { ...frame, lengthCode, raw, payload }, used: at + length };
}

interface FrameSpec {
  opcode: number;
  payload?: string | Uint8Array;
  fin?: boolean;
  rsv?: number;
  mask?: Uint8Array;
}

/** A server frame (unmasked unless `mask` is given), with a 7, 16 or 64-bit length. */
function frame({ opcode, payload = "", fin = true, rsv = 0, mask }: FrameSpec): Buffer {
  const data = Buffer.from(payload);
  const n = data.length;
  const size = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const head = Buffer.alloc(size + (mask === undefined ? 0 : 4));
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const maskBit = mask === undefined ? 0 : 0x80;
  if (n < 126) head[1] = maskBit | n;
  else if (n < 65_536) {
    head[1] = maskBit | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  if (mask !== undefined) {
    head.set(mask, size);
    for (let i = 0; i < n; i++) data[i] = data[i]! ^ mask[i & 3]!;
  }
  return Buffer.concat([head, data]);
}

/** A close frame's payload: the status, then the reason. */
function closeBody(code: number, reason = ""): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return body;
}

const acceptOf = (key: string): string =>
  createHash("sha1")
    .update(key + GUID)
    .digest("base64");

/** The three headers of a 101 response. */
const upgraded = (key: string, accept = acceptOf(key)) => [
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Accept: ${accept}`,
];

/** A 101 response head with `lines` as its headers. */
function response101(key: string, lines = upgraded(key)): string {
  return `HTTP/1.1 101 Switching Protocols\r\n${lines.map((h) => `${h}\r\n`).join("")}\r\n`;
}

/** One accepted TCP connection on the raw server. */
class RawPeer extends Watched {
  readonly socket: TcpSocket;
  /** The parsed request, once its head arrived. */
  request: UpgradeRequest | null = null;
  readonly frames: ClientFrame[] = [];
  /** How many bytes arrived after the request head. */
  bytesAfterHead = 0;
  isEnded = false;
  isClosed = false;
  #buf = Buffer.alloc(0);
  #read = 0;

  constructor(socket: TcpSocket) {
    super();
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => {
      this.isEnded = true;
      this.changed();
    });
    socket.on("close", () => {
      this.isClosed = true;
      this.changed();
    });
    // A reset by the client (it destroys its socket on a refusal) ends up in "close", which
    // is what the tests look at.
    socket.on("error", () => {});
  }

  #onData(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (this.request !== null) this.bytesAfterHead += chunk.length;
    else {
      const end = this.#buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      const [requestLine = "", ...lines] = this.#buf.toString("latin1", 0, end).split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      this.request = { requestLine, headers };
      this.#buf = this.#buf.subarray(end + 4);
      this.bytesAfterHead = this.#buf.length;
    }
    for (let parsed = parseFrame(this.#buf); parsed !== null; parsed = parseFrame(this.#buf)) {
      this.frames.push(parsed.frame);
      this.#buf = this.#buf.subarray(parsed.used);
    }
    this.changed();
  }

  /** The upgrade request. */
  upgradeRequest(): Promise<UpgradeRequest> {
    return this.until(() => this.request ?? undefined, "the upgrade request");
  }

  /** The next client frame, checked to be masked (RFC 6455 §5.1). */
  async nextFrame(): Promise<ClientFrame> {
    const next = await this.until(() => this.frames[this.#read], "a client frame");
    this.#read++;
    assert.ok(next.isMasked, `client frame with opcode ${next.opcode} is not masked`);
    return next;
  }

  /** Accepts the upgrade with a correct 101 response. */
  async accept(): Promise<UpgradeRequest> {
    const request = await this.upgradeRequest();
    this.socket.write(response101(request.headers.get("sec-websocket-key")!));
    return request;
  }

  /** Resolves once the client has ended or closed its side. */
  gone(): Promise<true> {
    return this.until(() => this.isEnded || this.isClosed || undefined, "the client to end");
  }
}

/** A raw TCP server: half-open connections allowed, so the tests decide when it ends. */
class RawServer extends Watched {
  readonly peers: RawPeer[] = [];
  #taken = 0;
  #server: TcpServer;
  #host: string;

  constructor(server: TcpServer, host: string) {
    super();
    this.#server = server;
    this.#host = host;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path = "/"): string {
    const host = this.#host.includes(":") ? `[${this.#host}]` : this.#host;
    return `ws://${host}:${this.port}${path}`;
  }

  add(socket: TcpSocket): void {
    this.peers.push(new RawPeer(socket));
    this.changed();
  }

  async nextPeer(): Promise<RawPeer> {
    const peer = await this.until(() => this.peers[this.#taken], "a TCP connection");
    this.#taken++;
    return peer;
  }

  close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const rawServers = new Set<RawServer>();
const webSockets = new Set<NodeWebSocket>();

afterEach(async () => {
  for (const ws of webSockets) ws.socket.destroy();
  webSockets.clear();
  await Promise.all([...rawServers].map((s) => s.close()));
  rawServers.clear();
});

async function rawServer(host = "127.0.0.1"): Promise<RawServer> {
  const tcp = createTcpServer({ allowHalfOpen: true });
  const server = new RawServer(tcp, host);
  tcp.on("connection", (socket) => server.add(socket));
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(0, host, resolve);
  });
  rawServers.add(server);
  return server;
}

// ---------------------------------------------------------------------------------------
// The client side.

type Reported = ["open"] | ["message", string | Uint8Array] | ["close", Error | undefined];

/** The listener handed to NodeWebSocket: what it reported, and the bytes its socket read. */
class Recorder extends Watched implements NodeWebSocketListener {
  readonly events: Reported[] = [];
  /** Sizes of the chunks the client's TCP socket read. */
  readonly chunks: number[] = [];
  received = 0;

  open(): void {
    this.events.push(["open"]);
    this.changed();
  }

  message(data: string | Uint8Array): void {
    this.events.push(["message", data]);
    this.changed();
  }

  close(err?: Error): void {
    this.events.push(["close", err]);
    this.changed();
  }

  get messages(): (string | Uint8Array)[] {
    return this.events.flatMap((e) => (e[0] === "message" ? [e[1]] : []));
  }

  get closeCount(): number {
    return this.events.filter((e) => e[0] === "close").length;
  }

  opened(): Promise<true> {
    return this.until(() => this.events.some((e) => e[0] === "open") || undefined, "open");
  }

  /** The first `n` messages, once they arrived. */
  nextMessages(n: number): Promise<(string | Uint8Array)[]> {
    return this.until(() => {
      const got = this.messages;
      return got.length >= n ? got.slice(0, n) : undefined;
    }, `${n} message(s)`);
  }

  /** The error the close was reported with (a `{ err }` box: undefined is a value here). */
  closed(): Promise<{ err: Error | undefined }> {
    return this.until(() => {
      const event = this.events.find((e) => e[0] === "close");
      return event === undefined ? undefined : { err: event[1] as Error | undefined };
    }, "close");
  }

  /** Resolves once the client's socket has read `total` bytes in all. */
  bytesRead(total: number): Promise<true> {
    return this.until(() => this.received >= total || undefined, `${total} bytes read`);
  }
}

function client(
  url: string,
  headers?: Record<string, string>,
): { ws: NodeWebSocket; rec: Recorder } {
  const rec = new Recorder();
  const ws = new NodeWebSocket(url, headers, rec);
  webSockets.add(ws);
  countReads(ws.socket, (length) => {
    rec.chunks.push(length);
    rec.received += length;
    rec.changed();
  });
  return { ws, rec };
}

/**
 * Calls `counted` with the length of every chunk `socket` reads, once the client has handled
 * it. A plain TCP client reads through net's `onread` callback, which emits no 'data' event:
 * the callback Node keeps on the socket (its internal `kBufferCb` symbol) is wrapped.
 */
function countReads(socket: TcpSocket, counted: (length: number) => void): void {
  type ReadCallback = (length: number, buf: Uint8Array) => boolean;
  const holder = socket as unknown as Record<symbol, ReadCallback | null>;
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === "kBufferCb");
  assert.ok(key !== undefined, "net.Socket keeps its onread callback under kBufferCb");
  const read = holder[key];
  assert.ok(typeof read === "function", "the client reads through onread");
  holder[key] = (length, buf) => {
    const result = read(length, buf);
    counted(length);
    return result;
  };
}

/** A client connected to `server` through a correct handshake, open. */
async function openPair(server: RawServer, path = "/") {
  const { ws, rec } = client(server.url(path));
  const peer = await server.nextPeer();
  const request = await peer.accept();
  await rec.opened();
  return { ws, rec, peer, request };
}

/** A macrotask: lets anything already queued (a frame in flight on loopback) land. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A payload of `n` bytes that is not periodic in 4 (so a mask error shows). */
const bytesOf = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
};

const asBytes = (m: string | Uint8Array | undefined): Buffer => {
  assert.ok(m instanceof Uint8Array, `expected bytes, got ${typeof m}`);
  return Buffer.from(m.buffer, m.byteOffset, m.byteLength);
};

// ---------------------------------------------------------------------------------------

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
      peer.socket.write(frame({ opcode: TEXT, payload: "over v6" }));
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

      peer.socket.write(frame({ opcode: TEXT, payload: text }));
      peer.socket.write(frame({ opcode: BINARY, payload: new Uint8Array([0, 1, 128, 255]) }));
      peer.socket.write(frame({ opcode: TEXT, payload: "" }));
      peer.socket.write(frame({ opcode: BINARY }));
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
      for (const n of sizes) peer.socket.write(frame({ opcode: BINARY, payload: bytesOf(n) }));
      const long = "ü€".repeat(14_000); // 70,000 bytes of UTF-8
      peer.socket.write(frame({ opcode: TEXT, payload: long }));
      const got = await rec.nextMessages(sizes.length + 1);
      for (const [i, n] of sizes.entries()) assert.ok(asBytes(got[i]).equals(bytesOf(n)), `${n} B`);
      assert.equal(got[sizes.length], long);
    });

    it("joins fragmented text and binary and answers a ping between fragments", TEST, async () => {
      const server = await rawServer();
      const { rec, peer } = await openPair(server);
      const text = Buffer.from("héllo wörld");
      // The first split falls inside the two bytes of "é": only the whole message is UTF-8.
      peer.socket.write(frame({ opcode: TEXT, payload: text.subarray(0, 2), fin: false }));
      peer.socket.write(frame({ opcode: PING, payload: "p-1" }));
      peer.socket.write(frame({ opcode: CONT, payload: text.subarray(2, 7), fin: false }));
      peer.socket.write(frame({ opcode: PONG, payload: "unsolicited" })); // ignored
      peer.socket.write(frame({ opcode: CONT, payload: text.subarray(7) }));
      peer.socket.write(frame({ opcode: BINARY, payload: new Uint8Array([1, 2]), fin: false }));
      peer.socket.write(frame({ opcode: CONT, payload: new Uint8Array([3]), fin: false }));
      peer.socket.write(frame({ opcode: PING }));
      peer.socket.write(frame({ opcode: CONT, payload: new Uint8Array([4, 5]) }));
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
      const first = frame({ opcode: TEXT, payload: "abc", fin: false });
      peer.socket.write(first);
      await rec.bytesRead(start + first.length);
      // Each continuation is read where the fragments before it were.
      const middle = frame({ opcode: CONT, payload: "def", fin: false });
      peer.socket.write(middle);
      await rec.bytesRead(start + first.length + middle.length);
      peer.socket.write(frame({ opcode: CONT, payload: "ghi" }));
      const [joined] = await rec.nextMessages(1);
      assert.equal(joined, "abcdefghi");

      const received = rec.received;
      const kept = frame({ opcode: BINARY, payload: new Uint8Array([1, 2, 3, 4]) });
      peer.socket.write(kept);
      await rec.bytesRead(received + kept.length);
      const later = frame({ opcode: BINARY, payload: new Uint8Array([9, 9, 9, 9]) });
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
          frame({ opcode: TEXT, payload: "one" }),
          frame({ opcode: BINARY, payload: new Uint8Array([2]) }),
          frame({ opcode: PING, payload: "in the middle" }),
          frame({ opcode: TEXT, payload: "x".repeat(300) }),
          frame({ opcode: TEXT, payload: "four" }),
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
        frame({ opcode: TEXT, payload: "first" }),
        frame({ opcode: TEXT, payload: "ü".repeat(150) }), // 16-bit length
        frame({ opcode: TEXT, payload: "é", fin: false }),
        frame({ opcode: CONT, payload: "!" }),
        frame({ opcode: BINARY, payload: new Uint8Array([7, 8, 9]) }),
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
      const bytes = frame({ opcode: BINARY, payload: data });
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
      const big = frame({ opcode: BINARY, payload: data });
      const text = frame({ opcode: TEXT, payload: "after" });
      const last = frame({ opcode: BINARY, payload: bytesOf(300) });
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
      peer.socket.write(frame({ opcode: BINARY, payload: new Uint8Array(70_000).fill(9) }));
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
          frames.push(frame({ opcode: TEXT, payload: text }));
          expected.push(text);
        } else if (kind === 1) {
          const data = bytesOf(size + i);
          frames.push(frame({ opcode: BINARY, payload: data }));
          expected.push(data);
        } else {
          // Fragmented: the message's parts, with a ping between two of them.
          const data = bytesOf(size + 3);
          const cut = pick(data.length);
          frames.push(frame({ opcode: BINARY, payload: data.subarray(0, cut), fin: false }));
          frames.push(frame({ opcode: PING, payload: "p" }));
          frames.push(frame({ opcode: CONT, payload: data.subarray(cut) }));
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
      peer.socket.write(frame({ opcode: BINARY, payload: new Uint8Array(100_000).fill(1) }));
      await rec.nextMessages(expected.length + 1);
      check(rec.messages.slice(0, expected.length));
    });

    it("reads a split 101, the first frame in its last chunk", TEST, async () => {
      const server = await rawServer();
      const { rec } = client(server.url());
      const peer = await server.nextPeer();
      const request = await peer.upgradeRequest();
      const head = Buffer.from(response101(request.headers.get("sec-websocket-key")!));
      const first = frame({ opcode: TEXT, payload: "in the head's chunk" });
      const second = frame({ opcode: BINARY, payload: new Uint8Array([1, 2, 3]) });
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
          frame({ opcode: TEXT, payload: "a" }),
          frame({ opcode: TEXT, payload: "b" }),
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
      peer.socket.write(response101(key, [...lines, `sec-websocket-accept:${acceptOf(key)}`]));
      await rec.opened();
      peer.socket.write(frame({ opcode: TEXT, payload: "ok" }));
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
        respond: (key) => response101(key, upgraded(key, acceptOf(`${key}x`))),
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
        bytes: frame({ opcode: TEXT, payload: "hidden", mask: Buffer.from([1, 2, 3, 4]) }),
      },
      { name: "reserved data opcode 0x3", bytes: frame({ opcode: 0x3, payload: "x" }) },
      { name: "reserved control opcode 0xB", bytes: frame({ opcode: 0xb }) },
      { name: "RSV1 set", bytes: frame({ opcode: TEXT, payload: "x", rsv: 4 }) },
      { name: "RSV3 set", bytes: frame({ opcode: BINARY, payload: "x", rsv: 1 }) },
      {
        name: "invalid UTF-8 in a text frame",
        bytes: frame({ opcode: TEXT, payload: new Uint8Array([0x68, 0xc3, 0x28]) }),
        codes: [1002, 1007],
      },
      {
        name: "invalid UTF-8 across text fragments",
        bytes: Buffer.concat([
          frame({ opcode: TEXT, payload: new Uint8Array([0xe2, 0x82]), fin: false }),
          frame({ opcode: CONT, payload: new Uint8Array([0x41]) }),
        ]),
        codes: [1002, 1007],
      },
      { name: "a continuation without a started message", bytes: frame({ opcode: CONT }) },
      {
        name: "a new message inside a fragmented one",
        bytes: Buffer.concat([
          frame({ opcode: TEXT, payload: "a", fin: false }),
          frame({ opcode: TEXT, payload: "b" }),
        ]),
      },
      { name: "a fragmented ping", bytes: frame({ opcode: PING, fin: false }) },
      {
        name: "a 64-bit length of 1 TiB (past the message size limit)",
        bytes: Buffer.from([0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3]),
        codes: [1002, 1009],
      },
      { name: "a 126-byte ping", bytes: frame({ opcode: PING, payload: bytesOf(126) }) },
      {
        name: "a close frame with a 1-byte payload",
        bytes: frame({ opcode: CLOSE, payload: "x" }),
      },
      {
        name: "a close frame with status 1005",
        bytes: frame({ opcode: CLOSE, payload: closeBody(1005) }),
      },
    ];
    for (const { name, bytes, codes = [1002] } of badFrames) {
      it(name, TEST, async () => {
        const server = await rawServer();
        const { ws, rec, peer } = await openPair(server);
        peer.socket.write(Buffer.concat([bytes, frame({ opcode: TEXT, payload: "after" })]));
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
          frame({ opcode: TEXT, payload: "hi" }),
          frame({ opcode: 0x3, payload: "x" }),
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
            frame({ opcode: TEXT, payload: "last" }),
            frame({ opcode: CLOSE, payload: body }),
            frame({ opcode: TEXT, payload: "after the close frame" }), // §5.5.1: ignored
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
      peer.socket.write(frame({ opcode: CLOSE, payload: closeBody(1000) }));
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
          frame({ opcode: TEXT, payload: "late" }).toString("latin1"),
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

// ---------------------------------------------------------------------------------------
// Through the client.

/** What the tests use of a server-side socket, on either server. */
interface Peer {
  handshake: { headers: Record<string, string | string[] | undefined> };
  conn: { close(): void };
  on(ev: string, fn: (...args: never[]) => void): unknown;
  onAny(fn: (ev: string, ...args: unknown[]) => void): unknown;
}

interface Host {
  url: string;
  onConnection(fn: (peer: Peer) => void): void;
  disconnectSockets(): void;
}

const ourServers = new Set<Server>();

afterEach(async () => {
  await cleanup();
  await Promise.all([...ourServers].map((s) => s.close()));
  ourServers.clear();
});

const hosts: { name: string; start(): Promise<Host> }[] = [
  {
    name: "the official socket.io server",
    async start() {
      const server = await startOfficial();
      return {
        url: server.url,
        onConnection: (fn) => server.io.on("connection", (peer) => fn(peer as unknown as Peer)),
        disconnectSockets: () => server.io.disconnectSockets(true),
      };
    },
  },
  {
    name: "the Switchboard server",
    async start() {
      const http = createHttpServer();
      const server = new Server(http);
      ourServers.add(server);
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
      return {
        url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
        onConnection: (fn) => server.on("connection", (peer) => fn(peer as unknown as Peer)),
        disconnectSockets: () => server.disconnectSockets(true),
      };
    },
  },
];

/** Server-side echo handlers: `echo` acks its argument, `bytes` acks a binary's bytes. */
function serveEcho(peer: Peer): void {
  peer.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  peer.on("bytes", (v: Uint8Array, ack: (v: number[]) => void) => ack([...v]));
}

for (const { name, start } of hosts) {
  describe(`io() over websocket against ${name}`, () => {
    async function pair(opts: Parameters<typeof connect>[1] = {}): Promise<[Socket, Peer, Host]> {
      const host = await start();
      const peers: Peer[] = [];
      host.onConnection((peer) => {
        serveEcho(peer);
        peers.push(peer);
      });
      const socket = connect(host.url, { transports: ["websocket"], ...opts });
      await waitFor(socket, "connect");
      assert.equal(socket.io.engine?.transport.name, "websocket");
      return [socket, peers[0]!, host];
    }

    it("round-trips a string with emitWithAck", TEST, async () => {
      const [socket] = await pair();
      assert.equal(await socket.emitWithAck("echo", "héllo ✓"), "héllo ✓");
    });

    it("round-trips a 300 KB string (64-bit frame lengths both ways)", TEST, async () => {
      const [socket] = await pair();
      const big = "ab€".repeat(100_000); // 300,000 characters, 500,000 bytes of UTF-8
      assert.equal(await socket.emitWithAck("echo", big), big);
    });

    it("round-trips binary: a Buffer, and 70,000 bytes", TEST, async () => {
      const [socket] = await pair();
      const small = (await socket.emitWithAck("echo", Buffer.from([0, 1, 128, 255]))) as unknown;
      assert.deepEqual([...asBytes(small as Uint8Array)], [0, 1, 128, 255]);
      const data = bytesOf(70_000);
      const back = (await socket.emitWithAck("echo", { data, label: "x" })) as {
        data: Uint8Array;
        label: string;
      };
      assert.ok(asBytes(back.data).equals(data));
      assert.equal(back.label, "x");
    });

    it("sends a Blob attachment's bytes, in order with the emits after it", TEST, async () => {
      const [socket, peer] = await pair();
      assert.deepEqual(
        await socket.emitWithAck("bytes", new Blob([new Uint8Array([5, 6]), "é"])),
        [5, 6, 0xc3, 0xa9],
      );
      const got: unknown[] = [];
      const done = new Promise<void>((resolve) =>
        peer.onAny((ev, ...args) => {
          got.push([ev, ...args.map((a) => (a instanceof Uint8Array ? [...a] : a))]);
          if (got.length === 4) resolve();
        }),
      );
      socket.emit("blob", new Blob([new Uint8Array(bytesOf(3000))]), "tail");
      socket.emit("plain", 1);
      socket.emit("blob", new Blob([new Uint8Array([1, 2, 3])]));
      socket.emit("plain", 2);
      await done;
      assert.deepEqual(got, [
        ["blob", [...bytesOf(3000)], "tail"],
        ["plain", 1],
        ["blob", [1, 2, 3]],
        ["plain", 2],
      ]);
    });

    it("sends extraHeaders with the upgrade request", TEST, async () => {
      const [, peer] = await pair({ extraHeaders: { "x-test": "yes", authorization: "Bearer t" } });
      assert.equal(peer.handshake.headers["x-test"], "yes");
      assert.equal(peer.handshake.headers.authorization, "Bearer t");
      assert.equal(peer.handshake.headers["sec-websocket-extensions"], undefined);
    });

    it("reconnects after socket.conn.close() on the server", TEST, async () => {
      const fast = { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 };
      const [socket, peer] = await pair(fast);
      const gone = waitFor<[string]>(socket, "disconnect");
      const back = gone.then(() => waitFor(socket, "connect"));
      peer.conn.close();
      assert.equal((await gone)[0], "transport close");
      await back;
      assert.equal(await socket.emitWithAck("echo", "again"), "again");
    });

    it("after disconnectSockets(true) stays disconnected, then connect() works", TEST, async () => {
      const fast = { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 };
      const [socket, , host] = await pair(fast);
      const gone = waitFor<[string]>(socket, "disconnect");
      host.disconnectSockets();
      // As in Socket.IO: a server-side disconnect is not retried automatically.
      assert.equal((await gone)[0], "io server disconnect");
      assert.equal(socket.connected, false);
      socket.connect();
      await waitFor(socket, "connect");
      assert.equal(await socket.emitWithAck("echo", "back"), "back");
    });
  });
}
