/**
 * A raw TCP client for RFC 6455 tests (test/websocket-conformance.test.ts): it writes the
 * upgrade request and masked frames by hand and reads the server's response and frames as one
 * byte stream, so that a test sees exactly what the server sent and when it hung up.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { EngineCloseReason, EngineSocket } from "../../src/engine/index.js";
import { type EngineHarness, waitFor } from "../engine-helpers.js";
import {
  acceptFor,
  buildFrame,
  type FrameSpec,
  Opcode,
  type ParsedFrame,
  parseFrame,
} from "./ws-frames.js";

/** A client's frame: masked with a random key unless `mask: false`. */
export const clientFrame = (spec: FrameSpec): Buffer => buildFrame({ mask: true, ...spec });

/** An HTTP response head. */
export interface HttpResponse {
  readonly status: number;
  /** Header values by lower-case name. */
  readonly headers: ReadonlyMap<string, string>;
}

/** Parses the response head at the start of `bytes`, or returns null while it is incomplete. */
function parseResponse(bytes: Buffer): { response: HttpResponse; used: number } | null {
  const end = bytes.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const [statusLine = "", ...lines] = bytes.toString("latin1", 0, end).split("\r\n");
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
  assert.ok(status, `not an HTTP/1.1 status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { response: { status: Number(status[1]), headers }, used: end + 4 };
}

const peers = new Set<TcpPeer>();

/** Destroys every connection {@link TcpPeer.connect} opened (call it in `afterEach`). */
export function destroyPeers(): void {
  for (const peer of peers) peer.socket.destroy();
  peers.clear();
}

/** A raw TCP connection to the server, reading what it sends as one byte stream. */
export class TcpPeer {
  readonly socket: Socket;
  #bytes = Buffer.alloc(0);
  #isEnded = false;
  #wake: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.#bytes = Buffer.concat([this.#bytes, chunk]);
      this.#notify();
    });
    const onEnd = (): void => {
      this.#isEnded = true;
      this.#notify();
    };
    socket.on("end", onEnd).on("close", onEnd);
    // A reset after the server gave up on us is expected in some tests; "close" follows.
    socket.on("error", () => {});
  }

  /** Opens a TCP connection to `port` on 127.0.0.1; {@link destroyPeers} destroys it. */
  static async connect(port: number): Promise<TcpPeer> {
    const socket = connect(port, "127.0.0.1");
    const peer = new TcpPeer(socket);
    peers.add(peer);
    await waitFor(socket, "connect");
    return peer;
  }

  /** Whether the server ended the connection (its FIN, or the socket closed). */
  get isEnded(): boolean {
    return this.#isEnded;
  }

  /** Writes `chunks` in one TCP write. */
  write(...chunks: Buffer[]): void {
    this.socket.write(Buffer.concat(chunks));
  }

  /** Reads the HTTP response head (the bytes after it stay for `readFrame`). */
  readResponse(ms = 2000): Promise<HttpResponse> {
    return this.#take(parseResponse, "an HTTP response", ms).then((r) => r.response);
  }

  /** Reads the next frame, which a server must never mask (RFC 6455 §5.1). */
  async readFrame(ms = 2000): Promise<ParsedFrame> {
    const { frame } = await this.#take(parseFrame, "a frame", ms);
    assert.equal(frame.isMasked, false, "server frames are not masked (RFC 6455 §5.1)");
    return frame;
  }

  /** Resolves once the server ended the connection, with whatever it sent but was not read. */
  async ended(ms = 2000): Promise<Buffer> {
    await this.#take(() => (this.#isEnded ? { used: 0 } : null), "the connection's end", ms);
    const rest = this.#bytes;
    this.#bytes = Buffer.alloc(0);
    return rest;
  }

  async #take<T extends { used: number }>(
    parse: (bytes: Buffer) => T | null,
    what: string,
    ms: number,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const parsed = parse(this.#bytes);
      if (parsed !== null) {
        this.#bytes = this.#bytes.subarray(parsed.used);
        return parsed;
      }
      if (this.#isEnded) {
        throw new Error(`connection ended while waiting for ${what} (${this.#bytes.length} B)`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** A random 16-byte `Sec-WebSocket-Key` (RFC 6455 §4.1). */
export function newKey(): string {
  return randomBytes(16).toString("base64");
}

/** Writes an Engine.IO WebSocket upgrade request with `headers` after the standard ones. */
export function writeUpgrade(h: EngineHarness, peer: TcpPeer, headers: readonly string[]): void {
  const lines = [
    `GET ${h.engine.options.path}/?EIO=4&transport=websocket HTTP/1.1`,
    `Host: 127.0.0.1:${h.port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    ...headers,
  ];
  peer.socket.write(`${lines.join("\r\n")}\r\n\r\n`);
}

/** An open WebSocket session: the raw client, the server's session and the open packet. */
export interface OpenSession {
  readonly peer: TcpPeer;
  readonly session: EngineSocket;
  readonly response: HttpResponse;
}

/** Completes a WebSocket handshake and reads the Engine.IO open packet. */
export async function openSession(
  h: EngineHarness,
  headers: readonly string[] = [],
): Promise<OpenSession> {
  const connection = h.nextConnection();
  const peer = await TcpPeer.connect(h.port);
  const key = newKey();
  writeUpgrade(h, peer, [`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13", ...headers]);
  const response = await peer.readResponse();
  assert.equal(response.status, 101);
  assert.equal(response.headers.get("upgrade")?.toLowerCase(), "websocket");
  assert.equal(response.headers.get("connection")?.toLowerCase(), "upgrade");
  assert.equal(response.headers.get("sec-websocket-accept"), acceptFor(key));
  const session = await connection;
  const open = await peer.readFrame();
  assert.equal(open.opcode, Opcode.TEXT);
  assert.equal(open.fin, true);
  const text = open.payload.toString();
  assert.ok(text.startsWith("0{"), `open packet expected, got ${JSON.stringify(text)}`);
  assert.equal((JSON.parse(text.slice(1)) as { sid: unknown }).sid, session.id);
  return { peer, session, response };
}

/** The session's close reason and description; never rejects before it is awaited. */
export function closeOf(session: EngineSocket, ms = 2000): Promise<[EngineCloseReason, Error?]> {
  const closed = waitFor<[EngineCloseReason, Error?]>(session, "close", ms);
  closed.catch(() => {});
  return closed;
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Sends a message from `peer` and expects `session` to answer it: the server still serves. */
export async function assertServes({ peer, session }: OpenSession): Promise<void> {
  session.once("message", (data) => session.send(`echo ${String(data)}`));
  peer.write(clientFrame({ opcode: Opcode.TEXT, payload: "4ping?" }));
  const echo = await peer.readFrame();
  assert.equal(echo.payload.toString(), "4echo ping?");
}
