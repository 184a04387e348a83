/**
 * The HTTP long-polling transport (engine.io-protocol v4 §http-long-polling).
 *
 * The client keeps one GET pending; the server answers it with every buffered packet as one
 * payload. The client sends packets with POST; the server answers `ok`.
 *
 * ```
 *            GET arrives                 send(packets)
 *   idle ─────────────────► pending ─────────────────────► idle (drain on "finish")
 *    ▲                         │ second GET: 400 + close session ("transport error")
 *    │                         │ client aborts: close session ("transport error")
 *    └── close(): answered with a close packet now (pending) or on the next GET (idle)
 * ```
 */
import { Buffer } from "node:buffer";
import { ErrorCode, ProtocolError, TransportError } from "../../errors.js";
import { decodePayload, type EnginePacket, encodePayload } from "../../protocol/engine-packet.js";
import { createDebug } from "../debug.js";
import { EngineErrorCode, writeHttpError } from "../errors.js";
import type { PollRequest, PollResponse } from "../forwarded-poll.js";
import { compressBody, negotiateEncoding } from "./http-compression.js";
import {
  IGNORING_LISTENER,
  type OutgoingPacket,
  type Transport,
  type TransportCloseReason,
  type TransportListener,
} from "./transport.js";

const debug = createDebug("switchboard:engine:polling");

/** Limits and settings of a {@link PollingTransport}. */
export interface PollingOptions {
  /** Largest POST body accepted, in bytes; larger ones get 413 and close the session. */
  readonly maxHttpBufferSize: number;
  /** Most packets accepted in one POST payload. */
  readonly maxPacketsPerPayload: number;
  /** Smallest response body to compress, or `false` to never compress. */
  readonly compressionThreshold: number | false;
  /** How long a graceful close waits for the client's next GET, in ms. */
  readonly closeTimeout: number;
}

/** A {@link Transport} over HTTP long-polling requests. */
export class PollingTransport implements Transport {
  /** Always `"polling"`. */
  readonly name = "polling" as const;
  readonly #options: PollingOptions;
  #listener: TransportListener = IGNORING_LISTENER;
  #pollReq: PollRequest | null = null;
  #pollRes: PollResponse | null = null;
  #dataReq: PollRequest | null = null;
  #pendingClose: (() => void) | null = null;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #isClosing = false;
  #isClosed = false;
  #isDiscarded = false;

  /** Creates a transport that will serve the requests passed to `onRequest`. */
  constructor(options: PollingOptions) {
    this.#options = options;
  }

  /** True while a GET is pending and can be answered. */
  get writable(): boolean {
    return this.#pollRes !== null && !this.#isClosed;
  }

  /**
   * Always 0: packets wait in the session until a GET takes them, and a response, once
   * written, is Node's to deliver.
   */
  get bufferedAmount(): number {
    return 0;
  }

  /** @see Transport.setListener */
  setListener(listener: TransportListener): void {
    this.#listener = listener;
  }

  /**
   * Serves one HTTP request of this session: GET polls, POST carries packets. The request
   * may come straight from the client or be forwarded from another node (forwarded-poll.ts).
   */
  onRequest(req: PollRequest, res: PollResponse): void {
    if (req.method === "GET") this.#onPollRequest(req, res);
    else if (req.method === "POST") this.#onDataRequest(req, res);
    else writeHttpError(res, EngineErrorCode.BAD_REQUEST);
  }

  /** @see Transport.send */
  send(packets: readonly OutgoingPacket[]): void {
    const req = this.#pollReq;
    const res = this.#pollRes;
    if (req === null || res === null) return;
    this.#pollReq = null;
    this.#pollRes = null;
    const closing = this.#pendingClose;
    this.#pendingClose = null;
    const all: readonly EnginePacket[] = closing ? [...packets, { type: "close" }] : packets;
    const shouldCompress = packets.some((packet) => packet.compress !== false);
    const callbacks = packets.filter((packet) => packet.callback !== undefined);
    this.#writePayload(req, res, encodePayload(all), shouldCompress, callbacks);
    closing?.();
  }

