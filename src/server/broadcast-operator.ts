/**
 * The immutable broadcast builder: `io.to("room").except("other").timeout(1000).emit(...)`.
 * Every call returns a new operator; `Server`, `Namespace` and `Socket` delegate their
 * broadcast methods here in one line each.
 */
import type { Adapter, BroadcastFlags, Room, SocketDetails } from "../adapter/adapter.js";
import { ErrorCode, TimeoutError } from "../errors.js";
import { RESERVED_EVENTS, SocketPacketType } from "../protocol/socket-packet.js";
import { RemoteSocket } from "./remote-socket.js";

import type {
  AckResult,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
} from "./typed-events.js";

/** Target rooms or one room. */
export type RoomTarget = Room | readonly Room[];

const EMPTY: ReadonlySet<Room> = new Set();

function addRooms(set: ReadonlySet<Room>, target: RoomTarget): ReadonlySet<Room> {
  const next = new Set(set);
  if (typeof target === "string") next.add(target);
  else for (const room of target) next.add(room);
  return next;
}

/**
 * Targets a set of sockets and emits to them.
 * @example
 * io.to("room1").except("banned").emit("news", { id: 1 });
 * const responses = await io.timeout(2000).emitWithAck("ping");
 */
export class BroadcastOperator<
  EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap,
  SocketData = unknown,
> {
  readonly #adapter: Adapter;
  readonly #nsp: string;
  readonly #rooms: ReadonlySet<Room>;
  readonly #except: ReadonlySet<Room>;
  readonly #flags: BroadcastFlags;

  constructor(
    adapter: Adapter,
    nsp: string,
    rooms: ReadonlySet<Room> = EMPTY,
    except: ReadonlySet<Room> = EMPTY,
    flags: BroadcastFlags = {},
  ) {
    this.#adapter = adapter;
    this.#nsp = nsp;
    this.#rooms = rooms;
    this.#except = except;
    this.#flags = flags;
  }

  /** Targets sockets in the given room(s), in addition to rooms already targeted. */
  to(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      this.#nsp,
      addRooms(this.#rooms, room),
      this.#except,
      this.#flags,
    );
  }

  /** @see BroadcastOperator.to */
  in(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Skips sockets in the given room(s). */
  except(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      this.#nsp,
      this.#rooms,
      addRooms(this.#except, room),
      this.#flags,
    );
  }

  /** Sets whether the packet is compressed. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ compress });
  }

  /** Drops the packet for sockets that cannot take it right now, instead of buffering it. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ volatile: true });
  }

  /** Targets this node's sockets only (no effect with the in-memory adapter). */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ local: true });
  }

  /** Waits at most `ms` for acknowledgements; the ack then receives `(err, responses)`. */
  timeout(ms: number): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ timeout: ms });
  }

  /**
   * Emits to every targeted socket. A trailing function collects acks: it receives
   * `(err, responses)` once every socket answered or the timeout (required) elapsed.
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (RESERVED_EVENTS.has(ev))
      throw new Error(`cannot emit "${ev}": it is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const last = data[data.length - 1];
    const opts = { rooms: this.#rooms, except: this.#except, flags: this.#flags };
    if (typeof last !== "function") {
      this.#adapter.broadcast({ type: SocketPacketType.EVENT, nsp: this.#nsp, data }, opts);
      return true;
    }
    data.pop();
    this.#broadcastWithAck(data, last as (err: Error | null, responses: unknown[]) => void);
    return true;
  }

  /** Emits and resolves with every targeted socket's ack response; rejects on timeout. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<EmitEvents, Ev>
  ): Promise<AckResult<EmitEvents, Ev>[]> {
    return new Promise((resolve, reject) => {
      const ack = (err: Error | null, responses: unknown[]): void => {
        if (err !== null) reject(err);
        else resolve(responses as AckResult<EmitEvents, Ev>[]);
      };
      (this.emit as (ev: string, ...rest: unknown[]) => boolean)(ev, ...args, ack);
    });
  }

  /** Ids of the targeted sockets. @deprecated Use {@link BroadcastOperator.fetchSockets}. */
  allSockets(): Promise<Set<string>> {
    return this.#adapter.sockets(this.#rooms);
  }

  /** The targeted sockets, on every node, as {@link RemoteSocket}s. */
  async fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    const found = await this.#adapter.fetchSockets(this.#options());
    return found.map(
      (details: SocketDetails) =>
        new RemoteSocket<EmitEvents, SocketData>(this.#adapter, this.#nsp, details),
    );
  }

  /** Makes the targeted sockets join room(s). */
  socketsJoin(room: RoomTarget): void {
    this.#adapter.addSockets(this.#options(), typeof room === "string" ? [room] : room);
  }

  /** Makes the targeted sockets leave room(s). */
  socketsLeave(room: RoomTarget): void {
    this.#adapter.delSockets(this.#options(), typeof room === "string" ? [room] : room);
  }

  /** Disconnects the targeted sockets; with `close`, their whole connections too. */
  disconnectSockets(close = false): void {
    this.#adapter.disconnectSockets(this.#options(), close);
  }

  #options() {
    return { rooms: this.#rooms, except: this.#except, flags: this.#flags };
  }

  #withFlags(flags: BroadcastFlags): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#nsp, this.#rooms, this.#except, {
      ...this.#flags,
      ...flags,
    });
  }

  #broadcastWithAck(data: unknown[], ack: (err: Error | null, responses: unknown[]) => void): void {
    const timeout = this.#flags.timeout;
    if (timeout === undefined) {
      throw new Error("cannot broadcast with an ack without a timeout: use .timeout(ms).emit(...)");
    }
    const responses: unknown[] = [];
    let expectedClients = 0;
    let answeredServers = 0;
    let expectedServers = -1;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      ack(new TimeoutError(ErrorCode.ACK_TIMEOUT, "operation has timed out"), responses);
    }, timeout);
    const check = (): void => {
      if (done || expectedServers !== answeredServers || responses.length !== expectedClients)
        return;
      done = true;
      clearTimeout(timer);
      ack(null, responses);
    };
    this.#adapter.broadcastWithAck(
      { type: SocketPacketType.EVENT, nsp: this.#nsp, data },
      this.#options(),
      (count) => {
        expectedClients += count;
        answeredServers++;
        check();
      },
      (args) => {
        if (done) return;
        responses.push(args[0]);
        check();
      },
    );
    this.#adapter.serverCount().then(
      (count) => {
        expectedServers = this.#flags.local === true ? 1 : count;
        check();
      },
      () => {},
    );
  }
}
