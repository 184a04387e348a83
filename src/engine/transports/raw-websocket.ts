/**
 * The engine's own server side of a WebSocket connection (RFC 6455), used with
 * `wsEngine: "builtin"` instead of the `ws` package's `WebSocket`: the upgrade response, the
 * reading of the client's frames, control frames and the closing handshake, straight on the
 * connection's socket. Frames to the client are built and written by the WebSocket
 * transport, as with `ws` (see websocket.ts); permessage-deflate is `ws`'s only.
 *
 * Why: per connection, `ws` keeps a `WebSocket`, a `Receiver` (a `Writable` stream with its
 * state and listeners), a `Sender` and their arrays, about 1.3 KB of an idle connection's
 * heap, and every message goes through the receiver's stream before it is read. Here a
 * connection is one small object, and a message is read in the socket's `data` listener.
 *
 * ```
 *   socket "data" ─► receive(chunk) ─► frames ─► text/binary ─► listener.receive(payload)
 *                                             └► ping ─► pong │ close ─► close reply, end
 *   protocol error ─► close frame with its status ─► listener.fail(err) ─► socket ended
 * ```
 */
import { Buffer, isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { type IncomingMessage, STATUS_CODES } from "node:http";
import { createRequire } from "node:module";
import { env } from "node:process";
import type { Duplex } from "node:stream";
import {
  applyMask,
  OP_BINARY as BINARY,
  OP_CLOSE as CLOSE,
  OP_CONTINUATION as CONTINUATION,
  closePayload,
  type FrameHead,
  HTTP_TOKEN,
  isValidCloseCode,
  loadNativeUnmask,
  newFrameHead,
  OP_PING as PING,
  OP_PONG as PONG,
  readFrameHead,
  OP_TEXT as TEXT,
  WEBSOCKET_GUID,
  writeFrameHeader,
} from "../../protocol/websocket-frame.js";
import { PROCESS_FLUSH_QUEUE } from "../flush-queue.js";
import { upgradeHeaders } from "../session-headers.js";

/** What a {@link RawWebSocket} reports to: the WebSocket transport. */
export interface RawWebSocketListener {
  /** A complete message: text (valid UTF-8) or binary. */
  receive(data: Buffer, isBinary: boolean): void;
  /** A protocol error; a close frame with its status was sent and the socket is ending. */
  fail(err: Error): void;
  /** The connection is gone. */
  closed(): void;
}

/** An accepted upgrade, or why it is refused. */
export type UpgradeCheck =
  | { readonly ok: true; readonly accept: string; readonly protocol: string | undefined }
  | {
      readonly ok: false;
      readonly status: number;
      readonly message: string;
      readonly headers: string;
    };

const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Checks a WebSocket upgrade request (RFC 6455 §4.2.1) as `ws` does: a GET, `Upgrade:
 * websocket`, a well-formed key, version 13 (or 8). The first subprotocol offered, if any,
 * is accepted, as `ws` does without a `handleProtocols`.
 */
export function checkUpgrade(req: IncomingMessage): UpgradeCheck {
  if (req.method !== "GET") return refusal(405, "Invalid HTTP method");
  const headers = upgradeHeaders(req);
  const upgrade = headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== "websocket") {
    return refusal(400, "Invalid Upgrade header");
  }
  const key = headers.key;
  if (key === undefined || !KEY.test(key)) {
    return refusal(400, "Missing or invalid Sec-WebSocket-Key header");
  }
  const version = headers.version;
  if (version !== "13" && version !== "8") {
    return refusal(
      400,
      "Missing or invalid Sec-WebSocket-Version header",
      "Sec-WebSocket-Version: 13, 8\r\n",
    );
  }
  let protocol: string | undefined;
  const offered = headers.protocol;
  if (offered !== undefined) {
    const protocols = offered.split(",");
    for (let i = 0; i < protocols.length; i++) {
      const name = protocols[i]!.trim();
      if (!HTTP_TOKEN.test(name)) return refusal(400, "Invalid Sec-WebSocket-Protocol header");
      protocol ??= name;
    }
  }
  const accept = createHash("sha1")
    .update(key + WEBSOCKET_GUID)
    .digest("base64");
  return { ok: true, accept, protocol };
}

function refusal(status: number, message: string, headers = ""): UpgradeCheck {
  return { ok: false, status, message, headers };
}

