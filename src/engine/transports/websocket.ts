/**
 * The WebSocket transport (engine.io-protocol v4 §websocket): one Engine.IO packet per
 * frame, text packets as text frames, binary messages as binary frames without a prefix.
 * Receiving, framing (`Sender.frame`), permessage-deflate and size limits are the `ws`
 * package's.
 *
 * Writing: without permessage-deflate, frames are built here with `Sender.frame` and written
 * straight to the connection's socket, coalesced per event-loop turn (see {@link FlushQueue}):
 * one `write()` per turn however many packets were sent, and a broadcast's frame is built
 * once for every connection ({@link encodeWebSocketFrame}). With permessage-deflate, `ws`
 * compresses and writes each message itself.
 *
 * ```
 *   sendMessage / sendPreEncoded / send ──► frames queued ──end of turn──► socket.write(all)
 *                                                          │ write() returned false
 *                                                          └──► "drain" from the socket ──► onDrain
 * ```
 */
import type { Duplex } from "node:stream";
import * as wsModule from "ws";
import { WebSocket, type RawData as WsRawData } from "ws";
import { ErrorCode, ProtocolError, TransportError } from "../../errors.js";
import { decodePacket, encodePacket, type RawData } from "../../protocol/engine-packet.js";
import { createDebug } from "../debug.js";
import type { FlushQueue } from "../flush-queue.js";
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

/**
 * The `ws` WebSocket class the engine's WebSocket server creates (ws's `WebSocket` server
 * option): one extra field pointing at its transport, so that the transport's listeners are
 * shared module-level functions rather than closures per connection.
 */
export class EngineWebSocket extends WebSocket {
  /** The transport reading this WebSocket. @internal */
  transport: WebSocketTransport | null = null;
}

/** ws's frame options (RFC 6455 §5.2); server frames are never masked (§5.1). */
interface FrameOptions {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly mask: boolean;
  readonly readOnly: boolean;
}

/** `ws` exports its `Sender` (and its static `frame()`) without type declarations. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};

const BINARY_FRAME: FrameOptions = {
  fin: true,
  rsv1: false,
  opcode: 2,
  mask: false,
  readOnly: false,
};

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
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt16BE(0, 2);
    frame.writeUIntBE(length, 4, 6);
  }
  if (prefixLength === 1) frame[header] = prefix;
  frame.write(text, header + prefixLength, "utf8");
  return frame;
}

/** A binary frame's header and payload, as `ws` builds them (the payload is not copied). */
function binaryFramePieces(data: Uint8Array): Buffer[] {
  return Sender.frame(toNodeBuffer(data), BINARY_FRAME);
}

/**
 * Encodes one Engine.IO `message` packet as a complete WebSocket frame, once, for every
 * connection of a broadcast (text data gets the `4` prefix; binary data is sent as it is).
 */
export function encodeWebSocketFrame(data: RawData): PreEncodedFrame {
  if (typeof data === "string") return { bytes: frameText(CHAR_MESSAGE, data) };
  return { bytes: Buffer.concat(binaryFramePieces(data)) };
}

/** A {@link Transport} over one `ws` WebSocket. */
export class WebSocketTransport implements Transport {
  readonly #ws: WebSocket;
  /** The connection's socket, written to directly; null when `ws` must write (deflate). */
  readonly #socket: Duplex | null;
  readonly #flushQueue: FlushQueue;
  #listener: TransportListener = IGNORING_LISTENER;
  #isClosed = false;
  #isBackedUp = false;
  // Frames queued this turn: one frame's bytes, or a list. Allocated only while non-empty.
  #frames: Uint8Array | Uint8Array[] | null = null;
  #frameBytes = 0;
  // Parallel to a list in #frames, once a volatile frame is queued this turn.
  #volatile: boolean[] | null = null;
  #callbacks: (() => void)[] | null = null;

  /**
   * Wraps an open WebSocket. `socket` is the connection `ws` was handed at the upgrade:
   * frames are written to it directly unless permessage-deflate was negotiated.
   */
  constructor(ws: WebSocket | EngineWebSocket, socket: Duplex | null, flushQueue: FlushQueue) {
    this.#ws = ws;
    this.#socket = socket !== null && ws.extensions === "" ? socket : null;
    this.#flushQueue = flushQueue;
    if (ws instanceof EngineWebSocket) {
      ws.transport = this;
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
    return !this.#isClosed && !this.#isBackedUp && this.#ws.bufferedAmount === 0;
  }

  /** Bytes queued this turn plus bytes `ws` and the socket hold back. */
  get bufferedAmount(): number {
    return this.#frameBytes + this.#ws.bufferedAmount;
  }

  /** Shared frames are possible unless permessage-deflate compresses per connection. */
  get frameEncoder(): ((data: RawData) => PreEncodedFrame) | null {
    return this.#socket === null ? null : encodeWebSocketFrame;
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
      if (this.#socket === null) {
        this.sendWithWs(data, packet.compress !== false, packet.callback);
        continue;
      }
      if (typeof data === "string") this.queue(frameText(-1, data), packet.volatile === true);
      else this.queuePieces(binaryFramePieces(data), packet.volatile === true);
      if (packet.callback !== undefined) this.addCallback(packet.callback);
    }
  }

