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

import type { AllButLast, EventNames, EventParams, Last } from "../protocol/typed-events.js";

export type {
  AnyListener,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  ListenerOf,
} from "../protocol/typed-events.js";

/** The arguments an ack callback receives, or `unknown[]` for untyped events. */
export type AckArgs<Map, Ev extends EventNames<Map>> =
  Last<EventParams<Map, Ev>> extends (...args: infer A) => void ? A : unknown[];

/** The value `emitWithAck` resolves to: the ack's first argument. */
export type AckResult<Map, Ev extends EventNames<Map>> =
  AckArgs<Map, Ev> extends [infer First, ...unknown[]] ? First : unknown;

/** An event's arguments without the trailing ack callback. */
export type ArgsWithoutAck<Map, Ev extends EventNames<Map>> =
  Last<EventParams<Map, Ev>> extends (...args: never[]) => void
    ? AllButLast<EventParams<Map, Ev>>
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