/** The `101 Switching Protocols` response, with `extraHeaders` (each ending in CRLF). */
export function upgradeResponse(
  accept: string,
  protocol: string | undefined,
  extraHeaders = "",
): string {
  const protocolHeader = protocol === undefined ? "" : `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  return (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept}\r\n${protocolHeader}${extraHeaders}\r\n`
  );
}

/** Answers a refused upgrade with its HTTP error and closes the connection, as `ws` does. */
export function refuseUpgrade(socket: Duplex, check: UpgradeCheck & { ok: false }): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", destroyOnFinish);
  socket.end(
    `HTTP/1.1 ${check.status} ${STATUS_CODES[check.status]}\r\nConnection: close\r\n` +
      `Content-Type: text/html\r\nContent-Length: ${Buffer.byteLength(check.message)}\r\n` +
      `${check.headers}\r\n${check.message}`,
  );
}

function destroyOnFinish(this: Duplex): void {
  this.destroy();
}

// Bits of RawWebSocket's state.
/** A close frame was written. */
const CLOSE_SENT = 1;
/** The client's close frame was read: nothing after it is. */
const CLOSE_RECEIVED = 2;
/** A protocol error or terminate(): nothing more is read or written. */
const STOPPED = 4;
/** The listener was told the connection is gone. */
const REPORTED = 8;
/** Our side is ended. */
const ENDED = 16;
/** The connection is destroyed if the client has not closed it within CLOSE_TIMEOUT_MS. */
const TIMED = 32;

/** How long a closing connection waits for the client's close frame (as `ws`). */
const CLOSE_TIMEOUT_MS = 30_000;

const EMPTY = Buffer.alloc(0);

// The optional native `bufferutil`, as `ws` loads it: large payloads unmasked 4-6x faster.
// WS_NO_BUFFER_UTIL turns it off here too.
const NATIVE_UNMASK = loadNativeUnmask(createRequire(import.meta.url), env.WS_NO_BUFFER_UTIL);

// hot path: the head of the frame being read, one for every connection (reading is synchronous).
const HEAD = newFrameHead();

/**
 * What an incomplete read keeps: the bytes of a frame not complete yet, and the fragments
 * of a message not complete yet. Made only while one of them is.
 */
interface PartialRead {
  /**
   * Bytes of the incomplete frame (with what followed it in the same chunks): `pieces`, then
   * the first `used` bytes of `buffer`. Once the frame's size is known, a chunk of at least
   * MIN_PIECE bytes is kept as it is, a piece (no copy: chunks are ours, and unmasked in
   * place anyway), unless it is a small part of a larger buffer. Other bytes, and those
   * before the frame's header is complete, are copied into `buffer`, grown by doubling. What
   * is kept is never past twice what arrived (a client announcing a large frame and sending
   * nothing more makes us allocate nothing for it), and the frame is joined once, complete.
   * (With the doubling alone, a 1 MB frame's bytes were copied about twice, into buffers
   * whose fresh pages then faulted in.)
   */
  pieces: Buffer[] | null;
  piecesBytes: number;
  buffer: Buffer | null;
  used: number;
  /** How many bytes the incomplete frame needs in all, once its header is known; else 0. */
  need: number;
  /** Payloads of the fragmented message so far; null when none is in progress. */
  fragments: Buffer[] | null;
  fragmentBytes: number;
  /** Whether the fragmented message is binary. */
  isBinary: boolean;
}

/** The socket property that leads from a connection's socket to its RawWebSocket. */
const kRawWebSocket = Symbol("switchboard.rawWebSocket");

interface RawSocket extends Duplex {
  [kRawWebSocket]?: RawWebSocket;
  setTimeout?(ms: number): unknown;
  setNoDelay?(noDelay: boolean): unknown;
}

/**
 * The server side of one WebSocket connection on `socket`, after the upgrade response.
 * Memory per idle connection: five fields; the socket's listeners are module-level
 * functions that find this object through one property of the socket (as `ws` does).
 */
export class RawWebSocket {
  /** Who gets the messages; set by the transport. */
  listener: RawWebSocketListener | null = null;
  readonly #socket: RawSocket;
  readonly #maxPayload: number;
  #state = 0;
  #partial: PartialRead | null = null;

