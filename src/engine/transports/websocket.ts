/**
 * The WebSocket transport (engine.io-protocol v4 §websocket): one Engine.IO packet per
 * frame, text packets as text frames, binary messages as binary frames without a prefix.
 * Reading the client's frames, control frames and size limits are the engine's own
 * {@link RawWebSocket} (`wsEngine: "builtin"`, the default) or the `ws` package's
 * `WebSocket` (`wsEngine: "ws"`, and always with permessage-deflate).
 *
 * Writing: without permessage-deflate, frames are built here (with the frame heads of
 * src/protocol/websocket-frame.ts) and written straight to the connection's socket,
 * coalesced per event-loop turn (see {@link FlushQueue}): one `write()` per turn however
 * many packets were sent, and a broadcast's frame is built once for every connection
 * ({@link encodeWebSocketFrame}). With permessage-deflate, `ws` compresses and writes each
 * message itself.
 *
 * ```
 *   sendMessage / sendPreEncoded / send ──► frames queued ──end of turn──► socket.write(all)
 *                                                          │ write() returned false
 *                                                          └──► "drain" from the socket ──► onDrain
 * ```
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type * as Ws from "ws";
import type { WebSocket, RawData as WsRawData } from "ws";
import { ErrorCode, ProtocolError, TransportError } from "../../errors.js";
import { decodePacket, encodePacket, type RawData } from "../../protocol/engine-packet.js";
import {
  frameHeaderSize,
  OP_BINARY,
  OP_TEXT,
  writeFrameHeader,
} from "../../protocol/websocket-frame.js";
import { createDebug } from "../debug.js";
import { type FlushQueue, PROCESS_FLUSH_QUEUE } from "../flush-queue.js";
import { RawWebSocket } from "./raw-websocket.js";
import {
  IGNORING_LISTENER,
  type OutgoingPacket,
  type PreEncodedFrame,
  type Transport,
  type TransportCloseReason,
  type TransportListener,
} from "./transport.js";

const debug = createDebug("switchboard:engine:websocket");

/** Frames up to this size are concatenated into one buffer; larger batches use writev. */
const CONCAT_LIMIT = 65_536;

const CHAR_MESSAGE = 0x34; // "4": engine.io-protocol v4 message packet

/** Any character a latin1 write would not send as its UTF-8 byte. */
const NON_ASCII = /[\u0080-\uffff]/;

let wsModule: typeof Ws | undefined;

/**
 * The `ws` package, loaded the first time the engine needs it: for permessage-deflate,
 * `wsEngine: "ws"` or the bare-WebSocket mode. A server on the builtin engine never loads
 * it (about 1 MB of heap, and its modules' compile time, at startup).
 */
export function loadWs(): typeof Ws {
  wsModule ??= createRequire(import.meta.url)("ws") as typeof Ws;
  return wsModule;
}

/**
 * A `ws` WebSocket made by the engine's WebSocket server (ws's `WebSocket` server option):
 * one extra field pointing at its transport, so that the transport's listeners are shared
 * module-level functions rather than closures per connection.
 */
export interface EngineWebSocket extends WebSocket {
  /** The transport reading this WebSocket. @internal */
  transport: WebSocketTransport | null;
}

/** The class of {@link EngineWebSocket}, for ws's server. */
export type EngineWebSocketClass = typeof WebSocket &
  (new (
    ...args: ConstructorParameters<typeof WebSocket>
  ) => EngineWebSocket);

let engineWebSocket: EngineWebSocketClass | undefined;

/** The {@link EngineWebSocket} class, defined (and `ws` loaded) on the first call. */
export function engineWebSocketClass(): EngineWebSocketClass {
  engineWebSocket ??= class extends loadWs().WebSocket {
    transport: WebSocketTransport | null = null;
  } as EngineWebSocketClass;
  return engineWebSocket;
}