  /** @see Transport.sendMessage */
  sendMessage(data: RawData, compress: boolean, callback?: () => void): void {
    // hot path: one frame, no packet object, written at the end of the turn.
    if (this.#socket === null) {
      this.sendWithWs(typeof data === "string" ? `4${data}` : data, compress, callback);
      return;
    }
    if (typeof data === "string") this.queue(frameText(CHAR_MESSAGE, data), false);
    else this.queuePieces(binaryFramePieces(data), false);
    if (callback !== undefined) this.addCallback(callback);
  }

  /** @see Transport.sendPreEncoded */
  sendPreEncoded(frame: PreEncodedFrame, isVolatile = false): void {
    // hot path: the same bytes for every connection of a broadcast.
    this.queue(frame.bytes, isVolatile);
  }

  /** @see Transport.dropVolatile */
  dropVolatile(): number {
    const flags = this.#volatile;
    const frames = this.#frames;
    if (flags === null || !Array.isArray(frames)) return 0;
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
    this.#volatile = null;
    return dropped;
  }

  /** Writes the frames queued this turn in one `write()`. Called by the {@link FlushQueue}. */
  flush(): void {
    const frames = this.#frames;
    const socket = this.#socket;
    if (frames === null || socket === null) return;
    const bytes = this.#frameBytes;
    const callbacks = this.#callbacks;
    this.#frames = null;
    this.#frameBytes = 0;
    this.#volatile = null;
    this.#callbacks = null;
    if (this.#isClosed) return;
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
    if (this.#isClosed) {
      onClosed?.();
      return;
    }
    this.flush(); // frames queued this turn go before the close frame
    this.#isClosed = true;
    this.#listener = IGNORING_LISTENER;
    this.#ws.close();
    onClosed?.();
  }

  /** @see Transport.terminate */
  terminate(): void {
    this.#frames = null;
    this.#frameBytes = 0;
    this.#callbacks = null;
    this.#isClosed = true;
    this.#listener = IGNORING_LISTENER;
    this.#ws.terminate();
  }

  /** @see Transport.discard */
  discard(): void {
    // Nothing to wait for: closing a WebSocket never depends on the peer's next request.
  }

  /** One message from `ws`. @internal */
  receive(data: WsRawData, isBinary: boolean): void {
    if (this.#isClosed) return;
    const bytes = toNodeBuffer(data);
    if (isBinary) {
      // binaryType is "nodebuffer" (the ws default), so data is one Buffer.
      this.#listener.onPacket({ type: "message", data: bytes });
      return;
    }
    if (bytes[0] === CHAR_MESSAGE) {
      // hot path: a message packet; decode its text after the type character only.
      this.#listener.onPacket({ type: "message", data: bytes.toString("utf8", 1) });
      return;
    }
    const decoded = decodePacket(bytes.toString("utf8"));
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

  private queue(bytes: Uint8Array, isVolatile: boolean): void {
    if (this.#isClosed || this.#socket === null) return;
    const frames = this.#frames;
    if (frames === null) {
      this.#frames = bytes;
      this.#flushQueue.add(this);
    } else if (Array.isArray(frames)) {
      frames.push(bytes);
    } else {
      this.#frames = [frames, bytes];
    }
    this.#frameBytes += bytes.byteLength;
    if (isVolatile || this.#volatile !== null) this.markVolatile(isVolatile);
  }

  private addCallback(callback: () => void): void {
    if (this.#callbacks === null) this.#callbacks = [callback];
    else this.#callbacks.push(callback);
  }

  /** Records whether the frame just queued is volatile, so dropVolatile() can find it. */
  private markVolatile(isVolatile: boolean): void {
    const frames = this.#frames;
    const count = Array.isArray(frames) ? frames.length : 1;
    if (!Array.isArray(frames)) this.#frames = frames === null ? null : [frames];
    const flags = this.#volatile ?? [];
    while (flags.length < count - 1) flags.push(false);
    flags.push(isVolatile);
    this.#volatile = flags;
  }

  private sendWithWs(data: RawData, compress: boolean, callback: (() => void) | undefined): void {
    if (this.#isClosed) return;
    this.#ws.send(data, { compress }, (err) => {
      if (err) {
        // A failed write means the socket is gone; "close" or "error" follows from ws.
        debug("write failed: %s", err.message);
        return;
      }
      callback?.();
      if (!this.#isClosed && this.#ws.bufferedAmount === 0) this.#listener.onDrain();
    });
  }

  private waitForDrain(socket: Duplex): void {
    if (this.#isBackedUp) return;
    this.#isBackedUp = true;
    socket.once("drain", () => {
      this.#isBackedUp = false;
      if (!this.#isClosed) this.#listener.onDrain();
    });
  }

  private closeWith(reason: TransportCloseReason, description?: Error): void {
    if (this.#isClosed) return;
    this.#ws.close();
    this.finish(reason, description);
  }

  private finish(reason: TransportCloseReason, description?: Error): void {
    if (this.#isClosed && this.#listener === IGNORING_LISTENER) return;
    this.#isClosed = true;
    this.#frames = null;
    this.#frameBytes = 0;
    this.#callbacks = null;
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

function write(socket: Duplex, bytes: Uint8Array, callbacks: (() => void)[] | null): boolean {
  if (callbacks === null) return socket.write(bytes);
  return socket.write(bytes, (err) => {
    // A failed write means the socket is gone; "close" or "error" follows from ws.
    if (err) debug("write failed: %s", err.message);
    else for (const callback of callbacks) callback();
  });
}

function toNodeBuffer(data: WsRawData | Uint8Array): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
