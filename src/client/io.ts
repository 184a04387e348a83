/**
 * `io()`: returns the socket of the namespace in the URL, sharing one Manager (one
 * connection) per origin and Engine.IO path unless `forceNew` or `multiplex: false`.
 */
import { type IoOptions, type Manager, type ManagerOptions, toURL } from "./manager.js";
import type { Socket } from "./socket.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";

/** The `io()` function of an entry point. */
export type Lookup = <L extends EventsMap<L> = DefaultEventsMap, E extends EventsMap<E> = L>(
  uri?: string | IoOptions,
  opts?: IoOptions,
) => Socket<L, E>;

/** A Manager class of an entry point: the transports it offers are built in. */
export type ManagerClass = new (uri: string | undefined, opts: ManagerOptions) => Manager;

/**
 * Builds `io()` over a Manager class. Each call of `createLookup` has its own cache of
 * managers (an entry point calls it once).
 */
export function createLookup(M: ManagerClass): Lookup {
  const cache: Record<string, Manager> = {};
  return <L extends EventsMap<L> = DefaultEventsMap, E extends EventsMap<E> = L>(
    uri?: string | IoOptions,
    opts?: IoOptions,
  ): Socket<L, E> => {
    if (typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    const o: IoOptions = opts ?? {};
    const u = toURL(uri);
    const id = u.origin + (o.path ?? "/socket.io");
    const nsp = u.pathname;
    let manager = cache[id];
    // A Manager of its own when asked, or when the shared one has this namespace already.
    if (o.forceNew || o.multiplex === false || manager?.nsps[nsp]) manager = new M(uri, o);
    else if (!manager) cache[id] = manager = new M(uri, o);
    return manager.socket(nsp, o) as unknown as Socket<L, E>;
  };
}
