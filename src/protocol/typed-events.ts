/**
 * The type helpers for typed events that server and client share, in Socket.IO's shape:
 * events are interface maps from event name to listener signature, e.g.
 *
 * ```ts
 * interface ServerToClient { chat(msg: string): void }
 * interface ClientToServer { join(room: string, ack: (ok: boolean) => void): void }
 * ```
 *
 * Without a map, every event is allowed and its arguments are `unknown` (never `any`):
 * annotate them, or declare a map. Listeners are checked bivariantly (as methods are), so a
 * listener for an unknown-typed event may narrow its parameters. Types only: nothing here
 * reaches a bundle. `src/server/typed-events.ts` and `src/client/typed-events.ts` add the
 * few helpers specific to each end.
 */

/** A listener whose parameters are checked bivariantly, like a method's. */
export type AnyListener = {
  // The method form makes TypeScript compare parameters bivariantly (the "bivariance hack").
  bivariant(...args: unknown[]): void;
}["bivariant"];

/**
 * The constraint on an events map `T`: every member is a listener. Used F-bounded
 * (`L extends EventsMap<L>`) so that plain interfaces qualify without an index signature
 * and without `any`.
 */
export type EventsMap<T> = { [K in keyof T]: AnyListener };

/** The map used when none is given: any event, `unknown` arguments. */
export interface DefaultEventsMap {
  [event: string]: AnyListener;
}

/** The event names of a map. */
export type EventNames<Map> = keyof Map & string;

/** The parameters of one event's listener. */
export type EventParams<Map, Ev extends keyof Map> = Map[Ev] extends (...args: infer P) => unknown
  ? P
  : never;

/** The listener for `Ev`: a reserved event's own signature, else the map's. */
export type ListenerOf<Map, Reserved, Ev> = Ev extends keyof Reserved
  ? Reserved[Ev]
  : Ev extends keyof Map
    ? Map[Ev]
    : never;

/** The last element of a tuple (`unknown` for a plain array). */
export type Last<T extends unknown[]> = T extends [...unknown[], infer L] ? L : unknown;

/** A tuple without its last element. */
export type AllButLast<T extends unknown[]> = T extends [...infer H, unknown] ? H : unknown[];
