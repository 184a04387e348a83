/**
 * Type helpers for typed events, in Socket.IO's shape: events are interface maps from event
 * name to listener signature, e.g.
 *
 * ```ts
 * interface ServerToClient { chat(msg: string): void; tick(n: number): void }
 * interface ClientToServer { chat(msg: string, ack: (ok: boolean) => void): void }
 * const io = new Server<ClientToServer, ServerToClient>();
 * ```
 *
 * Without a map, every event is allowed and its arguments are `unknown`: annotate them, or
 * declare a map. Listeners are checked bivariantly (as methods are), so a listener for an
 * unknown-typed event may narrow its parameters.
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
export type EventParams<Map, Ev extends EventNames<Map>> = Map[Ev] extends (
  ...args: infer P
) => unknown
  ? P
  : never;

/** The listener for `Ev`: a reserved event's own signature, else the map's. */
export type ListenerOf<Map, Reserved, Ev> = Ev extends keyof Reserved
  ? Reserved[Ev]
  : Ev extends keyof Map
    ? Map[Ev]
    : never;

/** The last parameter of a tuple, when it is a function (an ack callback). */
type LastParam<T extends unknown[]> = T extends [...unknown[], infer L] ? L : never;

/** The tuple without its last element. */
type DropLast<T extends unknown[]> = T extends [...infer Head, unknown] ? Head : T;

/** The arguments an ack callback receives, or `unknown[]` for untyped events. */
export type AckArgs<Map, Ev extends EventNames<Map>> =
  LastParam<EventParams<Map, Ev>> extends (...args: infer A) => void ? A : unknown[];

/** The value `emitWithAck` resolves to: the ack's first argument. */
export type AckResult<Map, Ev extends EventNames<Map>> =
  AckArgs<Map, Ev> extends [infer First, ...unknown[]] ? First : unknown;

/** An event's arguments without the trailing ack callback. */
export type ArgsWithoutAck<Map, Ev extends EventNames<Map>> =
  LastParam<EventParams<Map, Ev>> extends (...args: never[]) => void
    ? DropLast<EventParams<Map, Ev>>
    : EventParams<Map, Ev>;

/**
 * An emit signature where the ack callback takes an `Error` first, as with `timeout()`:
 * `(err, ...ackArgs)`. For broadcasts with acks the callback receives arrays of responses.
 */
export type TimeoutAck<Args extends unknown[]> = (err: Error | null, ...args: Args) => void;

/** Events fired by the library itself; they cannot be emitted to clients. */
export type ReservedEventName =
  | "connect"
  | "connect_error"
  | "disconnect"
  | "disconnecting"
  | "newListener"
  | "removeListener";
