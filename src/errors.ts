/**
 * Switchboard's error hierarchy. Every error carries a stable `code` (listed in the
 * README's "Error codes" table), an optional `cause`, and the WebSocket/Engine.IO close
 * code when one applies. This module is layer zero: every other layer may import it and it
 * imports nothing.
 *
 * ```
 * SwitchboardError
 *   ├─ ProtocolError   malformed or hostile input on the wire
 *   ├─ HandshakeError  a connection or namespace join was refused
 *   ├─ TransportError  a transport failed (socket closed, write error, timeout)
 *   ├─ TimeoutError    an ack or request did not complete in time
 *   └─ AdapterError    a cross-node operation failed
 * ```
 */

/** Stable error codes. Wire behaviour never depends on these; logs and apps do. */
export const ErrorCode = {
  PAYLOAD_TOO_LARGE: "SB_ERR_PAYLOAD_TOO_LARGE",
  INVALID_PACKET: "SB_ERR_INVALID_PACKET",
  INVALID_PAYLOAD: "SB_ERR_INVALID_PAYLOAD",
  INVALID_JSON: "SB_ERR_INVALID_JSON",
  INVALID_NAMESPACE: "SB_ERR_INVALID_NAMESPACE",
  INVALID_ACK_ID: "SB_ERR_INVALID_ACK_ID",
  TOO_MANY_ATTACHMENTS: "SB_ERR_TOO_MANY_ATTACHMENTS",
  UNEXPECTED_ATTACHMENT: "SB_ERR_UNEXPECTED_ATTACHMENT",
  NESTING_TOO_DEEP: "SB_ERR_NESTING_TOO_DEEP",
  INVALID_PLACEHOLDER: "SB_ERR_INVALID_PLACEHOLDER",
  EXPECTED_ATTACHMENT: "SB_ERR_EXPECTED_ATTACHMENT",
  INVALID_BASE64: "SB_ERR_INVALID_BASE64",
  TOO_MANY_PACKETS: "SB_ERR_TOO_MANY_PACKETS",
  UNKNOWN_TRANSPORT: "SB_ERR_UNKNOWN_TRANSPORT",
  UNKNOWN_SID: "SB_ERR_UNKNOWN_SID",
  BAD_HANDSHAKE_METHOD: "SB_ERR_BAD_HANDSHAKE_METHOD",
  BAD_REQUEST: "SB_ERR_BAD_REQUEST",
  FORBIDDEN: "SB_ERR_FORBIDDEN",
  UNSUPPORTED_PROTOCOL_VERSION: "SB_ERR_UNSUPPORTED_PROTOCOL_VERSION",
  INVALID_NAMESPACE_JOIN: "SB_ERR_INVALID_NAMESPACE_JOIN",
  MIDDLEWARE_REFUSED: "SB_ERR_MIDDLEWARE_REFUSED",
  CONNECT_TIMEOUT: "SB_ERR_CONNECT_TIMEOUT",
  TRANSPORT_CLOSED: "SB_ERR_TRANSPORT_CLOSED",
  TRANSPORT_ERROR: "SB_ERR_TRANSPORT_ERROR",
  PING_TIMEOUT: "SB_ERR_PING_TIMEOUT",
  ACK_TIMEOUT: "SB_ERR_ACK_TIMEOUT",
  ADAPTER_ERROR: "SB_ERR_ADAPTER",
} as const;

/** One of the stable codes in {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options shared by every Switchboard error. */
export interface SwitchboardErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The WebSocket close code (RFC 6455 §7.4) that applies, if any. */
  closeCode?: number;
}

/**
 * Base class of every error Switchboard creates. Each class names itself in a `name` field
 * rather than reading its constructor's name, which minifiers rename in the browser bundles.
 * A subclass of these keeps its parent's `name` (as a subclass of `Error` does) unless it
 * sets its own.
 */
export class SwitchboardError extends Error {
  override name = "SwitchboardError";
  // Declared only: the constructor sets both (no field definitions in the output).
  /** Stable machine-readable code, e.g. `"SB_ERR_PAYLOAD_TOO_LARGE"`. */
  declare readonly code: ErrorCodeValue;
  /** WebSocket close code that applies to this failure, when there is one. */
  declare readonly closeCode: number | undefined;

  constructor(code: ErrorCodeValue, message: string, options: SwitchboardErrorOptions = {}) {
    // Error reads only `cause` from its options.
    super(message, options.cause === undefined ? undefined : options);
    this.code = code;
    this.closeCode = options.closeCode;
  }
}

/** Malformed or hostile input on the wire. Codecs return it; they never throw it. */
export class ProtocolError extends SwitchboardError {
  override name = "ProtocolError";
}

/** A connection or namespace join was refused (bad handshake, middleware, unknown namespace). */
export class HandshakeError extends SwitchboardError {
  override name = "HandshakeError";
}

/** A transport failed: the socket closed, a write failed, or the peer stopped answering. */
export class TransportError extends SwitchboardError {
  override name = "TransportError";
}

/** An acknowledgement or request did not complete in time. */
export class TimeoutError extends SwitchboardError {
  override name = "TimeoutError";
}

/** A cross-node adapter operation failed. */
export class AdapterError extends SwitchboardError {
  override name = "AdapterError";
}

/** The result of decoding untrusted input: a value, or the reason it was rejected. */
export type Result<T, E = ProtocolError> = { ok: true; value: T } | { ok: false; error: E };

/** Wraps a value as a successful {@link Result}. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Builds a failed {@link Result} carrying a {@link ProtocolError}. */
export function fail(code: ErrorCodeValue, message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: new ProtocolError(code, message) };
}