/**
 * A complete text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked from a server) of
 * `prefix` (one ASCII character code, or -1 for none) followed by `text`, in one buffer.
 * hot path: one allocation and one UTF-8 encoding per message, where building it with
 * `Sender.frame` takes a payload buffer, a header buffer and a copy to join them. The bytes
 * are exactly `Sender.frame`'s (a property test compares them).
 */
export function frameText(prefix: number, text: string): Buffer {
  const prefixLength = prefix === -1 ? 0 : 1;
  const length = prefixLength + Buffer.byteLength(text, "utf8");
  const frame = Buffer.allocUnsafe(frameHeaderSize(length) + length);
  const header = writeFrameHeader(frame, OP_TEXT, length, false);
  if (prefixLength === 1) frame[header] = prefix;
  frame.write(text, header + prefixLength, "utf8");
  return frame;
}

/**
 * A binary frame's header and payload (RFC 6455 §5.2: FIN, opcode 2, unmasked), the payload
 * not copied: the bytes of `Sender.frame`, whose pieces they are.
 */
function binaryFramePieces(data: Uint8Array): Buffer[] {
  const payload = toNodeBuffer(data);
  const header = Buffer.allocUnsafe(frameHeaderSize(payload.length));
  writeFrameHeader(header, OP_BINARY, payload.length, false);
  return [header, payload];
}

/**
 * Encodes one Engine.IO `message` packet as a complete WebSocket frame, once, for every
 * connection of a broadcast (text data gets the `4` prefix; binary data is sent as it is).
 */
export function encodeWebSocketFrame(data: RawData): PreEncodedFrame {
  if (typeof data === "string") return { bytes: frameText(CHAR_MESSAGE, data) };
  return { bytes: Buffer.concat(binaryFramePieces(data)) };
}

/** What `ws` keeps of the connection it was handed (not in its type declarations). */
interface WsInternals {
  readonly _socket: Duplex | null;
  readonly _receiver?: { _buffers?: unknown; _bufferedBytes?: unknown };
}

/**
 * Lets go of the array `ws`'s receiver passes chunks through, when it holds nothing. Memory
 * per idle connection: the first chunk grows it to 17 slots (152 bytes), kept for the life
 * of the connection although it is empty between chunks; the next chunk makes a new one.
 * Called once a message and a pong were decoded, inside the receiver's loop: with no bytes
 * buffered, that loop only checks the byte count before it stops.
 */
function releaseReadBuffer(ws: WebSocket | RawWebSocket): void {
  const receiver = (ws as unknown as WsInternals)._receiver;
  const buffers = receiver?._buffers;
  if (Array.isArray(buffers) && buffers.length === 0 && receiver!._bufferedBytes === 0) {
    receiver!._buffers = [];
  }
}

/** The connection under `ws` (set once at the upgrade, never unset). */
function socketOf(ws: WebSocket | RawWebSocket): Duplex {
  return ws instanceof RawWebSocket ? ws.socket : (ws as unknown as WsInternals)._socket!;
}

// Bits of WebSocketTransport's state.
/** Closed, terminated or gone: nothing more is written or reported. */
const CLOSED = 1;
/** The socket's buffer was full at the last write; waiting for its "drain". */
const BACKED_UP = 2;
/** Frames are built here and written to the socket directly (no permessage-deflate). */
const DIRECT = 4;
/** A message was received, and the read buffer let go after it (see releaseReadBuffer). */
const RECEIVED = 8;

/**
 * What is rarely queued in a turn, kept apart so that a transport without it holds one
 * null field: which frames are volatile (parallel to a list of frames, from the first
 * volatile one on), and the write callbacks.
 */
interface TurnExtras {
  volatile: boolean[] | null;
  callbacks: (() => void)[] | null;
}

/**
 * A {@link Transport} over one `ws` WebSocket.
 *
 * Memory per idle connection: six fields. The connection's socket is reached through `ws`,
 * the write-coalescing queue is the process's ({@link PROCESS_FLUSH_QUEUE}), the flags share
 * one small integer, and volatile flags and write callbacks live in an object made only in a
 * turn that has them.
 */
