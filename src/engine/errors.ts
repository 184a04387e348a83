/**
 * Engine.IO HTTP error codes and how they are written on the wire
 * (engine.io-protocol v4 §handshake, engine.io `Server.errors`). The JSON bodies are
 * byte-exact with engine.io: `{"code":1,"message":"Session ID unknown"}`.
 */
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { ErrorCode, type ErrorCodeValue, HandshakeError } from "../errors.js";
import type { PollResponse } from "./forwarded-poll.js";

/** Engine.IO HTTP error codes, as numbered by engine.io's `Server.errors`. */
export const EngineErrorCode = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;

/** One of the numeric codes in {@link EngineErrorCode}. */
export type EngineErrorCodeValue = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** The message engine.io sends with each code. */
export const EngineErrorMessage: Readonly<Record<EngineErrorCodeValue, string>> = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
};

const STABLE_CODE: Readonly<Record<EngineErrorCodeValue, ErrorCodeValue>> = {
  0: ErrorCode.UNKNOWN_TRANSPORT,
  1: ErrorCode.UNKNOWN_SID,
  2: ErrorCode.BAD_HANDSHAKE_METHOD,
  3: ErrorCode.BAD_REQUEST,
  4: ErrorCode.FORBIDDEN,
  5: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
};

/** The payload of the server's `"connection_error"` event. */
export interface EngineConnectionError {
  /** The refused request. */
  readonly req: IncomingMessage;
  /** The Engine.IO error code sent to the client. */
  readonly code: EngineErrorCodeValue;
  /** The message sent to the client. */
  readonly message: string;
  /** Details for logs: which check failed and with what input. */
  readonly context: Readonly<Record<string, unknown>>;
}

/** A refused request: the code to send and details for the `"connection_error"` event. */
export interface RequestRefusal {
  readonly code: EngineErrorCodeValue;
  readonly context: Readonly<Record<string, unknown>>;
}

/** Builds the {@link HandshakeError} that describes a refusal, for logs and `cause` chains. */
export function toHandshakeError(refusal: RequestRefusal): HandshakeError {
  return new HandshakeError(STABLE_CODE[refusal.code], EngineErrorMessage[refusal.code]);
}

/** The HTTP status engine.io uses for a code: 403 for Forbidden, 400 for every other. */
export function statusForCode(code: EngineErrorCodeValue): number {
  return code === EngineErrorCode.FORBIDDEN ? 403 : 400;
}

/** The JSON body engine.io sends with an error code. */
export function errorBody(code: EngineErrorCodeValue): string {
  return JSON.stringify({ code, message: EngineErrorMessage[code] });
}

/** Answers an HTTP request with an Engine.IO error (status 400 or 403, JSON body). */
export function writeHttpError(res: PollResponse, code: EngineErrorCodeValue): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = errorBody(code);
  res.writeHead(statusForCode(code), {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Refuses a WebSocket upgrade by writing a plain HTTP error response on the raw socket and
 * destroying it. Unlike engine.io (always 400, text body) we send the same status and JSON
 * body as over HTTP, so tools see the same error either way.
 */
export function abortUpgrade(socket: Duplex, code: EngineErrorCodeValue): void {
  // The peer may already be gone; a write error here has nowhere useful to go.
  socket.on("error", () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code);
  const status = statusForCode(code);
  const text = status === 403 ? "Forbidden" : "Bad Request";
  // end() then destroy once flushed, so the response is not cut off by the destroy.
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
