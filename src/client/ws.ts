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
import { Manager as BaseManager, type ManagerOptions } from "./manager.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";
import { websocket } from "./websocket.js";

const transports = { websocket };

/** A Manager with the WebSocket transport only. */
export class Manager<
  L extends EventsMap<L> = DefaultEventsMap,
  E extends EventsMap<E> = L,
> extends BaseManager<L, E> {
  constructor(uri?: string, opts: ManagerOptions = {}) {
    super(uri, opts, transports);
  }
}

/** `io()` over WebSocket only. @see {@link Manager} */
export const io = createLookup(Manager);

export { type BackoffOptions, backoff } from "./backoff.js";
export type { IoOptions, ManagerOptions } from "./manager.js";
export { Socket, type SocketAuth, type SocketOptions } from "./socket.js";
export type {
  DefaultEventsMap,
  DisconnectReason,
  EventsMap,
  SocketReservedEvents,
} from "./typed-events.js";
export { io as connect, io as default };