  /** @see Transport.close */
  close(onClosed?: () => void): void {
    if (this.#isClosing && !this.#isClosed && this.#isDiscarded) {
      // Closed again after discard(): stop waiting for the client's next GET.
      this.#finishPendingClose();
    }
    if (this.#isClosed || this.#isClosing) {
      onClosed?.();
      return;
    }
    // The listener stays: the session flushes its last packets on the next GET (onReady).
    this.#isClosing = true;
    if (this.#dataReq !== null) {
      this.#dataReq.destroy();
      this.#dataReq = null;
    }
    const finish = (): void => {
      clearTimeout(this.#closeTimer);
      this.#isClosed = true;
      onClosed?.();
    };
    if (this.#pollRes !== null) {
      // The pending GET carries the session's last packets, then the close packet.
      this.#pendingClose = finish;
      this.#listener.onReady();
      if (this.#pendingClose !== null) this.send([]);
    } else if (this.#isDiscarded) {
      finish();
    } else {
      // engine.io-protocol v4: the close packet rides on the client's next GET.
      this.#pendingClose = finish;
      this.#closeTimer = setTimeout(finish, this.#options.closeTimeout);
    }
  }

  /** @see Transport.terminate */
  terminate(): void {
    this.#isDiscarded = true;
    this.close();
  }

  /** @see Transport.discard */
  discard(): void {
    this.#isDiscarded = true;
  }

  #onPollRequest(req: PollRequest, res: PollResponse): void {
    if (this.#pollRes !== null || this.#isClosed) {
      // engine.io-protocol v4: a second concurrent GET is a protocol violation.
      debug("overlapping GET");
      writeHttpError(res, EngineErrorCode.BAD_REQUEST);
      this.#fail("transport error", new ProtocolError(ErrorCode.BAD_REQUEST, "overlapping GET"));
      return;
    }
    this.#pollReq = req;
    this.#pollRes = res;
    res.on("close", () => {
      if (this.#pollRes !== res) return;
      this.#pollReq = null;
      this.#pollRes = null;
      this.#fail(
        "transport error",
        new TransportError(ErrorCode.TRANSPORT_CLOSED, "poll connection closed prematurely"),
      );
    });
    this.#listener.onReady();
    // A close asked for while no GET was pending rides on this one.
    if (this.#pollRes === res && this.#pendingClose !== null) this.send([]);
  }

  #onDataRequest(req: PollRequest, res: PollResponse): void {
    if (this.#dataReq !== null) {
      debug("overlapping POST");
      writeHttpError(res, EngineErrorCode.BAD_REQUEST);
      this.#fail("transport error", new ProtocolError(ErrorCode.BAD_REQUEST, "overlapping POST"));
      return;
    }
    const max = this.#options.maxHttpBufferSize;
    if (Number(req.headers["content-length"] ?? 0) > max) {
      this.#refuseTooLarge(req, res);
      return;
    }
    this.#dataReq = req;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData).off("end", onEnd);
      this.#dataReq = null;
      this.#refuseTooLarge(req, res);
    };
    const onEnd = (): void => {
      this.#dataReq = null;
      this.#onPayload(Buffer.concat(chunks, size).toString("utf8"), res);
    };
    req.on("data", onData).on("end", onEnd);
    res.on("close", () => {
      if (this.#dataReq !== req) return;
      this.#dataReq = null;
      this.#fail(
        "transport error",
        new TransportError(ErrorCode.TRANSPORT_CLOSED, "data request closed prematurely"),
      );
    });
  }

  #onPayload(payload: string, res: PollResponse): void {
    const decoded = decodePayload(payload, this.#options.maxPacketsPerPayload);
    if (!decoded.ok) {
      debug("parse error: %s", decoded.error.message);
      writeHttpError(res, EngineErrorCode.BAD_REQUEST);
      this.#fail("parse error", decoded.error);
      return;
    }
    // text/html, not text/plain, as engine.io does (some user agents offer a download).
    res.writeHead(200, { "Content-Type": "text/html", "Content-Length": 2 });
    res.end("ok");
    for (const packet of decoded.value) {
      if (this.#isClosed || this.#isClosing) return;
      if (packet.type === "close") {
        // engine.io-protocol v4: the client closes the session over polling.
        this.#fail("transport close");
        return;
      }
      this.#listener.onPacket(packet);
    }
  }

  #refuseTooLarge(req: PollRequest, res: PollResponse): void {
    debug("POST body larger than %d bytes", this.#options.maxHttpBufferSize);
    req.pause();
    res.writeHead(413, { Connection: "close", "Content-Length": 0 });
    res.end();
    const error = new ProtocolError(ErrorCode.PAYLOAD_TOO_LARGE, "POST body too large", {
      closeCode: 413,
    });
    this.#fail("transport error", error);
  }

  /** The transport failed on its own: report once, then close without waiting for the peer. */
  #fail(reason: TransportCloseReason, description?: Error): void {
    const listener = this.#listener;
    this.#listener = IGNORING_LISTENER;
    this.#isDiscarded = true;
    listener.onClose(reason, description);
    // Also ends a graceful close that was waiting for the client's next GET.
    this.close();
  }

  #finishPendingClose(): void {
    const finish = this.#pendingClose;
    this.#pendingClose = null;
    finish?.();
  }

  #writePayload(
    req: PollRequest,
    res: PollResponse,
    payload: string,
    shouldCompress: boolean,
    withCallbacks: readonly OutgoingPacket[],
  ): void {
    const body = Buffer.from(payload, "utf8");
    const threshold = this.#options.compressionThreshold;
    const coding =
      shouldCompress && threshold !== false && body.length >= threshold
        ? negotiateEncoding(req.headers["accept-encoding"])
        : undefined;
    if (coding === undefined) {
      this.#respond(res, body, undefined, withCallbacks);
      return;
    }
    compressBody(body, coding, (err, compressed) => {
      if (err) debug("compression failed, sending uncompressed: %s", err.message);
      this.#respond(res, err ? body : compressed, err ? undefined : coding, withCallbacks);
    });
  }

  #respond(
    res: PollResponse,
    body: Buffer,
    coding: string | undefined,
    withCallbacks: readonly OutgoingPacket[],
  ): void {
    if (res.destroyed) return;
    const headers: Record<string, string | number> = {
      "Content-Type": "text/plain; charset=UTF-8",
      "Content-Length": body.length,
      "Cache-Control": "no-store",
    };
    if (coding !== undefined) headers["Content-Encoding"] = coding;
    res.writeHead(200, headers);
    res.end(body, () => {
      // Written, even if the session has moved on (upgraded or closed) meanwhile.
      for (const packet of withCallbacks) packet.callback?.();
      if (!this.#isClosed && !this.#isClosing) this.#listener.onDrain();
    });
  }
}
