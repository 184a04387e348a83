/**
 * The client side of a WebSocket connection (RFC 6455) in Node, on a TCP or TLS socket of
 * its own: what the client's WebSocket transport uses in Node in place of the `ws` package.
 * The handshake request is written on the socket directly (no `http.ClientRequest`), frames
 * are read in the socket's `data` listener, and each message is written as one masked frame
 * in one buffer. No extension is offered. With an `agent` (a proxy's, say), the handshake
 * goes through `http.request` and its `upgrade` event instead, as it does in `ws`.
 *
 * Node only: the browser bundles never load this module (`websocket.ts` imports it under
 * `isNode`; `scripts/build-client.mjs` keeps it out).
 */
import { Buffer, isUtf8 } from "node:buffer";
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import {
  type Agent,
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import { request as httpsRequest } from "node:https";
import { createRequire } from "node:module";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { env } from "node:process";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import {
  applyMask,
  closePayload,
  frameHeaderSize,
  HTTP_TOKEN,
  isValidCloseCode,
  loadNativeUnmask,
  newFrameHead,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  readFrameHead,
  WEBSOCKET_GUID,
  writeFrameHeader,
} from "../protocol/websocket-frame.js";
import { type NodeConnectOptions, nodeOptionsOf } from "./node-options.js";

/** What a {@link NodeWebSocket} reports. */
export interface NodeWebSocketListener {
  /** The handshake succeeded. */
  open(): void;
  /** A message: text as a string, binary as bytes. */
  message(data: string | Uint8Array): void;
  /** The connection is gone, once: with an error when it failed. */
  close(err?: Error): void;
}

/** Largest message accepted from the server (as `ws`'s client default). */
const MAX_PAYLOAD = 100 * 1024 * 1024;
/** Largest handshake response head. */
const MAX_HEAD = 16 * 1024;
/** How long a closing connection waits for the server to close it. */
const CLOSE_TIMEOUT_MS = 30_000;
/** Sent frames up to this many bytes in all are joined into one buffer (as the server's). */
const CONCAT_LIMIT = 65_536;

// The optional native `bufferutil`, as `ws` loads it: large payloads masked 4-6x faster.
// WS_NO_BUFFER_UTIL turns it off here too.
const NATIVE_UNMASK = loadNativeUnmask(createRequire(import.meta.url), env.WS_NO_BUFFER_UTIL);

// Masking keys (RFC 6455 §10.3: unpredictable), drawn from a pool refilled in bulk.
const maskPool = Buffer.allocUnsafe(8192);
let maskOffset = maskPool.length;

function nextMask(frame: Buffer, at: number): void {
  if (maskOffset === maskPool.length) {
    randomFillSync(maskPool);
    maskOffset = 0;
  }
  // hot path: four stores; Buffer#copy runs several functions of Node's for 4 bytes.
  const pool = maskPool;
  const from = maskOffset;
  frame[at] = pool[from]!;
  frame[at + 1] = pool[from + 1]!;
  frame[at + 2] = pool[from + 2]!;
  frame[at + 3] = pool[from + 3]!;
  maskOffset = from + 4;
}

/** A whole client frame (RFC 6455 §5.2, §5.3): FIN, `opcode`, a fresh key, the masked data. */
function maskedFrame(opcode: number, data: string | Uint8Array): Buffer {
  const isText = typeof data === "string";
  const length = isText ? Buffer.byteLength(data) : data.byteLength;
  const frame = Buffer.allocUnsafe(frameHeaderSize(length) + 4 + length);
  const keyAt = writeFrameHeader(frame, opcode, length, true);
  nextMask(frame, keyAt);
  const start = keyAt + 4;
  if (isText) frame.write(data, start);
  else frame.set(data, start);
  applyMask(frame, keyAt, start, start + length, NATIVE_UNMASK);
  return frame;
}

// The head of the frame being read, for every connection (reading is synchronous).
const HEAD = newFrameHead();

// hot path: a plain TCP connection reads into this one buffer (net's `onread`), shared by
// every connection for the same reason, instead of through the socket's stream: no Buffer
// allocated per read, and none of the stream's push and 'data' event calls, which a fresh
// client otherwise runs cold in every round trip. What outlives a read is copied out of it
// (see owned()). TLS sockets, and sockets an agent hands over, are read through 'data'.
const READ_BUFFER = Buffer.allocUnsafeSlow(65_536);

/** `bytes`, or a copy of them if they lie in READ_BUFFER, which the next read overwrites. */
function owned(bytes: Buffer): Buffer {
  return bytes.buffer === READ_BUFFER.buffer ? Buffer.from(bytes) : bytes;
}

// States.
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * A WebSocket client connection to `url` (`ws:` or `wss:`, with the TLS ones of `options`; the
 * server's certificate checked as `tls.connect` does by default), sending `headers` with the
 * handshake, through `options.agent` when there is one. Throws a `TypeError` for an invalid
 * URL or header; everything later is reported to `listener`.
 */
export class NodeWebSocket {
  // The connection: set at once, or with an agent once the server accepted the upgrade
  // (until then, only #request is); always set from OPEN on.
  #socket: Socket | null = null;
  #request: ClientRequest | null = null;
  readonly #listener: NodeWebSocketListener;
  #state = CONNECTING;
  #key: string | null;
  // Bytes not read yet: the response head, or a frame whose header is incomplete.
  #pending: Buffer[] | null = null;
  #pendingBytes = 0;
  // How many bytes an incomplete frame needs in all, once its header is read (see #keep).
  #need = 0;
  // A frame whose length is known, filled as its bytes arrive (see #keep), and how many it
  // holds so far.
  #frame: Buffer | null = null;
  #frameBytes = 0;
  #fragments: Buffer[] | null = null;
  #fragmentBytes = 0;
  #fragmentIsBinary = false;
  #closeSent = false;
  #closeTimed = false;
  readonly #onRead = (length: number): boolean => {
    this.#receive(READ_BUFFER.subarray(0, length));
    return true; // keep reading
  };
  // hot path: the frames sent in one burst leave in one write. While a read is dispatched
  // (#isReading), the replies it triggers are written when it ends; otherwise at the end of
  // the current task (a microtask). As the server's transport does: one frame is written as
  // it is, small ones joined into one buffer, larger batches corked around their writes (one
  // writev, no copy). Holding Node's cork for the whole burst instead sent every write, even
  // a lone frame, through the stream's buffered path: 3-9 % more time per round trip in the
  // first 2,000 of a fresh client (bench/profile/latency-curve.mjs, alternated runs).
  #isReading = false;
  #isBatching = false;
  readonly #batch: Buffer[] = [];
  #batchBytes = 0;
  readonly #flush = (): void => {
    if (!this.#isBatching) return;
    this.#isBatching = false;
    const batch = this.#batch;
    const socket = this.#socket!;
    if (batch.length === 1) socket.write(batch[0]!);
    else if (this.#batchBytes <= CONCAT_LIMIT) socket.write(Buffer.concat(batch, this.#batchBytes));
    else {
      socket.cork();
      for (let i = 0; i < batch.length; i++) socket.write(batch[i]!);
      socket.uncork();
    }
    batch.length = 0;
    this.#batchBytes = 0;
  };

  constructor(
    url: string,
    headers: Record<string, string> | undefined,
    listener: NodeWebSocketListener,
    options?: NodeConnectOptions,
  ) {
    const { agent, ...tls } = (options === undefined ? undefined : nodeOptionsOf(options)) ?? {};
    this.#listener = listener;
    const target = new URL(url);
    const isTls = target.protocol === "wss:" || target.protocol === "https:";
    const host = target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname;
    const key = randomBytes(16).toString("base64");
    this.#key = key;
    const fields: Record<string, string> = {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": key,
    };
    if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const value = String(headers[name]);
        if (!HTTP_TOKEN.test(name) || /[\r\n\0]/.test(value)) {
          throw new TypeError(`invalid header ${JSON.stringify(name)}`);
        }
        fields[name] = value;
      }
    }
    if (agent !== undefined && agent !== false) {
      this.#requestUpgrade(target, host, isTls, fields, {
        agent: agent as Agent,
        ...(tls as ConnectionOptions),
      });
      return;
    }
    let head = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n`;
    for (const name of Object.keys(fields)) head += `${name}: ${fields[name]}\r\n`;
    head += "\r\n";
    const port = target.port === "" ? (isTls ? 443 : 80) : Number(target.port);
    const socket = isTls
      ? tlsConnect({
          host,
          port,
          servername: isIP(host) === 0 ? host : undefined,
          ...(tls as ConnectionOptions),
        })
      : tcpConnect({ host, port, onread: { buffer: READ_BUFFER, callback: this.#onRead } });
    socket.write(head); // written once connected
    this.#attach(socket, isTls);
  }

  /** The TCP or TLS socket: only once open. */
  get socket(): Socket {
    return this.#socket!;
  }

  /** Watches `socket`, the connection from now on, and reads it through 'data' if `isStream`. */
  #attach(socket: Socket, isStream: boolean): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    if (isStream) socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    socket.on("error", (err) => this.#fail(err));
    socket.on("end", () => socket.end());
    socket.on("close", () => this.#closed());
  }

  /**
   * The handshake through an agent: an HTTP request whose `upgrade` event hands over the
   * connection once the server answered 101 (any other answer fails the connection).
   */
  #requestUpgrade(
    target: URL,
    host: string,
    isTls: boolean,
    headers: Record<string, string>,
    options: { agent: Agent } & ConnectionOptions,
  ): void {
    const request = (isTls ? httpsRequest : httpRequest)({
      ...options,
      protocol: isTls ? "https:" : "http:",
      hostname: host,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      headers,
    });
    this.#request = request;
    request.on("error", (err) => this.#fail(err));
    request.on("response", (res: IncomingMessage) => {
      res.resume();
      this.#protocolError(`Unexpected server response: ${res.statusCode}`);
    });
    request.on("upgrade", (res: IncomingMessage, socket: Socket, head: Buffer) => {
      this.#request = null;
      if (this.#state !== CONNECTING) {
        socket.destroy();
        return;
      }
      socket.setTimeout(0); // an agent's idle timeout was for the HTTP request
      this.#attach(socket, true);
      const h = res.headers;
      const extension = ["sec-websocket-extensions", "sec-websocket-protocol"].find(
        (name) => h[name] !== undefined,
      );
      const isOpen = this.#accept(h["sec-websocket-accept"], h.upgrade, h.connection, extension);
      if (isOpen && head.length > 0) this.#receive(head);
    });
    request.end();
  }

  /** Sends one message as one frame; nothing unless open. */
  send(data: string | Uint8Array): void {
    if (this.#state !== OPEN) return;
    const frame = maskedFrame(typeof data === "string" ? OP_TEXT : OP_BINARY, data);
    this.#batch.push(frame);
    this.#batchBytes += frame.length;
    if (this.#isBatching) return;
    this.#isBatching = true;
    if (!this.#isReading) queueMicrotask(this.#flush);
  }

  /** Starts the closing handshake; the server then closes the connection (30 s at most). */
  close(): void {
    if (this.#state === CONNECTING) {
      this.#state = CLOSED;
      this.#drop();
      return;
    }
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#sendControl(OP_CLOSE, new Uint8Array(0));
    this.#armCloseTimeout();
  }

  /** Destroys the socket if the server has not closed it within CLOSE_TIMEOUT_MS. */
  #armCloseTimeout(): void {
    if (this.#closeTimed) return;
    this.#closeTimed = true;
    const socket = this.#socket!;
    socket.setTimeout(CLOSE_TIMEOUT_MS, () => socket.destroy());
  }

  /** Reads `chunk`; what its messages make us send leaves in one write once it is read. */
  #receive(chunk: Buffer): void {
    this.#isReading = true;
    try {
      this.#read(chunk);
    } finally {
      this.#isReading = false;
      this.#flush();
    }
  }

  #read(chunk: Buffer): void {
    let buf = chunk;
    const frame = this.#frame;
    const pending = this.#pending;
    if (frame !== null) {
      const taken = Math.min(chunk.length, frame.length - this.#frameBytes);
      chunk.copy(frame, this.#frameBytes, 0, taken);
      this.#frameBytes += taken;
      if (this.#frameBytes < frame.length) return;
      this.#frame = null;
      this.#frameBytes = 0;
      // The frame is whole: read it, then what this chunk brought after it.
      if (this.#readFrame(frame, 0) < 0 || taken === chunk.length) return;
      buf = chunk.subarray(taken);
    } else if (pending !== null) {
      // A response head or a frame header, short: joined with the new bytes and read again.
      pending.push(owned(chunk));
      this.#pendingBytes += chunk.length;
      buf = Buffer.concat(pending, this.#pendingBytes);
      this.#pending = null;
      this.#pendingBytes = 0;
    }
    let offset = 0;
    if (this.#state === CONNECTING) {
      offset = this.#readHead(buf);
      if (offset < 0) return;
      if (offset === 0) {
        this.#keep(buf, 0);
        return;
      }
    }
    while (offset < buf.length && this.#state !== CLOSED) {
      const used = this.#readFrame(buf, offset);
      if (used < 0) return;
      if (used === 0) {
        this.#keep(buf, offset);
        return;
      }
      offset += used;
    }
  }

  /** Keeps `buf` from `offset` on until more bytes arrive. */
  #keep(buf: Buffer, offset: number): void {
    const have = buf.length - offset;
    const need = this.#need;
    if (need > have) {
      // A frame of known length gets its buffer at once, and each later read is copied into
      // it: one copy of a large message, instead of one out of the shared read buffer and
      // another to join the pieces. Bounded by MAX_PAYLOAD (checked before #need is set);
      // the memory of a large buffer is only taken as its bytes are written.
      const frame = Buffer.allocUnsafe(need);
      buf.copy(frame, 0, offset);
      this.#frame = frame;
      this.#frameBytes = have;
      this.#need = 0;
      return;
    }
    this.#pending = [owned(buf.subarray(offset))];
    this.#pendingBytes = have;
  }

  /** Reads the handshake response: the bytes it took, 0 while incomplete, -1 if refused. */
  #readHead(buf: Buffer): number {
    const end = buf.indexOf("\r\n\r\n");
    if (end === -1) {
      return buf.length > MAX_HEAD ? this.#protocolError("handshake response too long") : 0;
    }
    const lines = buf.toString("latin1", 0, end).split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (status === null || status[1] !== "101") {
      return this.#protocolError(`Unexpected server response: ${status?.[1] ?? lines[0]}`);
    }
    let accept: string | undefined;
    let upgrade: string | undefined;
    let connection: string | undefined;
    let extension: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "sec-websocket-accept") accept = value;
      else if (name === "upgrade") upgrade = value;
      else if (name === "connection") connection = value;
      else if (name === "sec-websocket-extensions" || name === "sec-websocket-protocol") {
        extension ??= name;
      }
    }
    return this.#accept(accept, upgrade, connection, extension) ? end + 4 : -1;
  }

  /**
   * Checks the 101 response's headers (RFC 6455 §4.1): opens the connection and returns true,
   * or fails it. `extension` names an extension or protocol header, which we never ask for.
   */
  #accept(
    accept: string | undefined,
    upgrade: string | undefined,
    connection: string | undefined,
    extension: string | undefined,
  ): boolean {
    if (extension !== undefined) {
      this.#protocolError(`Server sent a ${extension} header although none was asked for`);
      return false;
    }
    const hasUpgrade =
      connection
        ?.toLowerCase()
        .split(/\s*,\s*/)
        .includes("upgrade") === true;
    if (upgrade?.toLowerCase() !== "websocket" || !hasUpgrade) {
      this.#protocolError("Invalid Upgrade or Connection header");
      return false;
    }
    const expected = createHash("sha1")
      .update(this.#key + WEBSOCKET_GUID)
      .digest("base64");
    if (accept !== expected) {
      this.#protocolError("Invalid Sec-WebSocket-Accept header");
      return false;
    }
    this.#key = null;
    this.#state = OPEN;
    this.#listener.open();
    return this.#state === OPEN || this.#state === CLOSING;
  }

  /** Reads the frame at `offset`: the bytes it took, 0 when incomplete, -1 when reading ended. */
  #readFrame(buf: Buffer, offset: number): number {
    const head = HEAD;
    if (!readFrameHead(buf, offset, head)) return 0;
    const isFinal = head.fin;
    const opcode = head.opcode;
    const length = head.length;
    const header = head.size;
    if (head.rsv !== 0) return this.#protocolError("RSV bits must be clear");
    if (head.masked) return this.#protocolError("a server frame must not be masked");
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG || !isFinal || length > 125) {
        return this.#protocolError("invalid control frame");
      }
    } else if (opcode === OP_CONTINUATION ? this.#fragments === null : opcode > OP_BINARY) {
      return this.#protocolError(`unexpected opcode ${opcode}`);
    } else if (opcode !== OP_CONTINUATION && this.#fragments !== null) {
      return this.#protocolError("new message inside a fragmented one");
    } else if (this.#fragmentBytes + length > MAX_PAYLOAD) {
      return this.#protocolError("message too large");
    }
    if (buf.length - offset < header + length) {
      this.#need = header + length;
      return 0;
    }
    const start = offset + header;
    const payload = buf.subarray(start, start + length);
    const used = header + length;
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
        if (isFinal) return this.#message(payload, opcode === OP_BINARY) ? used : -1;
        this.#fragments = [owned(payload)];
        this.#fragmentBytes = length;
        this.#fragmentIsBinary = opcode === OP_BINARY;
        return used;
      case OP_CONTINUATION: {
        const fragments = this.#fragments!;
        fragments.push(owned(payload));
        this.#fragmentBytes += length;
        if (!isFinal) return used;
        this.#fragments = null;
        const message = Buffer.concat(fragments, this.#fragmentBytes);
        this.#fragmentBytes = 0;
        return this.#message(message, this.#fragmentIsBinary) ? used : -1;
      }
      case OP_PING:
        if (this.#state === OPEN) this.#sendControl(OP_PONG, payload);
        return used;
      case OP_PONG:
        return used;
      default:
        return this.#closeFrame(payload);
    }
  }

  #message(payload: Buffer, isBinary: boolean): boolean {
    if (isBinary) {
      const bytes = owned(payload);
      this.#listener.message(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      return true;
    }
    if (!isUtf8(payload)) {
      this.#protocolError("invalid UTF-8 in a text message");
      return false;
    }
    this.#listener.message(payload.toString()); // UTF-8, without the encoding's lookup
    return true;
  }

  /** The server's close frame: answer it (echoing its status); the server closes the TCP. */
  #closeFrame(payload: Buffer): number {
    if (payload.length === 1) return this.#protocolError("invalid close frame");
    if (payload.length >= 2 && !isValidCloseCode(payload.readUInt16BE(0))) {
      return this.#protocolError("invalid close status");
    }
    if (this.#state === OPEN) {
      this.#state = CLOSING;
      this.#sendControl(OP_CLOSE, payload.subarray(0, 2));
    }
    this.#armCloseTimeout();
    this.#socket!.end();
    return -1;
  }

  /** Writes a control frame; only once open (the socket is set). */
  #sendControl(opcode: number, payload: Uint8Array): void {
    const socket = this.#socket!;
    if (this.#closeSent || socket.destroyed) return;
    if (opcode === OP_CLOSE) this.#closeSent = true;
    this.#flush(); // the data frames sent before it go first
    socket.write(maskedFrame(opcode, payload));
  }

  #protocolError(message: string): -1 {
    const err = new Error(message);
    if (this.#state === OPEN) this.#sendControl(OP_CLOSE, closePayload(1002, ""));
    this.#fail(err);
    return -1;
  }

  /** Fails the connection: reported with `err`, the socket destroyed. */
  #fail(err: Error): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#pending = null;
    this.#frame = null;
    this.#fragments = null;
    this.#drop();
    this.#listener.close(err);
  }

  /** Destroys the connection, or the agent's request while it has none yet. */
  #drop(): void {
    this.#request?.destroy();
    this.#request = null;
    const socket = this.#socket;
    if (socket === null) return;
    socket.destroy();
  }

  #closed(): void {
    if (this.#state === CLOSED) return;
    const wasConnecting = this.#state === CONNECTING;
    this.#state = CLOSED;
    this.#pending = null;
    this.#frame = null;
    this.#fragments = null;
    this.#listener.close(
      wasConnecting ? new Error("connection closed before the handshake completed") : undefined,
    );
  }
}
