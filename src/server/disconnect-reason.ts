/**
 * Why a socket disconnected. The strings are Socket.IO's, byte for byte, so apps and
 * dashboards written for Socket.IO keep working.
 */
export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";