export class WebSocketTransport implements Transport {
  readonly #ws: WebSocket | RawWebSocket;
  #listener: TransportListener = IGNORING_LISTENER;
  /** {@link CLOSED}, {@link BACKED_UP}, {@link DIRECT} and {@link RECEIVED} bits. */
  #state = 0;
  // Frames queued this turn: one frame's bytes, or a list. Allocated only while non-empty.
  // In the upgrade's turn, a string: the 101 response and the short ASCII text frames after
  // it, written as latin1 (see sendUpgradeResponse).
  #frames: Uint8Array | Uint8Array[] | string | null = null;
  #frameBytes = 0;
  #extras: TurnExtras | null = null;

  /**
   * Wraps an open WebSocket. `socket` is the connection `ws` was handed at the upgrade:
   * frames are written to it directly unless permessage-deflate was negotiated. Frames are
   * written at the end of the turn through {@link PROCESS_FLUSH_QUEUE}.
   */
  constructor(ws: WebSocket | EngineWebSocket | RawWebSocket, socket: Duplex | null) {
    this.#ws = ws;
    // Direct writes go to socketOf(ws): only when that is the connection we were given.
    const isDirect = socket !== null && ws.extensions === "" && socketOf(ws) === socket;
    this.#state = isDirect ? DIRECT : 0;
    if (ws instanceof RawWebSocket) {
      ws.listener = this;
    } else if (engineWebSocket !== undefined && ws instanceof engineWebSocket) {
      (ws as EngineWebSocket).transport = this;
      ws.on("message", onWsMessage).on("error", onWsError).on("close", onWsClose);
    } else {
      ws.on("message", (data, isBinary) => this.receive(data, isBinary));
      ws.on("error", (err) => this.fail(err));
      ws.on("close", () => this.finish("transport close"));
    }
  }

  /** Always `"websocket"`. */
  get name(): "websocket" {
    return "websocket";
  }

