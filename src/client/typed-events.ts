/**
 * Type helpers for typed events on the client, in Socket.IO's generic order:
 * `Socket<ListenEvents, EmitEvents>`. Events are declared as interface maps:
 *
 * ```ts
 * interface ServerToClient { chat(msg: string): void }
 * interface ClientToServer { join(room: string, ack: (ok: boolean) => void): void }
 * const socket: Socket<ServerToClient, ClientToServer> = io("https://example.com");
 * ```
 *
 * Without a map, every event is allowed and its arguments are `unknown` (never `any`).
 * This file holds types only: it adds nothing to the bundle.
 */
import type { SocketPacket } from "../protocol/socket-packet.js";

export type {
  AllButLast,
  AnyListener,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  Last,
  ListenerOf,
} from "../protocol/typed-events.js";

/** Names usable with `on`/`off`: reserved events plus the user's listen events. */
export type ListenNames<L, R> = (keyof R & string) | (keyof L & string);

/**
 * What an ack callback receives as its result: its first parameter, or its second when the
 * first is the error that `timeout()` adds. `unknown` when not a function.
 */
export type AckResult<F> = F extends (...args: infer P) => unknown
  ? P extends [Error | null, infer R, ...unknown[]]
    ? R
    : P extends [infer A, ...unknown[]]
      ? A
      : unknown
  : unknown;

type PrependError<P extends unknown[]> = P extends [...infer H, infer A]
  ? A extends (...args: infer AP) => infer R
    ? [...H, (err: Error | null, ...args: AP) => R]
    : P
  : P;

/**
 * The map seen after `socket.timeout(ms)`: each trailing ack callback receives an error
 * first (`null` on success).
 */
export type DecorateAcknowledgements<M> = {
  [K in keyof M]: M[K] extends (...args: infer P) => infer R
    ? (...args: PrependError<P>) => R
    : M[K];
};

/** Why a socket disconnected; the strings match socket.io-client's. */
export type DisconnectReason =
  | "io server disconnect"
  | "io client disconnect"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error"
  | "forced close";

/** Extra detail passed with `disconnect` when a transport failed. */
export type DisconnectDescription = Error | { description: string; context?: unknown } | undefined;

/** An error carrying the server's `data`, as delivered with `connect_error`. */
export interface ConnectError extends Error {
  /** The `data` the server attached to the refusal (e.g. `next(Object.assign(err, { data }))`). */
  data?: unknown;
}

/** Events a client `Socket` emits itself. */
export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: ConnectError) => void;
  disconnect: (reason: DisconnectReason, description?: DisconnectDescription) => void;
}

/** Events a `Manager` emits (`packet`: each decoded Socket.IO packet, for any namespace). */
export interface ManagerReservedEvents {
  open: () => void;
  packet: (packet: SocketPacket) => void;
  error: (err: Error) => void;
  ping: () => void;
  close: (reason: DisconnectReason, description?: DisconnectDescription) => void;
  reconnect_failed: () => void;
  reconnect_attempt: (attempt: number) => void;
  reconnect_error: (err: Error) => void;
  reconnect: (attempt: number) => void;
}
