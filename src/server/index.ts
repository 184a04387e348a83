/**
 * Switchboard's server: a Socket.IO-compatible server for Node.js.
 *
 * A `Server` owns an Engine.IO server (`switchboard/engine`) that carries every connection
 * over WebSocket or HTTP long-polling. Each connection is a `Client` that joins one or more
 * `Namespace`s; each membership is a `Socket`. Namespaces resolve rooms through an
 * `Adapter` (in memory by default; Redis or NATS across processes) and broadcast through
 * the immutable `BroadcastOperator`, which encodes each packet once for every recipient.
 *
 * ```ts
 * import { Server } from "switchboard";
 * const io = new Server(3000);
 * io.on("connection", (socket) => socket.on("chat", (msg) => io.emit("chat", msg)));
 * ```
 */
export type {
  Adapter,
  BroadcastFlags,
  BroadcastOptions,
  EncodedPacket,
  NamespacePort,
  Room,
  SocketDetails,
  SocketId,
} from "../adapter/adapter.js";
export { InMemoryAdapter } from "../adapter/in-memory-adapter.js";
export {
  AdapterError,
  ErrorCode,
  type ErrorCodeValue,
  HandshakeError,
  ProtocolError,
  SwitchboardError,
  TimeoutError,
  TransportError,
} from "../errors.js";
export { BroadcastOperator, type RoomTarget } from "./broadcast-operator.js";
export type { DisconnectReason } from "./disconnect-reason.js";
export type { Handshake } from "./handshake.js";
export {
  type ExtendedError,
  type Middleware,
  Namespace,
  type NamespaceReservedEvents,
} from "./namespace.js";
export { type NamespaceMatcher, ParentNamespace } from "./parent-namespace.js";
export { RemoteSocket } from "./remote-socket.js";
export { Server, type ServerOptions } from "./server.js";
export { type PacketMiddleware, Socket, type SocketReservedEvents } from "./socket.js";
export { type SocketEmitFlags, SocketEmitter } from "./socket-emitter.js";
export type {
  AckArgs,
  AckResult,
  AnyListener,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  ListenerOf,
} from "./typed-events.js";
