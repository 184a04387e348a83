/**
 * Switchboard's Engine.IO v4 server layer, usable on its own like the `engine.io` package
 * (`switchboard/engine`) and used by the Socket.IO server layer.
 *
 * An {@link EngineServer} attaches to a `node:http`/`https` server, answers handshakes on
 * its path and creates one {@link EngineSocket} per session. A session starts over HTTP
 * long-polling (and may upgrade to WebSocket) or directly over WebSocket; either way it
 * exchanges Engine.IO `message` packets (text or binary), keeps itself alive with
 * server-sent pings, and ends with one of the {@link EngineCloseReason}s. Malformed input
 * closes only the session it came on; refused requests get engine.io's HTTP error codes
 * 0-5 and a `"connection_error"` event.
 *
 * Writing is cheap and bounded. Over WebSocket, everything sent to a session in one turn of
 * the event loop leaves in one `write()`, and `sendShared()` builds a broadcast's frame once
 * for every session. What a session holds back for a slow client is bounded by
 * `maxBufferedBytes` / `maxBufferedPackets`: volatile messages are dropped first, then the
 * session closes with `"slow consumer"` (counted in `engine.metrics`). Layers above pace
 * themselves with `socket.bufferedAmount` and the `"drain"` event, and may take messages
 * through one {@link EngineSocketHandler} (`setHandler`) instead of listeners.
 *
 * @example
 * import { createServer } from "node:http";
 * import { EngineServer } from "switchboard/engine";
 *
 * const http = createServer();
 * const engine = new EngineServer().attach(http);
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 * });
 * http.listen(3000);
 */
export type { CookieOptions } from "./cookie.js";
export type { CorsOptions, OriginResolver, StaticOrigin } from "./cors.js";
export type {
  AllowRequest,
  EngineServerOptions,
  RateLimitOptions,
  ResolvedEngineServerOptions,
} from "./engine-options.js";
export { EngineRequest, type EngineRequestPeer } from "./engine-request.js";
export { EngineServer, type EngineServerEvents } from "./engine-server.js";
export { EngineSocket } from "./engine-socket.js";
export {
  type EngineConnectionError,
  EngineErrorCode,
  type EngineErrorCodeValue,
  EngineErrorMessage,
} from "./errors.js";
export type {
  ForwardedPoll,
  ForwardedPollReply,
  PollRequest,
  PollResponse,
  SessionRouter,
} from "./forwarded-poll.js";
export { randomId } from "./random-id.js";
export type { EngineMetrics } from "./session-context.js";
export type {
  EngineCloseReason,
  EngineReadyState,
  EngineSocketEvents,
  EngineSocketHandler,
  SendOptions,
} from "./session-types.js";
export type {
  OutgoingPacket,
  PreEncodedFrame,
  Transport,
  TransportCloseReason,
  TransportListener,
  TransportName,
} from "./transports/transport.js";
export { IGNORING_LISTENER } from "./transports/transport.js";
