/**
 * Why a socket disconnected. The strings are Socket.IO's, byte for byte, so apps and
 * dashboards written for Socket.IO keep working; `"slow consumer"` is Switchboard's own: the
 * client did not read fast enough and the server would otherwise have had to buffer more
 * than `maxBufferedBytes` / `maxBufferedPackets` for it (counted in
 * `io.engine.metrics.slowConsumerDisconnects`); so is `"rate limit exceeded"`: the client sent
 * more messages than the `rateLimit` option allows (`io.engine.metrics.rateLimitDisconnects`).
 */
export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "slow consumer"
  | "rate limit exceeded"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";
