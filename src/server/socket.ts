/**
 * `Socket`: one client's membership of one namespace. It receives the client's events,
 * emits to it, tracks acks, rooms and per-packet middleware.
 *
 * ```
 *   new ──(middleware ok)──> connected ──(disconnect / transport closed)──> disconnected
 *     └──(middleware error: CONNECT_ERROR sent)──> discarded
 * ```
 */
import type { BroadcastFlags, EncodedPacket, RecoveredSession, Room } from "../adapter/adapter.js";
import type { EngineSocket } from "../engine/index.js";
import { ErrorCode, TimeoutError } from "../errors.js";
import {
  encodeSocketPacket,
  RESERVED_EVENTS,
  type SocketPacket,
  SocketPacketType,
} from "../protocol/socket-packet.js";
import { AckLedger, type AckResponse, type AckWriter } from "./ack-ledger.js";
import type { BroadcastOperator, RoomTarget } from "./broadcast-operator.js";
import type { Client } from "./client.js";
import type { DisconnectReason } from "./disconnect-reason.js";
import { buildHandshake, type Handshake } from "./handshake.js";
import type { Namespace } from "./namespace.js";

import { runMiddlewares } from "./run-middlewares.js";
import { pidFromTail } from "./session-pid.js";
import { emitWithAckVia, type SocketEmitFlags, SocketEmitter } from "./socket-emitter.js";
import { TypedEmitter } from "./typed-emitter.js";
import type {
  AckResult,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
} from "./typed-events.js";

/** Events the library fires on a socket. */
export interface SocketReservedEvents {
  disconnect(reason: DisconnectReason, description?: unknown): void;
  disconnecting(reason: DisconnectReason, description?: unknown): void;
  error(err: Error): void;
}

/** Per-packet middleware: `packet` is `[event, ...args]`; call `next(err?)`. */
export type PacketMiddleware = (packet: unknown[], next: (err?: Error) => void) => void;

type AnyFn = (...args: unknown[]) => void;

const NO_ROOMS: ReadonlySet<Room> = new Set();
const NO_FLAGS: BroadcastFlags = Object.freeze({});

// Socket.IO's list: the client went away without saying goodbye, so it may come back.
const RECOVERABLE_REASONS: ReadonlySet<DisconnectReason> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);
type Ack = ((...args: unknown[]) => void) & { withError?: boolean };

// Bits of a socket's #flags.
const CONNECTED = 1;
const RECOVERED = 2;

/**
 * What few sockets need, in one object made on first use: packet middleware, catch-all
 * listeners (incoming, outgoing), the acks awaited from the client, and the own-room set
 * that emits with recovery are stored through.
 */
interface SocketHooks {
  fns: PacketMiddleware[] | undefined;
  any: AnyFn[] | undefined;
  anyOutgoing: AnyFn[] | undefined;
  acks: Map<number, Ack> | undefined;
  ownRoom: ReadonlySet<Room> | undefined;
}

/**
 * One client connected to one namespace.
 * @example
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   socket.on("chat", (msg, ack) => { socket.to("lobby").emit("chat", msg); ack("ok"); });
 * });
 */
export class Socket<
  ListenEvents extends EventsMap<ListenEvents> = DefaultEventsMap,
  EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap,
  ServerSideEvents extends EventsMap<ServerSideEvents> = DefaultEventsMap,
  SocketData = Record<string, unknown>,