  /** True while open and not backed up: earlier writes have reached the OS. */
  get writable(): boolean {
    return (this.#state & (CLOSED | BACKED_UP)) === 0 && this.#ws.bufferedAmount === 0;
  }

  /** Bytes queued this turn plus bytes `ws` and the socket hold back. */
  get bufferedAmount(): number {
    return this.#frameBytes + this.#ws.bufferedAmount;
  }

  /** Shared frames are possible unless permessage-deflate compresses per connection. */
  get frameEncoder(): ((data: RawData) => PreEncodedFrame) | null {
    return (this.#state & DIRECT) === 0 ? null : encodeWebSocketFrame;
  }

  /** @see Transport.setListener */
  setListener(listener: TransportListener): void {
    this.#listener = listener;
  }

  /** @see Transport.send */
  send(packets: readonly OutgoingPacket[]): void {
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i]!;
      const data = encodePacket(packet);
      if ((this.#state & DIRECT) === 0) {
        this.sendWithWs(data, packet.compress !== false, packet.callback);
        continue;
      }
      if (typeof data === "string") this.queueText(-1, data, packet.volatile === true);
      else this.queuePieces(binaryFramePieces(data), packet.volatile === true);
      if (packet.callback !== undefined) this.addCallback(packet.callback);
    }
  }

  /** @see Transport.sendMessage */
  sendMessage(data: RawData, compress: boolean, callback?: () => void): void {
    // hot path: one frame, no packet object, written at the end of the turn.
    if ((this.#state & DIRECT) === 0) {
      this.sendWithWs(typeof data === "string" ? `4${data}` : data, compress, callback);
      return;
    }
    if (typeof data === "string") this.queueText(CHAR_MESSAGE, data, false);
    else this.queuePieces(binaryFramePieces(data), false);
    if (callback !== undefined) this.addCallback(callback);
  }

  /**
   * Queues `response` (latin1 text), ahead of the frames sent after it in this turn: the
   * HTTP `101` response of the engine's own upgrade ({@link RawWebSocket}), so that it and
   * the first frames leave in one write. Until another kind of frame comes, the turn's
   * frames stay one string, written as latin1: a handshake's open packet and CONNECT answer
   * are short ASCII text, and a string write, like `ws`'s 101 response, allocates no
   * Buffer in JavaScript (V8 need not compile Node's Buffer functions for it on a fresh
   * server).
   */
  sendUpgradeResponse(response: string): void {
    if ((this.#state & (CLOSED | DIRECT)) !== DIRECT) return;
    if (this.#frames !== null) {
      this.queue(bytesOf(response), false);
      return;
    }
    this.#frames = response;
    this.#frameBytes += response.length;
    PROCESS_FLUSH_QUEUE.add(this);
  }

  /** @see Transport.sendPreEncoded */
  sendPreEncoded(frame: PreEncodedFrame, isVolatile = false): void {
    // hot path: the same bytes for every connection of a broadcast.
    this.queue(frame.bytes, isVolatile);
  }

  /** @see Transport.dropVolatile */
  dropVolatile(): number {
    const extras = this.#extras;
    const flags = extras === null ? null : extras.volatile;
    const frames = this.#frames;
    if (extras === null || flags === null || !Array.isArray(frames)) return 0;
    const kept: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      if (flags[i] === true) continue;
      kept.push(frames[i]!);
      bytes += frames[i]!.byteLength;
    }
    const dropped = frames.length - kept.length;
    this.#frames = kept.length === 0 ? null : kept;
    this.#frameBytes = bytes;
    extras.volatile = null;
    return dropped;
  }

  /** Writes the frames queued this turn in one `write()`. Called by the {@link FlushQueue}. */
  flush(): void {
    // (Frames are only queued in DIRECT mode: see queue().)
    const frames = this.#frames;
    if (frames === null) return;
    const bytes = this.#frameBytes;
    const extras = this.#extras;
    const callbacks = extras === null ? null : extras.callbacks;
    this.#frames = null;
    this.#frameBytes = 0;
    this.#extras = null;
    if ((this.#state & CLOSED) !== 0) return;
    const socket = socketOf(this.#ws);
    let isDrained: boolean;
    if (!Array.isArray(frames)) {
      isDrained = write(socket, frames, callbacks);
    } else if (bytes <= CONCAT_LIMIT) {
      isDrained = write(socket, Buffer.concat(frames, bytes), callbacks);
    } else {
      socket.cork();
      for (let i = 0; i < frames.length - 1; i++) socket.write(frames[i]!);
      isDrained = write(socket, frames[frames.length - 1]!, callbacks);
      socket.uncork();
    }
    if (isDrained) this.#listener.onDrain();
    else this.waitForDrain(socket);
  }

  /** @see Transport.close */
  close(onClosed?: () => void): void {
    if ((this.#state & CLOSED) !== 0) {
      onClosed?.();
      return;
    }
    this.flush(); // frames queued this turn go before the close frame
    this.#state |= CLOSED;
    this.#listener = IGNORING_LISTENER;
    this.#ws.close();
    onClosed?.();
  }

  /** @see Transport.terminate */
  terminate(): void {
    this.#frames = null;
    this.#frameBytes = 0;
    this.#extras = null;
    this.#state |= CLOSED;
    this.#listener = IGNORING_LISTENER;
    this.#ws.terminate();
  }

  /** @see Transport.discard */
  discard(): void {
    // Nothing to wait for: closing a WebSocket never depends on the peer's next request.
  }

  /** One message from `ws`. @internal */
  receive(data: WsRawData, isBinary: boolean): void {
    const state = this.#state;
    if ((state & CLOSED) !== 0) return;
    if ((state & RECEIVED) === 0) {
      // The first message (usually the CONNECT): the buffer it grew is not needed after it.
      this.#state = state | RECEIVED;
      releaseReadBuffer(this.#ws);
    }
    const bytes = toNodeBuffer(data);
    if (isBinary) {
      // binaryType is "nodebuffer" (the ws default), so data is one Buffer.
      this.#listener.onPacket({ type: "message", data: bytes });
      return;
    }
    if (bytes[0] === CHAR_MESSAGE) {
      // hot path: a message packet; decode its text after the type character only. No
      // encoding named: Node's toString then decodes UTF-8 without looking the name up.
      this.#listener.onPacket({ type: "message", data: bytes.toString(undefined, 1) });
      return;
    }
    const decoded = decodePacket(bytes.toString());
    if (!decoded.ok) {
      debug("parse error: %s", decoded.error.message);
      this.closeWith("parse error", decoded.error);
      return;
    }
    if (decoded.value.type === "close") {
      // engine.io-protocol v4: the client asks to close; same as it closing the socket.
      this.closeWith("transport close");
      return;
    }
    // An idle connection's one packet every pingInterval: its buffer is let go again.
    if (decoded.value.type === "pong") releaseReadBuffer(this.#ws);
    this.#listener.onPacket(decoded.value);
  }

  /** An error from `ws`. @internal */
  fail(err: Error): void {
    debug("ws error: %s", err.message);
    const isTooLarge = "code" in err && err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
    const error = isTooLarge
      ? new ProtocolError(ErrorCode.PAYLOAD_TOO_LARGE, "WebSocket message too large", {
          cause: err,
          closeCode: 1009,
        })
      : new TransportError(ErrorCode.TRANSPORT_ERROR, err.message, { cause: err });
    this.finish("transport error", error);
  }

  /** The WebSocket closed. @internal */
  closed(): void {
    this.finish("transport close");
  }

  // Memory per connection: helpers are `private` methods, not `#` ones (a class with `#`
  // methods stores a brand in each instance); the state stays in `#` fields.
  private queuePieces(pieces: Buffer[], isVolatile: boolean): void {
    this.queue(pieces[0]!, isVolatile);
    if (pieces.length === 2) this.queue(pieces[1]!, isVolatile);
  }

  /**
   * Queues a text frame of `prefix` (see {@link frameText}) and `text`: appended to the
   * upgrade turn's string while both are short ASCII and not volatile, else as bytes. (A
   * string turn is only ever open and direct: closing flushes or drops the turn's frames.)
   */
  private queueText(prefix: number, text: string, isVolatile: boolean): void {
    const frames = this.#frames;
    const length = text.length + (prefix === -1 ? 0 : 1);
    if (
      typeof frames !== "string" ||
      isVolatile ||
      frameHeaderSize(length) !== 2 ||
      NON_ASCII.test(text)
    ) {
      this.queue(frameText(prefix, text), isVolatile);
      return;
    }
    // The frame's two header bytes (FIN + text opcode, 7-bit length) as latin1 characters.
    const first = 0x80 | OP_TEXT;
    const head =
      prefix === -1
        ? String.fromCharCode(first, length)
        : String.fromCharCode(first, length, prefix);
    this.#frames = frames + head + text;
    this.#frameBytes += head.length + text.length;
  }

  private queue(bytes: Uint8Array, isVolatile: boolean): void {
    if ((this.#state & (CLOSED | DIRECT)) !== DIRECT) return;
    const frames = this.#frames;
    if (frames === null) {
      this.#frames = bytes;
      PROCESS_FLUSH_QUEUE.add(this);
    } else if (Array.isArray(frames)) {
      frames.push(bytes);
    } else {
      this.#frames = [bytesOf(frames), bytes];
    }
    this.#frameBytes += bytes.byteLength;
    if (isVolatile || (this.#extras !== null && this.#extras.volatile !== null)) {
      this.markVolatile(isVolatile);
    }
  }

  private addCallback(callback: () => void): void {
    const extras = this.turnExtras();
    if (extras.callbacks === null) extras.callbacks = [callback];
    else extras.callbacks.push(callback);
  }

  private turnExtras(): TurnExtras {
    if (this.#extras === null) this.#extras = { volatile: null, callbacks: null };
    return this.#extras;
  }

  /** Records whether the frame just queued is volatile, so dropVolatile() can find it. */
  private markVolatile(isVolatile: boolean): void {
    const frames = this.#frames;
    const count = Array.isArray(frames) ? frames.length : 1;
    if (!Array.isArray(frames)) this.#frames = frames === null ? null : [bytesOf(frames)];
    const extras = this.turnExtras();
    const flags = extras.volatile ?? [];
    while (flags.length < count - 1) flags.push(false);
    flags.push(isVolatile);
    extras.volatile = flags;
  }

  private sendWithWs(data: RawData, compress: boolean, callback: (() => void) | undefined): void {
    if ((this.#state & CLOSED) !== 0) return;
    // Only without DIRECT, which a RawWebSocket always is (it negotiates no extension).
    (this.#ws as WebSocket).send(data, { compress }, (err) => {
      if (err) {
        // A failed write means the socket is gone; "close" or "error" follows from ws.
        debug("write failed: %s", err.message);
        return;
      }
      callback?.();
      if ((this.#state & CLOSED) === 0 && this.#ws.bufferedAmount === 0) this.#listener.onDrain();
    });
  }

  private waitForDrain(socket: Duplex): void {
    if ((this.#state & BACKED_UP) !== 0) return;
    this.#state |= BACKED_UP;
    socket.once("drain", () => {
      this.#state &= ~BACKED_UP;
      if ((this.#state & CLOSED) === 0) this.#listener.onDrain();
    });
  }

  private closeWith(reason: TransportCloseReason, description?: Error): void {
    if ((this.#state & CLOSED) !== 0) return;
    this.#ws.close();
    this.finish(reason, description);
  }

  private finish(reason: TransportCloseReason, description?: Error): void {
    if ((this.#state & CLOSED) !== 0 && this.#listener === IGNORING_LISTENER) return;
    this.#state |= CLOSED;
    this.#frames = null;
    this.#frameBytes = 0;
    this.#extras = null;
    const listener = this.#listener;
    this.#listener = IGNORING_LISTENER;
    listener.onClose(reason, description);
  }
}

// hot path: module-level listeners shared by every EngineWebSocket (no closure per socket).
// ws calls them with `this` bound to the EngineWebSocket they were added to.
function onWsMessage(this: WebSocket, data: WsRawData, isBinary: boolean): void {
  (this as EngineWebSocket).transport?.receive(data, isBinary);
}

function onWsError(this: WebSocket, err: Error): void {
  (this as EngineWebSocket).transport?.fail(err);
}

function onWsClose(this: WebSocket): void {
  (this as EngineWebSocket).transport?.closed();
}

/** Writes `bytes` (a string: latin1) to `socket`, then runs `callbacks`. */
function write(
  socket: Duplex,
  bytes: Uint8Array | string,
  callbacks: (() => void)[] | null,
): boolean {
  const onWritten = callbacks === null ? undefined : afterWrite(callbacks);
  // hot path: a Buffer is written without an encoding, which Node would check per write.
  if (typeof bytes === "string") return socket.write(bytes, "latin1", onWritten);
  return onWritten === undefined ? socket.write(bytes) : socket.write(bytes, onWritten);
}

function afterWrite(callbacks: (() => void)[]): (err?: Error | null) => void {
  return (err) => {
    // A failed write means the socket is gone; "close" or "error" follows from ws.
    if (err) debug("write failed: %s", err.message);
    else for (const callback of callbacks) callback();
  };
}

/** A queued frame as bytes: the upgrade turn's string (latin1) is converted once more is queued. */
function bytesOf(frames: Uint8Array | string): Uint8Array {
  return typeof frames === "string" ? Buffer.from(frames, "latin1") : frames;
}

function toNodeBuffer(data: WsRawData | Uint8Array): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
