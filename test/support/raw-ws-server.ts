/**
 * A raw TCP WebSocket server for testing the client's own WebSocket (src/client/node-websocket.ts)
 * byte by byte: it reads the upgrade request, answers the 101 itself and parses every frame by
 * hand (./ws-frames.ts; the client's checked to be masked), and a recorder for what the client
 * reports.
 */
import assert from "node:assert/strict";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server as TcpServer,
  type Socket as TcpSocket,
} from "node:net";
import { NodeWebSocket, type NodeWebSocketListener } from "../../src/client/node-websocket.js";
import { acceptFor, type ParsedFrame, parseFrame } from "./ws-frames.js";

export const TEST = { timeout: 15_000 };
export const WAIT_MS = 3000;
/** Something whose state tests wait on: `until` resolves once `get` returns a value. */
export class Watched {
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

export interface UpgradeRequest {
  requestLine: string;
  /** Header names in lower case. */
  headers: Map<string, string>;
}

/** The three headers of a 101 response. */
export const upgraded = (key: string, accept = acceptFor(key)) => [
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Accept: ${accept}`,
];

/** A 101 response head with `lines` as its headers. */
export function response101(key: string, lines = upgraded(key)): string {
  return `HTTP/1.1 101 Switching Protocols\r\n${lines.map((h) => `${h}\r\n`).join("")}\r\n`;
}

/** One accepted TCP connection on the raw server. */
export class RawPeer extends Watched {
  readonly socket: TcpSocket;
  /** The parsed request, once its head arrived. */
  request: UpgradeRequest | null = null;
  readonly frames: ParsedFrame[] = [];
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
  async nextFrame(): Promise<ParsedFrame> {
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
export class RawServer extends Watched {
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

/** Closes every raw server and client the tests opened (call it in `afterEach`). */
export async function closeRawPeers(): Promise<void> {
  for (const ws of webSockets) ws.socket.destroy();
  webSockets.clear();
  await Promise.all([...rawServers].map((s) => s.close()));
  rawServers.clear();
}

export async function rawServer(host = "127.0.0.1"): Promise<RawServer> {
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

export type Reported = ["open"] | ["message", string | Uint8Array] | ["close", Error | undefined];

/** The listener handed to NodeWebSocket: what it reported, and the bytes its socket read. */
export class Recorder extends Watched implements NodeWebSocketListener {
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

export function client(
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
export function countReads(socket: TcpSocket, counted: (length: number) => void): void {
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
export async function openPair(server: RawServer, path = "/") {
  const { ws, rec } = client(server.url(path));
  const peer = await server.nextPeer();
  const request = await peer.accept();
  await rec.opened();
  return { ws, rec, peer, request };
}

/** A macrotask: lets anything already queued (a frame in flight on loopback) land. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A payload of `n` bytes that is not periodic in 4 (so a mask error shows). */
export const bytesOf = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
};

export const asBytes = (m: string | Uint8Array | undefined): Buffer => {
  assert.ok(m instanceof Uint8Array, `expected bytes, got ${typeof m}`);
  return Buffer.from(m.buffer, m.byteOffset, m.byteLength);
};
