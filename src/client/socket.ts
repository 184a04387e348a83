/**
 * A client socket: one namespace over a shared Manager connection. Handles the namespace
 * handshake (CONNECT with `auth`), events and acknowledgements both ways, the offline send
 * buffer, and the `ackTimeout`/`retries` queue.
 *
 * ```
 *  connect() ──> active ──CONNECT sent──> connected ──disconnect()──> inactive
 *                   ▲  (manager open)        │ transport closed
 *                   └─── reconnect ──────────┘ (stays active, buffers emits)
 *  CONNECT_ERROR or "io server disconnect": inactive until the app calls connect()
 * ```
 */
import { HandshakeError, TimeoutError, TransportError } from "../errors.js";
import { type SocketPacket, SocketPacketType as T } from "../protocol/socket-packet.js";
import { Emitter } from "./emitter.js";
import type { Manager } from "./manager.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  DisconnectDescription,
  DisconnectReason,
  EventNames,
  EventParams,
  EventsMap,
  FirstArg,
  Last,
  SocketReservedEvents,
} from "./typed-events.js";

/** Per-socket options; names follow socket.io-client, `maxBufferedPackets` is ours. */
export interface SocketOptions {
  /** Sent with each namespace CONNECT: an object, or a function called on every (re)connect. */
  auth?: SocketAuth;
  /** Default timeout in ms for acknowledgements (then the ack gets an error first). */
  ackTimeout?: number;
  /** Re-send an unacknowledged emit up to this many times; emits are then sent one at a time. */
  retries?: number;
  /**
   * Most emits kept while disconnected (and most queued with `retries`). Default 1000. When
   * full, a new emit is refused: it is not sent, and its ack (if it takes an error first)
   * gets a `TransportError`. Already buffered emits keep their order and are all delivered.
   */
  maxBufferedPackets?: number;
}

/** `auth` payload, or a function producing it asynchronously. */
export type SocketAuth =
  | Record<string, unknown>
  | ((cb: (data?: Record<string, unknown>) => void) => void);

/** What a Socket needs from its Manager, handed over privately at creation. */
export interface ManagerPort {
  send(packet: SocketPacket): void;
  /** Registers the socket's hook, through which the Manager reports to it. */
  hook(fn: SocketHook): void;
  /** The socket went inactive: the Manager closes when none is active. */
  release(): void;
  state(): "closed" | "opening" | "open" | "reconnecting";
}

/** How the Manager reports to a socket: connection open, a packet for it, an error, a close. */
export type SocketHook = (
  ev: "open" | "packet" | "error" | "close",
  a?: unknown,
  b?: DisconnectDescription,
) => void;

type Fn = (...args: unknown[]) => void;
interface Flags {
  volatile?: boolean;
  compress?: boolean;
  timeout?: number;
  errorFirst?: boolean;
  queued?: boolean;
}
interface Queued {
  args: unknown[];
  flags: Flags;
  tries: number;
  pending: boolean;
}

const RESERVED = [
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
];

/**
 * A socket bound to one namespace. Create it with `io()` or `manager.socket(nsp)`.
 *
 * @example
 * const socket = io("https://example.com/chat", { auth: { token } });
 * socket.on("message", (text) => console.log(text));
 * const reply = await socket.timeout(5000).emitWithAck("join", "room1");
 */
export class Socket<
  L extends EventsMap<L> = DefaultEventsMap,
  E extends EventsMap<E> = L,
