/**
 * Wire numbers the client uses, as constants the bundler inlines. Each is typed as the
 * protocol's own value (`src/protocol`), so the compiler rejects any drift from it.
 */
import type { EnginePacketType } from "../protocol/engine-packet.js";
import type {
  HANDSHAKE_CONNECT as HandshakeConnect,
  SocketPacketType,
} from "../protocol/socket-packet.js";

type E = typeof EnginePacketType;
type S = typeof SocketPacketType;

/** Engine.IO packet types (engine.io-protocol v4 §packet-types). */
export const OPEN: E["open"] = "0";
export const CLOSE: E["close"] = "1";
export const PING: E["ping"] = "2";
export const PONG: E["pong"] = "3";
export const MESSAGE: E["message"] = "4";
export const UPGRADE: E["upgrade"] = "5";

/** Socket.IO packet types (socket.io-protocol v5 §packet-types). */
export const CONNECT: S["CONNECT"] = 0;
export const DISCONNECT: S["DISCONNECT"] = 1;
export const EVENT: S["EVENT"] = 2;
export const ACK: S["ACK"] = 3;
export const CONNECT_ERROR: S["CONNECT_ERROR"] = 4;

/** The handshake's namespace parameter and open packet field (Switchboard servers). */
export const HANDSHAKE_CONNECT: typeof HandshakeConnect = "sb_connect";

/** Event names reserved by both ends (socket.io-parser's list): never sent nor received. */
export const RESERVED = /^(connect(_error)?|disconnect(ing)?|(new|remove)Listener)$/;