> extends TypedEmitter<ListenEvents, SocketReservedEvents> {
  /** The socket id, unique across the cluster and distinct from the Engine.IO session id. */
  readonly id: string;
  /** The namespace this socket belongs to. */
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  readonly #startOffset: string | undefined;
  // Memory per idle connection: `data` is created on first read (most apps never use it).
  #data: SocketData | undefined;
  #ledger: AckLedger | undefined;
  readonly #client: Client;
  // Memory per idle connection: what few sockets need, made on first use (see SocketHooks).
  #hooks: SocketHooks | undefined;
  // Memory per idle connection: `connected` and `recovered` in one small integer.
  #flags = 0;
  // Memory per idle connection: the handshake, or until it is first read when the client
  // sent no auth, when the socket joined (see handshakeOrTime).
  #handshake: Handshake | number;
  // The private part of `pid` (see sessionPid), or a whole pid of another form after "."
  // (one restored from a store written by an older version); undefined when recovery is off.
  readonly #pidTail: string | undefined;

  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client,
    id: string,
    handshake: Handshake | number,
    pidTail?: string,
    startOffset?: string,
  ) {
    super();
    this.nsp = nsp;
    this.#client = client;
    this.id = id;
    this.#handshake = handshake;
    this.#pidTail = pidTail;
    this.#startOffset = startOffset;
  }

  /**
   * The private session id a client presents to recover this socket; undefined when
   * recovery is off.
   */
  get pid(): string | undefined {
    const tail = this.#pidTail;
    if (tail === undefined) return undefined;
    return pidFromTail(this.id, tail);
  }

  /** Whether the socket is connected to its namespace. */
  get connected(): boolean {
    return (this.#flags & CONNECTED) !== 0;
  }

  /** Whether this socket's state was recovered after a reconnection. */
  get recovered(): boolean {
    return (this.#flags & RECOVERED) !== 0;
  }

  /** The handshake the client made. */
  get handshake(): Handshake {
    const handshake = this.#handshake;
    if (typeof handshake !== "number") return handshake;
    const built = buildHandshake(this.#client.conn.request, undefined, handshake);
    this.#handshake = built;
    return built;
  }

  /** Application data; visible to `fetchSockets()` on every node. */
  get data(): SocketData {
    this.#data ??= {} as SocketData;
    return this.#data;
  }

  set data(value: SocketData) {
    this.#data = value;
  }

  /** The underlying Engine.IO connection. */
  get conn(): EngineSocket {
    return this.#client.conn;
  }

  /** The Engine.IO handshake request. */
  get request(): EngineSocket["request"] {
    return this.#client.conn.request;
  }

  /** Bytes emitted to this client but not yet written to its connection. */
  get bufferedAmount(): number {
    return this.#client.conn.bufferedAmount;
  }

  /**
   * Whether this client is falling behind: at least `congestionThreshold` bytes (64 KiB by
   * default) wait to be written. A producer should pause and `await socket.drained()`; past
   * `maxBufferedBytes` the connection is closed with `"slow consumer"`.
   * @example
   * for (const chunk of chunks) {
   *   socket.emit("chunk", chunk);
   *   if (socket.congested) await socket.drained();
   * }
   */
  get congested(): boolean {
    return this.bufferedAmount >= this.nsp.server.congestionThreshold;
  }

  /**
   * Resolves once what was queued for this client has been written (or at once when
   * nothing waits), or when the socket disconnects.
   */
  drained(): Promise<void> {
    if (!this.connected || this.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#client.conn.off("drain", done);
        this.off("disconnect", done);
        resolve();
      };
      this.#client.conn.on("drain", done);
      this.once("disconnect", done);
    });
  }

  /** Whether the socket is disconnected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** The rooms this socket is in (its own id included). */
  get rooms(): ReadonlySet<Room> {
    return this.nsp.adapter.socketRooms(this.id) ?? new Set();
  }

  /**
   * Emits an event to this client. A trailing function receives the client's ack.
   * @example socket.emit("hello", "world", (reply) => console.log(reply));
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.emitWithFlags({}, ev, args);
  }

  /** Emits and resolves with the client's ack; rejects after `timeout()` elapses. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<EmitEvents, Ev>
  ): Promise<AckResult<EmitEvents, Ev>> {
    return emitWithAckVia(this, {}, ev, args);
  }

  /** Emits a `"message"` event. */
  send(...args: unknown[]): this {
    this.emitWithFlags({}, "message", args);
    return this;
  }

  /** @see Socket.send */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  /** Emits with these flags; used by `SocketEmitter`. @internal */
  emitWithFlags(flags: SocketEmitFlags, ev: string, args: readonly unknown[]): boolean {
    if (RESERVED_EVENTS.has(ev))
      throw new Error(`cannot emit "${ev}": it is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    let id: number | undefined;
    const last = data[data.length - 1];
    if (typeof last === "function") {
      data.pop();
      id = this.nsp.nextAckId();
      this.#registerAck(id, last as Ack, flags.timeout);
    }
    const outgoing = this.#hooks?.anyOutgoing;
    if (outgoing !== undefined) for (const fn of [...outgoing]) fn(...data);
    const packet: SocketPacket = { type: SocketPacketType.EVENT, nsp: this.nsp.name, data, id };
    if (this.#pidTail !== undefined && id === undefined && flags.volatile !== true) {
      // Through the adapter, so the packet is stored with an offset and can be replayed after
      // a reconnection (as Socket.IO does with recovery on).
      const hooks = this.#hooksFor();
      hooks.ownRoom ??= new Set([this.id]);
      this.nsp.adapter.broadcast(packet, { rooms: hooks.ownRoom, except: NO_ROOMS, flags });
    } else {
      this.#client.writePacket(packet, flags);
    }
    return true;
  }

  /** Emits with a timeout: the ack receives `(err, ...args)`. Returns a new emitter. */
  timeout(ms: number): SocketEmitter<EmitEvents> {
    return new SocketEmitter(this, { timeout: ms });
  }

  /** Drops the next packet if the transport cannot take it right now. */
  get volatile(): SocketEmitter<EmitEvents> {
    return new SocketEmitter(this, { volatile: true });
  }

  /** Sets the compress flag for the next packet. */
  compress(compress: boolean): SocketEmitter<EmitEvents> {
    return new SocketEmitter(this, { compress });
  }

  /** Targets every other socket of the namespace. */
  get broadcast(): BroadcastOperator<EmitEvents, SocketData> {
    return this.nsp.except(this.id);
  }

  /** Targets the room(s), except this socket. @see BroadcastOperator.to */
  to(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.broadcast.to(room);
  }

  /** @see Socket.to */
  in(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Targets every other socket except those in the room(s). @see BroadcastOperator.except */
  except(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.broadcast.except(room);
  }

  /** Targets this node only. @see BroadcastOperator.local */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.broadcast.local;
  }

  /** Joins room(s). */
  join(rooms: RoomTarget): void {
    this.nsp.adapter.addAll(this.id, typeof rooms === "string" ? [rooms] : rooms);
  }

  /** Leaves a room. */
  leave(room: Room): void {
    this.nsp.adapter.del(this.id, room);
  }

  /** Registers per-packet middleware, run before each incoming event reaches listeners. */
  use(fn: PacketMiddleware): this {
    const hooks = this.#hooksFor();
    hooks.fns ??= [];
    hooks.fns.push(fn);
    return this;
  }

  /** Adds a listener for every incoming event: `(event, ...args)`. */
  onAny(listener: (event: string, ...args: unknown[]) => void): this {
    const hooks = this.#hooksFor();
    hooks.any ??= [];
    hooks.any.push(listener as AnyFn);
    return this;
  }

  /** Adds a catch-all listener that runs before the others. */
  prependAny(listener: (event: string, ...args: unknown[]) => void): this {
    const hooks = this.#hooksFor();
    hooks.any ??= [];
    hooks.any.unshift(listener as AnyFn);
    return this;
  }

  /** Removes a catch-all listener, or all of them. */
  offAny(listener?: (event: string, ...args: unknown[]) => void): this {
    if (this.#hooks !== undefined)
      this.#hooks.any = removeFrom(this.#hooks.any, listener as AnyFn | undefined);
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): ((event: string, ...args: unknown[]) => void)[] {
    return [...(this.#hooks?.any ?? [])];
  }

  /** Adds a listener for every outgoing event: `(event, ...args)`. */
  onAnyOutgoing(listener: (event: string, ...args: unknown[]) => void): this {
    const hooks = this.#hooksFor();
    hooks.anyOutgoing ??= [];
    hooks.anyOutgoing.push(listener as AnyFn);
    return this;
  }

  /** Adds an outgoing catch-all listener that runs before the others. */
  prependAnyOutgoing(listener: (event: string, ...args: unknown[]) => void): this {
    const hooks = this.#hooksFor();
    hooks.anyOutgoing ??= [];
    hooks.anyOutgoing.unshift(listener as AnyFn);
    return this;
  }

  /** Removes an outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: (event: string, ...args: unknown[]) => void): this {
    if (this.#hooks !== undefined)
      this.#hooks.anyOutgoing = removeFrom(this.#hooks.anyOutgoing, listener as AnyFn | undefined);
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): ((event: string, ...args: unknown[]) => void)[] {
    return [...(this.#hooks?.anyOutgoing ?? [])];
  }

  /**
   * Disconnects from this namespace (the client is told, and does not reconnect by itself);
   * with `close`, closes the whole underlying connection.
   */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.#client.disconnectAll();
      return this;
    }
    this.#client.writePacket({ type: SocketPacketType.DISCONNECT, nsp: this.nsp.name }, {});
    this.onClose("server namespace disconnect");
    return this;
  }

  /**
   * Marks the socket connected and sends the CONNECT packet; for a recovered session, joins
   * its rooms again, restores its data and replays the packets it missed, in order. @internal
   */
  onConnect(session?: RecoveredSession): void {
    this.#flags |= CONNECTED;
    this.join(this.id);
    const pid = this.pid;
    const data = pid === undefined ? { sid: this.id } : { sid: this.id, pid };
    this.#client.writePacket({ type: SocketPacketType.CONNECT, nsp: this.nsp.name, data }, {});
    if (session === undefined) return;
    this.#flags |= RECOVERED;
    this.#ledger = AckLedger.revive(session.acks, this.nsp.server.recovery?.maxAcks ?? 1000);
    this.#ledger?.attach(this.#ackWriter());
    this.join(session.rooms);
    this.data = session.data as SocketData;
    for (const missed of session.missedPackets) {
      this.#client.writePacket(
        { type: SocketPacketType.EVENT, nsp: this.nsp.name, data: missed },
        {},
      );
    }
  }

  /** Handles a decoded packet for this namespace. @internal */
  onPacket(packet: SocketPacket): void {
    switch (packet.type) {
      case SocketPacketType.EVENT:
      case SocketPacketType.BINARY_EVENT:
        this.#onEvent(packet);
        return;
      case SocketPacketType.ACK:
      case SocketPacketType.BINARY_ACK:
        this.#onAck(packet);
        return;
      case SocketPacketType.DISCONNECT:
        this.onClose("client namespace disconnect");
        return;
      default:
        return;
    }
  }

  /** Closes the socket: leaves rooms, fires `disconnecting` then `disconnect`. @internal */
  onClose(reason: DisconnectReason, description?: unknown): void {
    if (!this.connected) return;
    this.emitReserved("disconnecting", reason, description);
    this.#ledger?.attach(undefined);
    if (this.#pidTail !== undefined && RECOVERABLE_REASONS.has(reason)) this.#persist();
    this.nsp.adapter.delAll(this.id);
    this.nsp.removeSocket(this);
    this.#client.removeSocket(this);
    this.#flags &= ~CONNECTED;
    this.#rejectPendingAcks();
    this.emitReserved("disconnect", reason, description);
  }

  /**
   * Gives this socket's connection up because its client came back on a new one: the
   * session is persisted (reason `"transport close"`) so the new connection can restore it.
   * @internal
   */
  takeOver(): void {
    this.#client.abandon();
  }

  /** Reports an error to `error` listeners, or to the server's logger when there are none. @internal */
  onError(err: Error): void {
    if (this.listenerCount("error") > 0) this.emitReserved("error", err);
    else this.nsp.server.log(`${this.nsp.name} ${this.id}: unhandled socket error: ${err.message}`);
  }

  #persist(): void {
    const session = {
      sid: this.id,
      pid: this.pid!,
      rooms: [...this.rooms],
      data: this.data,
      startOffset: this.#startOffset,
      acks: this.#ledger,
    };
    const done = this.nsp.adapter.persistSession(session).catch((err: unknown) => {
      this.nsp.server.log(`${this.nsp.name} ${this.id}: could not persist session: ${String(err)}`);
    });
    this.nsp.trackPersist(session.pid, done);
  }

  #onEvent(packet: SocketPacket): void {
    const id = packet.id;
    // A resent emit (same ack id, same session) is answered from the ledger, never re-run.
    if (id !== undefined && this.#ledgerFor()?.admit(id) === false) return;
    const args = (packet.data as unknown[]).slice();
    if (id !== undefined) args.push(this.#makeAck(id));
    const hooks = this.#hooks;
    if (hooks?.any !== undefined) for (const fn of [...hooks.any]) fn(...args);
    if (hooks?.fns === undefined) {
      this.#dispatch(args);
      return;
    }
    runMiddlewares(hooks.fns, args, (err) => {
      if (err === undefined) {
        this.#dispatch(args);
        return;
      }
      if (id !== undefined) this.#ledger?.forget(id);
      this.onError(err);
    });
  }

  #hooksFor(): SocketHooks {
    this.#hooks ??= {
      fns: undefined,
      any: undefined,
      anyOutgoing: undefined,
      acks: undefined,
      ownRoom: undefined,
    };
    return this.#hooks;
  }

  /** The session's ack ledger, created on first use; undefined when recovery is off. */
  #ledgerFor(): AckLedger | undefined {
    if (this.#pidTail === undefined) return undefined;
    if (this.#ledger === undefined) {
      this.#ledger = new AckLedger(this.nsp.server.recovery?.maxAcks ?? 1000);
      this.#ledger.attach(this.#ackWriter());
    }
    return this.#ledger;
  }

  /** The ledger's way to this socket; made only for sessions that have a ledger. */
  #ackWriter(): AckWriter {
    return (id, response) => this.#writeAck(id, response);
  }

  /**
   * Writes the ACK for `id`: `response` is the handler's arguments, or the text of an ACK
   * packet the ledger kept. Returns the packet's text when it is one string.
   */
  #writeAck(id: number, response: AckResponse): string | undefined {
    if (!this.connected) return undefined; // the client will resend, and get it from the ledger
    if (typeof response === "string") {
      this.#client.writeText(response, NO_FLAGS);
      return response;
    }
    const packet = { type: SocketPacketType.ACK, nsp: this.nsp.name, id, data: response };
    const encoded = encodeSocketPacket(packet);
    this.#client.writeParts(encoded, NO_FLAGS);
    return encoded.length === 1 ? (encoded[0] as string) : undefined;
  }

  #dispatch(args: unknown[]): void {
    if (!this.connected) return; // a packet that raced a disconnect is dropped
    this.emitUntyped(args[0] as string, args.slice(1));
  }

  #makeAck(id: number): AnyFn {
    const ledger = this.#ledger;
    if (ledger !== undefined) return (...args: unknown[]) => ledger.complete(id, args);
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return; // an ack is sent at most once
      sent = true;
      this.#writeAck(id, args);
    };
  }

  #onAck(packet: SocketPacket): void {
    const id = packet.id;
    const acks = this.#hooks?.acks;
    const ack = id === undefined ? undefined : acks?.get(id);
    if (ack === undefined || id === undefined) return; // unknown or late ack: ignored, as in Socket.IO
    acks!.delete(id);
    const args = packet.data as unknown[];
    if (ack.withError === true) ack(null, ...args);
    else ack(...args);
  }

  /** Writes a packet encoded once for a broadcast. @internal */
  writeEncoded(encoded: EncodedPacket, flags: BroadcastFlags): boolean {
    return this.#client.writeEncoded(encoded, flags);
  }

  /** Registers an ack for a broadcast packet this socket was sent. @internal */
  registerBroadcastAck(id: number, onAck: (args: unknown[]) => void): void {
    const hooks = this.#hooksFor();
    hooks.acks ??= new Map();
    hooks.acks.set(id, (...args: unknown[]) => onAck(args));
  }

  #registerAck(id: number, ack: Ack, timeout: number | undefined): void {
    const hooks = this.#hooksFor();
    hooks.acks ??= new Map();
    const acks = hooks.acks;
    if (timeout === undefined) {
      acks.set(id, ack);
      return;
    }
    const timer = setTimeout(() => {
      acks.delete(id);
      ack(new TimeoutError(ErrorCode.ACK_TIMEOUT, "operation has timed out"));
    }, timeout);
    const wrapped: Ack = (...args: unknown[]) => {
      clearTimeout(timer);
      ack(...args);
    };
    wrapped.withError = true;
    acks.set(id, wrapped);
  }

  #rejectPendingAcks(): void {
    const acks = this.#hooks?.acks;
    if (acks === undefined) return;
    const pending = [...acks.values()];
    acks.clear();
    // Acks with a timeout learn at once that no answer can come; others are dropped, as in Socket.IO.
    for (const ack of pending) {
      if (ack.withError === true) ack(new Error("socket has been disconnected"));
    }
  }
}

function removeFrom(list: AnyFn[] | undefined, fn: AnyFn | undefined): AnyFn[] | undefined {
  if (list === undefined || fn === undefined) return undefined;
  const index = list.indexOf(fn);
  if (index !== -1) list.splice(index, 1);
  return list.length === 0 ? undefined : list;
}
