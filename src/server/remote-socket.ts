/**
 * A socket returned by `fetchSockets()`: a snapshot of its id, handshake, rooms and data,
 * with methods that act on it through the adapter, whichever node it lives on.
 */
import type { Adapter, BroadcastOptions, Room, SocketDetails } from "../adapter/adapter.js";
import { RESERVED_EVENTS, SocketPacketType } from "../protocol/socket-packet.js";
import type { Handshake } from "./handshake.js";

import type { DefaultEventsMap, EventNames, EventParams, EventsMap } from "./typed-events.js";

/** A socket on this node or another, as seen from `fetchSockets()`. */
export class RemoteSocket<
  EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap,
  SocketData = unknown,
> {
  /** The socket id. */
  readonly id: string;
  /** The handshake details captured when the socket connected. */
  readonly handshake: Handshake;
  /** The rooms the socket was in when fetched. */
  readonly rooms: ReadonlySet<Room>;
  /** The socket's `data` when fetched. */
  readonly data: SocketData;
  readonly #adapter: Adapter;
  readonly #nsp: string;

  constructor(adapter: Adapter, nsp: string, details: SocketDetails) {
    this.#adapter = adapter;
    this.#nsp = nsp;
    this.id = details.id;
    this.handshake = details.handshake as Handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data as SocketData;
  }

  /** Emits an event to this socket (no acks). */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (RESERVED_EVENTS.has(ev))
      throw new Error(`cannot emit "${ev}": it is a reserved event name`);
    this.#adapter.broadcast(
      { type: SocketPacketType.EVENT, nsp: this.#nsp, data: [ev, ...args] },
      this.#target(),
    );
    return true;
  }

  /** Makes the socket join room(s). */
  join(room: Room | readonly Room[]): void {
    this.#adapter.addSockets(this.#target(), typeof room === "string" ? [room] : room);
  }

  /** Makes the socket leave a room. */
  leave(room: Room): void {
    this.#adapter.delSockets(this.#target(), [room]);
  }

  /** Disconnects the socket; with `close`, its whole connection too. */
  disconnect(close = false): this {
    this.#adapter.disconnectSockets(this.#target(), close);
    return this;
  }

  #target(): BroadcastOptions {
    return { rooms: new Set([this.id]), except: new Set(), flags: {} };
  }
}
