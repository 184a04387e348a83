/**
 * `switchboard/client/ws`: the same client as `switchboard/client` with the WebSocket
 * transport only. Polling is not imported, so bundles leave it out. Use it when every
 * client can open a WebSocket to the server (no proxy that blocks upgrades).
 *
 * @example
 * import { io } from "switchboard/client/ws";
 * const socket = io("https://example.com");
 */
import { createLookup } from "./io.js";
import { Manager } from "./manager.js";

/** `io()` over WebSocket only. @see {@link Manager} */
export const io = createLookup(Manager);

export { type BackoffOptions, backoff } from "./backoff.js";
export { type IoOptions, Manager, type ManagerOptions } from "./manager.js";
export { Socket, type SocketAuth, type SocketOptions } from "./socket.js";
export type {
  DefaultEventsMap,
  DisconnectReason,
  EventsMap,
  SocketReservedEvents,
} from "./typed-events.js";
export { io as connect, io as default };
