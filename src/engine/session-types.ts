/**
 * The types around an {@link EngineSocket}: close reasons, events, the message handler,
 * send options and what a session is created with.
 */
import type { EnginePacket } from "../protocol/engine-packet.js";
import type { EngineRequest } from "./engine-request.js";
import type { SessionContext } from "./session-context.js";
import type {
  OutgoingPacket,
  Transport,
  TransportCloseReason,
  TransportName,
} from "./transports/transport.js";

/**
 * Why a session closed. The strings are engine.io's (plus `"slow consumer"` and
 * `"rate limit exceeded"`), so the Socket.IO layer can pass them on as `DisconnectReason`s:
 * - `"transport close"`: the client closed the connection or sent a close packet
 * - `"transport error"`: the transport failed: network error, aborted poll, overlapping
 *   requests, or a body/message over `maxHttpBufferSize` (description code
 *   `SB_ERR_PAYLOAD_TOO_LARGE`)
 * - `"parse error"`: the client sent a malformed packet or payload
 * - `"ping timeout"`: no pong within `pingTimeout` of a ping
 * - `"slow consumer"`: the client did not read fast enough: what the server had to hold back
 *   for it exceeded `maxBufferedBytes` or `maxBufferedPackets`, even after dropping its
 *   volatile packets (Switchboard addition; counted in `engine.metrics`)
 * - `"rate limit exceeded"`: the client sent more messages than `rateLimit` allows
 *   (Switchboard addition; counted in `engine.metrics`)
 * - `"forced close"`: the server called {@link EngineSocket.close}
 * - `"server shutting down"`: {@link EngineServer.close} was called
 */
export type EngineCloseReason =
  | TransportCloseReason
  | "ping timeout"
  | "slow consumer"
  | "rate limit exceeded"
  | "forced close"
  | "server shutting down";

/** The state of a session. */
export type EngineReadyState = "opening" | "open" | "closing" | "closed";

/**
 * Events of an {@link EngineSocket}. There is no `"error"` event: every failure closes the
 * session, and `"close"` carries the reason and an error describing it.
 */
export interface EngineSocketEvents {
  /** A message from the client: text as a string, binary as a Buffer. */
  message: [data: string | Buffer];
  /** The session closed; emitted once. */
  close: [reason: EngineCloseReason, description?: Error];
  /** The client probed a WebSocket; the upgrade is under way. */
  upgrading: [transport: Transport];
  /** The session moved to a new transport. */
  upgrade: [transport: Transport];
  /**
   * What was sent has been written out (polling: the response finished; WebSocket: the
   * socket took the bytes without backing up): `bufferedAmount` is back to (near) zero.
   */
  drain: [];
  /** Any packet received from the client. */
  packet: [packet: EnginePacket];
  /** Any packet queued for the client. */
  packetCreate: [packet: OutgoingPacket];
  /** A pong arrived in time. */
  heartbeat: [];
}

/**
 * Takes a session's messages and its end in place of `"message"` and `"close"` listeners:
 * one object per session, called directly (the Socket.IO layer's connection uses it).
 */
export interface EngineSocketHandler {
  /** A message from the client: text as a string, binary as a Buffer. */
  onMessage(data: string | Buffer): void;
  /** The session closed; called once, before the `"close"` event. */
  onClose(reason: EngineCloseReason, description?: Error): void;
}

/** Options of {@link EngineSocket.send}. */
export interface SendOptions {
  /** Allow compression of this message (HTTP compression, permessage-deflate). Default true. */
  compress?: boolean;
  /**
   * Drop this message rather than queue it when the transport cannot write right now, or
   * when the session's buffer is over its bound. Default false.
   */
  volatile?: boolean;
}

/** What an {@link EngineSocket} is created with; {@link EngineServer} builds it. */
export interface EngineSocketInit {
  readonly id: string;
  readonly request: EngineRequest;
  readonly transport: Transport;
  readonly context: SessionContext;
  readonly upgrades: readonly TransportName[];
  /** More fields for the open packet (`openPacketFields`). */
  readonly openFields: Record<string, unknown> | undefined;
}
