/**
 * `switchboard/client`: a Socket.IO-compatible client for browsers, workers and Node.
 *
 * `io(url)` (`io.ts`) returns a {@link Socket} for the namespace in the URL's path. Sockets of
 * the same origin share one {@link Manager} (`manager.ts`), which owns the Engine.IO session:
 * it opens with HTTP long-polling (`polling.ts`, over `fetch`), which upgrades itself to
 * WebSocket (`websocket.ts`) when the server allows; it answers the server's heartbeat, and
 * reconnects with exponential backoff and jitter (`backoff.ts`) after an unexpected close.
 * Transports sit behind a small interface (`transport.ts`). Each Socket (`socket.ts`)
 * joins its namespace (with `auth`), emits events with optional acknowledgements, buffers
 * emits while offline (bounded by `maxBufferedPackets`), and can retry unacknowledged emits
 * (`ackTimeout` + `retries`). The wire format is Engine.IO v4 + Socket.IO v5 (`codec.ts`),
 * so it talks to an official `socket.io` server as well as to ours.
 *
 * This entry offers both transports; `switchboard/client/ws` leaves polling out for a smaller
 * bundle. Event names and arguments can be typed with interface maps (`typed-events.ts`).
 *
 * @example
 * import { io } from "switchboard/client";
 * const socket = io("https://example.com", { auth: { token: "abc" } });
 * socket.on("connect", () => socket.emit("hello", "world"));
 * socket.on("news", (item) => console.log(item));
 */
import { createLookup } from "./io.js";
import { Manager as BaseManager, type ManagerOptions } from "./manager.js";
import { polling } from "./polling.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";
import { websocket } from "./websocket.js";

const transports = { polling, websocket };

/**
 * One connection (Engine.IO session) shared by the sockets of several namespaces, with
 * polling and WebSocket transports.
 *
 * @example
 * const manager = new Manager("https://example.com", { reconnectionAttempts: 5 });
 * const admin = manager.socket("/admin");
 */
export class Manager<
  L extends EventsMap<L> = DefaultEventsMap,
  E extends EventsMap<E> = L,
> extends BaseManager<L, E> {
  constructor(uri?: string, opts: ManagerOptions = {}) {
    super(uri, opts, transports);
  }
}

/**
 * Returns the socket of the namespace in `uri`, sharing one Manager per origin and path.
 *
 * @example
 * const socket = io("https://example.com/admin", { transports: ["websocket"] });
 */
export const io = createLookup(Manager);

export { type BackoffOptions, backoff } from "./backoff.js";
export type { Engine, IoOptions, ManagerOptions } from "./manager.js";
export { Socket, type SocketAuth, type SocketOptions } from "./socket.js";
export type {
  Transport,
  TransportFactory,
  TransportOptions,
  TransportRegistry,
  TransportSink,
} from "./transport.js";
export type {
  ConnectError,
  DecorateAcknowledgements,
  DefaultEventsMap,
  DisconnectDescription,
  DisconnectReason,
  EventNames,
  EventParams,
  EventsMap,
  ManagerReservedEvents,
  SocketReservedEvents,
} from "./typed-events.js";
export { io as connect, io as default };