> extends Emitter<L, SocketReservedEvents> {
  /** The Manager carrying this socket. */
  readonly io: Manager<L, E>;
  /** Namespace, e.g. `"/"` or `"/admin"`. */
  readonly nsp: string;
  /** Session id given by the server while connected. */
  id: string | undefined;
  /** Whether the namespace handshake is done and the connection up. */
  connected = false;
  /** Whether the last connection restored the previous session (connection state recovery). */
  recovered = false;
  /** Sent with the namespace CONNECT; changes apply to the next (re)connection. */
  auth: SocketAuth | undefined;
  /** Emits waiting for a connection, bounded by `maxBufferedPackets`. */
  sendBuffer: SocketPacket[] = [];
  /** Events received before the connection completed. */
  receiveBuffer: unknown[][] = [];
  #opts: SocketOptions;
  #port: ManagerPort;
  #flags: Flags = {};
  #ids = 0;
  #acks = new Map<number, [Fn, ((err: Error) => void)?]>();
  #any: Fn[] = [];
  #anyOut: Fn[] = [];
  #queue: Queued[] = [];
  #active = false;
  #pid: string | undefined;
  #offset: string | undefined;

  /** Use `io()` or `manager.socket()`; the port is the Manager's private link. */
  constructor(io: Manager<L, E>, nsp: string, opts: SocketOptions, port: ManagerPort) {
    super();
    this.io = io;
    this.nsp = nsp;
    this.#opts = opts;
    this.#port = port;
    this.auth = opts.auth;
    port.hook((ev, a, b) => {
      if (!this.#active) return;
      if (ev === "open") this.#onOpen();
      else if (ev === "packet") this.#onPacket(a as SocketPacket);
      else if (ev === "close") this.#onClose(a as DisconnectReason, b);
      else if (!this.connected) this.emitReserved("connect_error", a as Error);
    });
    if (io.opts.autoConnect !== false) this.connect();
  }

  /** `!connected`. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** Whether the socket is connected or trying to (it reconnects with its Manager). */
  get active(): boolean {
    return this.#active;
  }

  /** Connects (or reconnects after `disconnect()` or a refusal). */
  connect(): this {
    if (this.connected) return this;
    this.#active = true;
    const state = this.#port.state();
    if (state !== "reconnecting") this.io.open();
    if (state === "open") this.#onOpen();
    return this;
  }

  /** @see {@link Socket.connect} */
  open(): this {
    return this.connect();
  }

  /** Leaves the namespace; the connection closes when no socket uses it any more. */
  disconnect(): this {
    if (this.connected) this.#port.send({ type: T.DISCONNECT, nsp: this.nsp });
    this.#destroy();
    if (this.connected) this.#onClose("io client disconnect");
    return this;
  }

  /** @see {@link Socket.disconnect} */
  close(): this {
    return this.disconnect();
  }

  /** Emits an event; a trailing function receives the acknowledgement. Buffered while offline. */
  emit<Ev extends EventNames<E>>(ev: Ev, ...args: EventParams<E, Ev>): this {
    this.#emit(ev, args, this.#take());
    return this;
  }

  /** Emits `"message"`. */
  send(...args: unknown[]): this {
    this.#emit("message", args, this.#take());
    return this;
  }

  /** Emits and resolves with the acknowledgement (rejects on timeout or disconnection). */
  emitWithAck<Ev extends EventNames<E>>(
    ev: Ev,
    ...args: AllButLast<EventParams<E, Ev>>
  ): Promise<FirstArg<Last<EventParams<E, Ev>>>> {
    const flags = { ...this.#take(), errorFirst: true };
    return new Promise((resolve, reject) => {
      const ack = (err: unknown, value: never) => (err ? reject(err) : resolve(value));
      this.#emit(ev, [...args, ack], flags);
    });
  }

  /** Sets the ack timeout of the next emit: its ack then receives an error first. */
  timeout(ms: number): Socket<L, DecorateAcknowledgements<E>> {
    this.#flags.timeout = ms;
    return this as unknown as Socket<L, DecorateAcknowledgements<E>>;
  }

  /** The next emit is dropped, not buffered, when not connected. */
  get volatile(): this {
    this.#flags.volatile = true;
    return this;
  }

  /** Compression flag of the next emit (accepted for compatibility; transports ignore it). */
  compress(compress: boolean): this {
    this.#flags.compress = compress;
    return this;
  }

  /** Adds a listener for every incoming event (name first). */
  onAny(fn: (event: string, ...args: unknown[]) => void): this {
    this.#any.push(fn as Fn);
    return this;
  }

  /** Like `onAny`, but first in line. */
  prependAny(fn: (event: string, ...args: unknown[]) => void): this {
    this.#any.unshift(fn as Fn);
    return this;
  }

  /** Removes one catch-all listener, or all of them. */
  offAny(fn?: (event: string, ...args: unknown[]) => void): this {
    this.#any = fn ? this.#any.filter((f) => f !== fn) : [];
    return this;
  }

  /** Adds a listener for every outgoing event, called when it is actually sent. */
  onAnyOutgoing(fn: (event: string, ...args: unknown[]) => void): this {
    this.#anyOut.push(fn as Fn);
    return this;
  }

  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(fn?: (event: string, ...args: unknown[]) => void): this {
    this.#anyOut = fn ? this.#anyOut.filter((f) => f !== fn) : [];
    return this;
  }

  #take(): Flags {
    const f = this.#flags;
    this.#flags = {};
    return f;
  }

  #emit(ev: string, args: unknown[], f: Flags): void {
    if (RESERVED.includes(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const o = this.#opts;
    if (o.retries && !f.queued && !f.volatile) {
      this.#enqueue([ev, ...args], f);
      return;
    }
    const ack = typeof args.at(-1) === "function" ? (args.pop() as Fn) : undefined;
    const timeout = f.timeout ?? o.ackTimeout;
    const errorFirst = f.errorFirst || timeout !== undefined;
    if (
      !this.connected &&
      (f.volatile || this.sendBuffer.length >= (o.maxBufferedPackets ?? 1000))
    ) {
      if (!f.volatile && ack && errorFirst) ack(this.#full());
      return;
    }
    const id = ack && this.#ids++;
    const packet: SocketPacket = { type: T.EVENT, nsp: this.nsp, data: [ev, ...args], id };
    if (ack) this.#addAck(id!, ack, timeout, errorFirst);
    this.connected ? this.#out(packet) : this.sendBuffer.push(packet);
  }

  #full(): Error {
    return new TransportError("SB_ERR_TRANSPORT_CLOSED", "cannot emit: maxBufferedPackets reached");
  }

  #addAck(id: number, ack: Fn, timeout: number | undefined, errorFirst: boolean): void {
    if (!errorFirst) return void this.#acks.set(id, [ack]);
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            this.#acks.delete(id);
            this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
            ack(new TimeoutError("SB_ERR_ACK_TIMEOUT", "operation has timed out"));
          }, timeout);
    const end: Fn = (...a) => {
      clearTimeout(timer);
      ack(...a);
    };
    this.#acks.set(id, [(...a) => end(null, ...a), end]);
  }

  // ackTimeout + retries: one emit in flight at a time, re-sent until acked or retries are spent.
  #enqueue(args: unknown[], flags: Flags): void {
    const ack = typeof args.at(-1) === "function" ? (args.pop() as Fn) : undefined;
    if (this.#queue.length >= (this.#opts.maxBufferedPackets ?? 1000)) {
      ack?.(this.#full());
      return;
    }
    const entry: Queued = {
      args,
      flags: { ...flags, queued: true, errorFirst: true },
      tries: 0,
      pending: false,
    };
    args.push((err: unknown, ...res: unknown[]) => {
      if (entry !== this.#queue[0]) return;
      if (err === null || entry.tries > (this.#opts.retries ?? 0)) {
        this.#queue.shift();
        ack?.(err, ...res);
      }
      entry.pending = false;
      this.#drain();
    });
    this.#queue.push(entry);
    this.#drain();
  }

  #drain(force?: boolean): void {
    const e = this.#queue[0];
    if (!this.connected || !e || (e.pending && !force)) return;
    e.pending = true;
    e.tries++;
    this.#emit(e.args[0] as string, e.args.slice(1), e.flags);
  }

  #out(p: SocketPacket): void {
    for (const f of [...this.#anyOut]) f(...(p.data as unknown[]));
    this.#port.send(p);
  }

  #onOpen(): void {
    const send = (data?: Record<string, unknown>) =>
      this.#port.send({
        type: T.CONNECT,
        nsp: this.nsp,
        data: this.#pid ? { pid: this.#pid, offset: this.#offset, ...data } : data,
      });
    typeof this.auth === "function" ? this.auth(send) : send(this.auth);
  }

  #onPacket(p: SocketPacket): void {
    const type = p.type;
    const d = p.data as Record<string, unknown> | undefined;
    if (type === T.CONNECT) {
      if (typeof d?.sid === "string") this.#onConnect(d.sid, d.pid as string | undefined);
      else
        this.emitReserved(
          "connect_error",
          new HandshakeError("SB_ERR_BAD_REQUEST", "invalid CONNECT"),
        );
    } else if (type === T.EVENT) {
      const args = [...(p.data as unknown[])];
      if (p.id !== undefined) args.push(this.#ackFor(p.id));
      this.connected ? this.#dispatch(args) : this.receiveBuffer.push(args);
    } else if (type === T.ACK) {
      const ack = this.#acks.get(p.id!);
      this.#acks.delete(p.id!);
      ack?.[0](...(p.data as unknown[]));
    } else if (type === T.DISCONNECT) {
      this.#destroy();
      this.#onClose("io server disconnect");
    } else if (type === T.CONNECT_ERROR) {
      this.#destroy();
      const err = new HandshakeError("SB_ERR_MIDDLEWARE_REFUSED", String(d?.message ?? d));
      this.emitReserved("connect_error", Object.assign(err, { data: d?.data }));
    }
  }

  #dispatch(args: unknown[]): void {
    for (const f of [...this.#any]) f(...args);
    (this.emitReserved as (ev: string, ...a: unknown[]) => void)(...(args as [string]));
    // Connection state recovery: the server appends each event's offset.
    const last = args.at(-1);
    if (this.#pid && typeof last === "string") this.#offset = last;
  }

  #ackFor(id: number): Fn {
    let sent = false;
    return (...data) => {
      if (!sent) this.#port.send({ type: T.ACK, nsp: this.nsp, id, data });
      sent = true;
    };
  }

  #onConnect(id: string, pid: string | undefined): void {
    this.id = id;
    this.recovered = !!pid && pid === this.#pid;
    this.#pid = pid;
    this.connected = true;
    for (const args of this.receiveBuffer.splice(0)) this.#dispatch(args);
    for (const p of this.sendBuffer.splice(0)) this.#out(p);
    this.#drain(true);
    this.emitReserved("connect");
  }

  #onClose(reason: DisconnectReason, description?: DisconnectDescription): void {
    this.connected = false;
    this.id = undefined;
    this.emitReserved("disconnect", reason, description);
    // Acks still waiting for a reply will not get one: error-first ones learn it now.
    for (const [id, [, fail]] of this.#acks) {
      if (this.sendBuffer.some((p) => p.id === id)) continue;
      this.#acks.delete(id);
      fail?.(new TransportError("SB_ERR_TRANSPORT_CLOSED", "socket has been disconnected"));
    }
  }

  #destroy(): void {
    this.#active = false;
    this.#port.release();
  }
}