  /**
   * Takes over `socket` (after the HTTP upgrade). Messages larger than `maxPayload` bytes
   * are refused with status 1009. Bytes that came with the upgrade request are given to
   * {@link receive} by the caller once the listener is set.
   */
  constructor(socket: Duplex, maxPayload: number) {
    const raw = socket as RawSocket;
    this.#socket = raw;
    this.#maxPayload = maxPayload;
    raw[kRawWebSocket] = this;
    raw.setTimeout?.(0);
    raw.setNoDelay?.(true);
    raw.on("data", onSocketData);
    raw.on("end", onSocketEnd);
    raw.on("close", onSocketClose);
    raw.on("error", onSocketError);
  }

  /** The connection's socket. */
  get socket(): Duplex {
    return this.#socket;
  }

  /** Bytes written but not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  /** Always `""`: no extension is negotiated. */
  get extensions(): string {
    return "";
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with a close frame carrying `code` and
   * `reason` (none without a code). The connection ends once the client's close frame is
   * read, or after 30 s without it.
   */
  close(code?: number, reason = ""): void {
    const state = this.#state;
    if ((state & (CLOSE_SENT | STOPPED)) !== 0) return;
    this.#sendClose(code === undefined ? EMPTY : closePayload(code, reason));
    if ((state & CLOSE_RECEIVED) !== 0) this.#end();
    else this.#armCloseTimeout();
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    this.#state |= STOPPED;
    this.#partial = null;
    this.#socket.destroy();
  }

  /** Reads `chunk`, the next bytes from the client. @internal */
  receive(chunk: Buffer): void {
    if ((this.#state & (STOPPED | CLOSE_RECEIVED)) !== 0) return;
    let buf = chunk;
    const partial = this.#partial;
    if (partial !== null && partial.piecesBytes + partial.used > 0) {
      keep(partial, chunk);
      // A frame whose length is known waits for all its bytes.
      if (partial.piecesBytes + partial.used < partial.need) return;
      buf = takeKept(partial);
    }
    let offset = 0;
    while (offset < buf.length) {
      const used = this.#readFrame(buf, offset);
      if (used === 0) {
        // An incomplete frame: keep its bytes (a small rest is copied, not kept with the
        // whole chunk).
        keep(this.#partialRead(), buf.subarray(offset));
        return;
      }
      if (used < 0 || (this.#state & (STOPPED | CLOSE_RECEIVED)) !== 0) return;
      offset += used;
    }
    if (partial !== null && partial.fragments === null) this.#partial = null;
  }

  /** The client ended its side without a close frame: end ours (abnormal closure). @internal */
  ended(): void {
    this.#end();
  }

  /** The socket closed: reported once. @internal */
  socketClosed(): void {
    if ((this.#state & REPORTED) !== 0) return;
    this.#state |= REPORTED | STOPPED;
    this.#partial = null;
    const listener = this.listener;
    this.listener = null;
    listener?.closed();
  }

  /**
   * Reads the frame at `offset` of `buf`: the bytes it took, 0 when it is incomplete, -1
   * when it ended the reading (a protocol error or a close frame).
   */
  #readFrame(buf: Buffer, offset: number): number {
    const head = HEAD;
    if (!readFrameHead(buf, offset, head)) return 0;
    if (!this.#admitFrame(head)) return -1;
    const start = offset + head.size;
    const end = start + head.length;
    if (buf.length < end) {
      this.#partialRead().need = end - offset;
      return 0;
    }
    applyMask(buf, start - 4, start, end, NATIVE_UNMASK);
    return this.#takeFrame(buf.subarray(start, end), head.opcode, head.fin) ? end - offset : -1;
  }

  /**
   * Whether a frame with this head may be read (RFC 6455 §5.2, §5.4, §5.5 and `maxPayload`);
   * if not, fails the connection and returns false.
   */
  #admitFrame(head: FrameHead): boolean {
    const opcode = head.opcode;
    const length = head.length;
    if (head.rsv !== 0)
      return this.#fail(1002, "WS_ERR_UNEXPECTED_RSV_1", "RSV bits must be clear");
    if (!head.masked) return this.#fail(1002, "WS_ERR_EXPECTED_MASK", "MASK must be set");
    if (length === Number.POSITIVE_INFINITY) {
      return this.#fail(1009, "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", "payload too long");
    }
    if (opcode >= CLOSE) {
      if (opcode > PONG)
        return this.#fail(1002, "WS_ERR_INVALID_OPCODE", `invalid opcode ${opcode}`);
      if (!head.fin)
        return this.#fail(1002, "WS_ERR_EXPECTED_FIN", "control frames must not be fragmented");
      if (length > 125) {
        return this.#fail(1002, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", "control frame too long");
      }
      return true;
    }
    const partial = this.#partial;
    const fragments = partial === null ? null : partial.fragments;
    if (opcode === CONTINUATION) {
      if (fragments === null) {
        return this.#fail(1002, "WS_ERR_INVALID_OPCODE", "continuation frame without a message");
      }
    } else if (opcode !== TEXT && opcode !== BINARY) {
      return this.#fail(1002, "WS_ERR_INVALID_OPCODE", `invalid opcode ${opcode}`);
    } else if (fragments !== null) {
      return this.#fail(1002, "WS_ERR_INVALID_OPCODE", "new message inside a fragmented one");
    }
    const sofar = partial === null ? 0 : partial.fragmentBytes;
    if (sofar + length > this.#maxPayload) {
      return this.#fail(1009, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", "Max payload size exceeded");
    }
    // Memory: each fragment kept costs an object whatever its size; tiny ones are bounded.
    if (fragments !== null && fragments.length >= maxFragments(this.#maxPayload)) {
      return this.#fail(1009, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", "too many fragments");
    }
    return true;
  }

  /**
   * Takes the unmasked payload of an admitted frame: a message, a fragment or a control
   * frame. False when it ended the reading.
   */
  #takeFrame(payload: Buffer, opcode: number, isFinal: boolean): boolean {
    if (opcode === TEXT || opcode === BINARY) {
      if (isFinal) return this.#message(payload, opcode === BINARY);
      const read = this.#partialRead();
      read.fragments = [payload];
      read.fragmentBytes = payload.length;
      read.isBinary = opcode === BINARY;
      return true;
    }
    if (opcode === CONTINUATION) {
      const read = this.#partial!;
      read.fragments!.push(payload);
      read.fragmentBytes += payload.length;
      if (!isFinal) return true;
      const message = Buffer.concat(read.fragments!, read.fragmentBytes);
      read.fragments = null;
      read.fragmentBytes = 0;
      return this.#message(message, read.isBinary);
    }
    if (opcode === PING) {
      if ((this.#state & CLOSE_SENT) === 0) this.#write(controlFrame(PONG, payload));
      return true;
    }
    if (opcode === PONG) return true;
    return this.#closeFrame(payload);
  }

  /** A complete message; false when it ended the reading (text that is not UTF-8). */
  #message(payload: Buffer, isBinary: boolean): boolean {
    if (!isBinary && !isUtf8(payload)) {
      return this.#fail(1007, "WS_ERR_INVALID_UTF8", "invalid UTF-8 sequence");
    }
    this.listener?.receive(payload, isBinary);
    return true;
  }

  /**
   * The client's close frame (RFC 6455 §5.5.1): echo its status, then end the connection.
   * Returns false: the reading ends either way.
   */
  #closeFrame(payload: Buffer): false {
    if (payload.length === 1) {
      return this.#fail(1002, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", "invalid close frame");
    }
    if (payload.length >= 2) {
      const code = payload.readUInt16BE(0);
      if (!isValidCloseCode(code)) {
        return this.#fail(1002, "WS_ERR_INVALID_CLOSE_CODE", `invalid status code ${code}`);
      }
      if (!isUtf8(payload.subarray(2))) {
        return this.#fail(1007, "WS_ERR_INVALID_UTF8", "invalid UTF-8 sequence");
      }
    }
    this.#state |= CLOSE_RECEIVED;
    this.#partial = null;
    if ((this.#state & CLOSE_SENT) === 0) this.#sendClose(payload);
    this.#end();
    return false;
  }

  /** A protocol error: close with `status`, stop reading, tell the listener. Returns false. */
  #fail(status: number, code: string, message: string): false {
    this.#partial = null;
    if ((this.#state & CLOSE_SENT) === 0) this.#sendClose(closePayload(status, ""));
    this.#state |= STOPPED;
    this.#end();
    const err = Object.assign(new RangeError(`Invalid WebSocket frame: ${message}`), {
      code,
      closeCode: status,
    });
    this.listener?.fail(err);
    return false;
  }

  #sendClose(payload: Uint8Array): void {
    this.#state |= CLOSE_SENT;
    this.#write(controlFrame(CLOSE, payload));
  }

  #write(frame: Buffer): void {
    const socket = this.#socket;
    if (socket.writable) socket.write(frame);
  }

  /** Ends our side; the connection is destroyed if the client does not end its own in time. */
  #end(): void {
    if ((this.#state & ENDED) !== 0) return;
    this.#armCloseTimeout();
    this.#state |= ENDED;
    this.#socket.end();
  }

  #armCloseTimeout(): void {
    if ((this.#state & TIMED) !== 0) return;
    this.#state |= TIMED;
    // An absolute deadline, as ws's: an idle timeout would let a client that keeps sending
    // a byte now and then hold a closing connection open for ever.
    const socket = this.#socket;
    const timer = setTimeout(destroySocket, CLOSE_TIMEOUT_MS, socket);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }

  #partialRead(): PartialRead {
    this.#partial ??= {
      pieces: null,
      piecesBytes: 0,
      buffer: null,
      used: 0,
      need: 0,
      fragments: null,
      fragmentBytes: 0,
      isBinary: false,
    };
    return this.#partial;
  }
}

/** Smallest chunk of a frame of known size kept as it is rather than copied (see PartialRead). */
const MIN_PIECE = 4096;

/**
 * Adds `chunk` to what `read` keeps of an incomplete frame: as a piece if it is large and at
 * least half of the memory it holds on to (a view of a larger buffer would keep all of it).
 */
function keep(read: PartialRead, chunk: Buffer): void {
  const length = chunk.length;
  if (read.need === 0 || length < MIN_PIECE || 2 * length < chunk.buffer.byteLength) {
    append(read, chunk);
    return;
  }
  read.pieces ??= [];
  const pieces = read.pieces;
  if (read.used > 0) {
    pieces.push(read.buffer!.subarray(0, read.used));
    read.piecesBytes += read.used;
    read.buffer = null;
    read.used = 0;
  }
  pieces.push(chunk);
  read.piecesBytes += length;
}

/** Copies `chunk` into `read`'s buffer, grown by doubling. */
function append(read: PartialRead, chunk: Buffer): void {
  const used = read.used + chunk.length;
  let buffer = read.buffer;
  if (buffer === null || used > buffer.length) {
    const doubled = buffer === null ? Math.max(2 * used, 256) : 2 * buffer.length;
    const grown = Buffer.allocUnsafe(grownSize(read, used, doubled));
    buffer?.copy(grown, 0, 0, read.used);
    buffer = grown;
    read.buffer = grown;
  }
  chunk.copy(buffer, read.used);
  read.used = used;
}

/**
 * The size to grow `read`'s buffer to for `used` bytes: `doubled`, but no more than the frame
 * needs beyond its pieces once its header is known (a 1 MB frame then ends in a buffer of its
 * size, not 2 MB).
 */
function grownSize(read: PartialRead, used: number, doubled: number): number {
  const rest = read.need - read.piecesBytes;
  return Math.max(used, read.need > 0 ? Math.min(doubled, rest) : doubled);
}

/** Everything `read` kept, joined, and `read` emptied of it. */
function takeKept(read: PartialRead): Buffer {
  let kept = read.used > 0 ? read.buffer!.subarray(0, read.used) : EMPTY;
  const pieces = read.pieces;
  if (pieces !== null) {
    if (read.used > 0) pieces.push(kept);
    kept = Buffer.concat(pieces, read.piecesBytes + read.used);
  }
  read.pieces = null;
  read.piecesBytes = 0;
  read.buffer = null;
  read.used = 0;
  read.need = 0;
  return kept;
}

/** Most fragments one message may come in: 1,024, or one per 64 bytes of the size limit. */
function maxFragments(maxPayload: number): number {
  return Math.max(1024, Math.floor(maxPayload / 64));
}

/** A control frame from the server (unmasked, FIN set, at most 125 bytes of payload). */
function controlFrame(opcode: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(2 + payload.length);
  writeFrameHeader(frame, opcode, payload.length, false);
  frame.set(payload, 2);
  return frame;
}

// hot path: module-level socket listeners, `this` being the socket (no closure per connection).
function onSocketData(this: RawSocket, chunk: Buffer): void {
  const ws = this[kRawWebSocket];
  if (ws === undefined) return;
  // The answers to what this chunk holds are written when it is read, not in a tick.
  PROCESS_FLUSH_QUEUE.hold();
  try {
    ws.receive(chunk);
  } finally {
    PROCESS_FLUSH_QUEUE.release();
  }
}

function onSocketEnd(this: RawSocket): void {
  this[kRawWebSocket]?.ended();
}

function onSocketClose(this: RawSocket): void {
  this[kRawWebSocket]?.socketClosed();
}

function onSocketError(this: RawSocket): void {
  // A reset or a failed write: the connection is gone ("close" follows).
  this.destroy();
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}
