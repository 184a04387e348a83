/**
 * The WebSocket transport (engine.io-protocol v4 §websocket): one Engine.IO packet per
 * frame, text packets as text frames, binary messages as binary frames without a prefix.
 * Framing, permessage-deflate and size limits are the `ws` package's.
 */
import type { WebSocket, RawData as WsRawData } from "ws";
import { ErrorCode, ProtocolError, TransportError } from "../../errors.js";
import { decodePacket, encodePacket } from "../../protocol/engine-packet.js";
import { createDebug } from "../debug.js";
import {
  IGNORING_LISTENER,
  type OutgoingPacket,
  type Transport,
  type TransportCloseReason,
  type TransportListener,
} from "./transport.js";

const debug = createDebug("switchboard:engine:websocket");

/** A {@link Transport} over one `ws` WebSocket. */
export class WebSocketTransport implements Transport {
  /** Always `"websocket"`. */
  readonly name = "websocket" as const;
  readonly #ws: WebSocket;
  #listener: TransportListener = IGNORING_LISTENER;
  #isWritable = true;
  #isClosed = false;

  /** Wraps an open `ws` WebSocket; reports go to the listener set with `setListener`. */
  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on("error", (err) => this.#onError(err));
    ws.on("close", () => this.#finish("transport close"));
  }

  /** True unless a batch is still being written to the socket. */
  get writable(): boolean {
    return this.#isWritable && !this.#isClosed;
  }

  /** Bytes queued in `ws` but not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** @see Transport.setListener */
  setListener(listener: TransportListener): void {
    this.#listener = listener;
  }

  /** @see Transport.send */
  send(packets: readonly OutgoingPacket[]): void {
    if (this.#isClosed || packets.length === 0) return;
    this.#isWritable = false;
    const last = packets.length - 1;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i]!;
      const options = { compress: packet.compress !== false };
      // Only the last frame's callback matters: ws writes frames in order.
      this.#ws.send(encodePacket(packet), options, i === last ? this.#onSent : undefined);
    }
  }

  /** @see Transport.close */
  close(onClosed?: () => void): void {
    if (this.#isClosed) {
      onClosed?.();
      return;
    }
    this.#isClosed = true;
    this.#isWritable = false;
    this.#listener = IGNORING_LISTENER;
    this.#ws.close();
    onClosed?.();
  }

  /** @see Transport.discard */
  discard(): void {
    // Nothing to wait for: closing a WebSocket never depends on the peer's next request.
  }

  readonly #onSent = (err?: Error | null): void => {
    if (err) {
      // A failed write means the socket is gone; "close" or "error" follows from ws.
      debug("write failed: %s", err.message);
      return;
    }
    if (this.#isClosed) return;
    this.#isWritable = true;
    this.#listener.onDrain();
  };

  #onMessage(data: WsRawData, isBinary: boolean): void {
    if (this.#isClosed) return;
    if (isBinary) {
      // binaryType is "nodebuffer" (the ws default), so data is one Buffer.
      this.#listener.onPacket({ type: "message", data: toBuffer(data) });
      return;
    }
    const decoded = decodePacket(toBuffer(data).toString("utf8"));
    if (!decoded.ok) {
      debug("parse error: %s", decoded.error.message);
      this.#closeWith("parse error", decoded.error);
      return;
    }
    if (decoded.value.type === "close") {
      // engine.io-protocol v4: the client asks to close; same as it closing the socket.
      this.#closeWith("transport close");
      return;
    }
    this.#listener.onPacket(decoded.value);
  }

  #onError(err: Error): void {
    debug("ws error: %s", err.message);
    const isTooLarge = "code" in err && err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
    const error = isTooLarge
      ? new ProtocolError(ErrorCode.PAYLOAD_TOO_LARGE, "WebSocket message too large", {
          cause: err,
          closeCode: 1009,
        })
      : new TransportError(ErrorCode.TRANSPORT_ERROR, err.message, { cause: err });
    this.#finish("transport error", error);
  }

  #closeWith(reason: TransportCloseReason, description?: Error): void {
    if (this.#isClosed) return;
    this.#ws.close();
    this.#finish(reason, description);
  }

  #finish(reason: TransportCloseReason, description?: Error): void {
    this.#isClosed = true;
    this.#isWritable = false;
    const listener = this.#listener;
    this.#listener = IGNORING_LISTENER;
    listener.onClose(reason, description);
  }
}

function toBuffer(data: WsRawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
