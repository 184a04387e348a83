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
import type { SocketPacket } from "../protocol/socket-packet.js";
import { Emitter } from "./emitter.js";
import type { Manager } from "./manager.js";
import type {
  AckResult,
  AllButLast,
  ConnectError,
  DecorateAcknowledgements,
  DefaultEventsMap,
  DisconnectDescription,
  DisconnectReason,
  EventNames,
  EventParams,
  EventsMap,
  Last,
  SocketReservedEvents,
} from "./typed-events.js";
import { ACK, CONNECT, DISCONNECT, EVENT, RESERVED } from "./wire.js";

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

type Fn = (...args: unknown[]) => void;
type AnyListener = (event: string, ...args: unknown[]) => void;
interface Flags {
  volatile?: boolean;
  timeout?: number;
  /** The ack takes an error first (timeout, emitWithAck, retries). */
  errorFirst?: boolean;
}
const NONE: Flags = {};
/** The error of an emit or a connection ended because the socket or connection closed. */
export const closedError = (message: string) =>
  new TransportError("SB_ERR_TRANSPORT_CLOSED", message);

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
  // `declare`: io, nsp and auth are set by the constructor, no field definitions needed.
  /** The Manager carrying this socket. */
  declare readonly io: Manager<L, E>;
  /** Namespace, e.g. `"/"` or `"/admin"`. */
  declare readonly nsp: string;
  /** Session id given by the server while connected. */
  id: string | undefined;
  /** Whether the namespace handshake is done and the connection up. */
  connected = false;
  /** Whether the last connection restored the previous session (connection state recovery). */
  recovered = false;
  /** Sent with the namespace CONNECT; changes apply to the next (re)connection. */
  declare auth: SocketAuth | undefined;
  /** Emits waiting for a connection, bounded by `maxBufferedPackets`. */
  sendBuffer: SocketPacket[] = [];
  #o: SocketOptions;
  // Events received before the namespace CONNECT (a recovered session's missed events).
  #received: unknown[][] = [];
  // The next emit's flags; most emits have none and share NONE (no object per emit).
  #flags = NONE;
  #ids = 0;
  // Pending acks by id, called with the reply or an error (timeout, disconnection).
  // Emits with an ack, by id, until acked; each remembers its packet (`p`), which a
  // reconnection sends again.
  #acks = new Map<number, ((err: Error | null, args?: unknown[]) => void) & { p?: SocketPacket }>();
  #any: AnyListener[] = [];
  #anyOut: AnyListener[] = [];
  // ackTimeout + retries: emits waiting their turn, each a function that sends it once more
  // unless that try still waits for its ack. Only the head is in flight; it is re-sent until
  // acked or its retries are spent.
  #queue: (() => void)[] = [];
  #active = false;
  #pid: string | undefined;
  #offset: string | undefined;

  /** Use `io()` or `manager.socket()`. */
  constructor(io: Manager<L, E>, nsp: string, opts: SocketOptions) {
    super();
    this.io = io;
    this.nsp = nsp;
    this.#o = opts;
    this.auth = opts.auth;
    // Listen to the Manager for good; an inactive socket ignores what it hears.
    io.on("open", () => this.#active && this.#onOpen());
    io.on("packet", (p) => this.#active && p.nsp === nsp && this.#onPacket(p));
    io.on("error", (e) => this.#active && !this.connected && this.emitReserved("connect_error", e));
    io.on("close", (reason, d) => this.#active && this.#onClose(reason, d));
  }

  /** `!connected`. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** Whether the socket is connected or trying to (it reconnects with its Manager). */
  get active(): boolean {
    return this.#active;
  }

  /**
   * Whether this socket's CONNECT carries nothing (no auth, no session to recover) while it
   * waits to connect: then the handshake can join it. @internal
   */
  get joinsInHandshake(): boolean {
    return this.#active && !this.connected && this.auth === undefined && !this.#pid;
  }

  /** Connects (or reconnects after `disconnect()` or a refusal). */
  connect(): this {
    if (this.connected) return this;
    this.#active = true;
    // While the Manager waits to reconnect, open() leaves it waiting.
    this.io.open();
    if (this.io.engine?.id) this.#onOpen();
    return this;
  }

  /** @see {@link Socket.connect} */
  open(): this {
    return this.connect();
  }

  /** Leaves the namespace; the connection closes when no socket uses it any more. */
  disconnect(): this {
    if (this.connected) {
      // Sent first: the connection may close once this socket is inactive.
      this.#packet(DISCONNECT);
      this.#destroy();
      this.#onClose("io client disconnect");
    } else this.#destroy();
    return this;
  }

  /** @see {@link Socket.disconnect} */
  close(): this {
    return this.disconnect();
  }

  /** Emits an event; a trailing function receives the acknowledgement. Buffered while offline. */
  emit<Ev extends EventNames<E>>(ev: Ev, ...args: EventParams<E, Ev>): this {
    this.#emit(ev, args);
    return this;
  }

  /** Emits and resolves with the acknowledgement (rejects on timeout or disconnection). */
  emitWithAck<Ev extends EventNames<E>>(
    ev: Ev,
    ...args: AllButLast<EventParams<E, Ev>>
  ): Promise<AckResult<Last<EventParams<E, Ev>>>> {
    return new Promise((resolve, reject) =>
      this.#with({ errorFirst: true }).#emit(ev, [
        ...args,
        (err: unknown, v: never) => (err ? reject(err) : resolve(v)),
      ]),
    );
  }

  /** Sets the ack timeout of the next emit: its ack then receives an error first. */
  timeout(ms: number): Socket<L, DecorateAcknowledgements<E>> {
    return this.#with({ timeout: ms }) as unknown as Socket<L, DecorateAcknowledgements<E>>;
  }

  /** The next emit is dropped, not buffered, when not connected. */
  get volatile(): this {
    return this.#with({ volatile: true });
  }

  /** Accepted for compatibility: transports do not compress per message. */
  compress(_compress: boolean): this {
    return this;
  }

  /** Adds a listener for every incoming event (name first). */
  onAny(fn: AnyListener): this {
    this.#any.push(fn);
    return this;
  }

  /** Like `onAny`, but first in line. */
  prependAny(fn: AnyListener): this {
    this.#any.unshift(fn);
    return this;
  }

  /** Removes one catch-all listener, or all of them. */
  offAny(fn?: AnyListener): this {
    this.#any = fn ? this.#any.filter((f) => f !== fn) : [];
    return this;
  }

  /** Adds a listener for every outgoing event, called when it is actually sent. */
  onAnyOutgoing(fn: AnyListener): this {
    this.#anyOut.push(fn);
    return this;
  }

  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(fn?: AnyListener): this {
    this.#anyOut = fn ? this.#anyOut.filter((f) => f !== fn) : [];
    return this;
  }

  // Adds to the next emit's flags.
  #with(flags: Flags): this {
    this.#flags = { ...this.#flags, ...flags };
    return this;
  }

  #emit(ev: string, args: unknown[]): void {
    const f = this.#flags;
    this.#flags = NONE;
    if (RESERVED.test(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const o = this.#o;
    const ack = typeof args.at(-1) === "function" ? (args.pop() as Fn) : undefined;
    const timeout = f.timeout ?? o.ackTimeout;
    const retry = o.retries && !f.volatile;
    const errorFirst = retry || f.errorFirst || timeout !== undefined;
    if (f.volatile && !this.connected) return;
    // maxBufferedPackets: refuse the new emit, keep the buffered ones.
    const held = this.sendBuffer.length + this.#queue.length;
    if ((retry || !this.connected) && held >= (o.maxBufferedPackets ?? 1000)) {
      if (errorFirst) ack?.(closedError("maxBufferedPackets reached"));
    } else if (!retry) this.#send(ev, args, ack, timeout, errorFirst);
    else {
      let tries = 0;
      // Every try reuses one ack id, so the server can tell a resend from a new emit.
      const id = this.#ids++;
      // A try is sent only at the head of the queue, once the previous one was answered, so
      // each answer (or error) is the head's.
      this.#queue.push(
        () =>
          this.#acks.has(id) ||
          this.#send(
            ev,
            args,
            (err: unknown, ...res: unknown[]) => {
              if (!err || ++tries > (o.retries ?? 0)) {
                this.#queue.shift();
                ack?.(err, ...res);
              }
              this.#drain();
            },
            timeout,
            errorFirst,
            id,
          ),
      );
      this.#drain();
    }
  }

  // Sends (or buffers) one EVENT; its ack waits for the reply, an error, or the timeout.
  #send(
    ev: string,
    args: unknown[],
    ack: Fn | undefined,
    timeout?: number,
    errorFirst?: boolean,
    id = ack ? this.#ids++ : undefined,
  ): void {
    const packet: SocketPacket = { type: EVENT, nsp: this.nsp, data: [ev, ...args], id };
    if (ack) {
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => {
              this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
              done(new TimeoutError("SB_ERR_ACK_TIMEOUT", "operation has timed out"));
            }, timeout);
      const done = (err: Error | null, data: unknown[] = []) => {
        clearTimeout(timer);
        this.#acks.delete(id!);
        if (errorFirst) ack(err, ...data);
        else if (!err) ack(...data);
      };
      done.p = packet;
      this.#acks.set(id!, done);
    }
    this.connected ? this.#out(packet) : this.sendBuffer.push(packet);
  }

  #drain(): void {
    if (this.connected) this.#queue[0]?.();
  }

  #out(p: SocketPacket): void {
    for (const f of this.#anyOut) f(...(p.data as [string]));
    this.io.writePacket(p);
  }

  #packet(type: SocketPacket["type"], data?: unknown, id?: number): void {
    this.io.writePacket({ type, nsp: this.nsp, data, id });
  }

  #onOpen(): void {
    // Joined in the handshake: the server's answer follows the open packet.
    if (this.io.claimHandshakeConnect(this.nsp)) return;
    const send = (data?: Record<string, unknown>) =>
      this.#packet(CONNECT, this.#pid ? { pid: this.#pid, offset: this.#offset, ...data } : data);
    typeof this.auth === "function" ? this.auth(send) : send(this.auth);
  }

  #onPacket({ type, id, data }: SocketPacket): void {
    const d = data as Record<string, string> & unknown[];
    if (type === EVENT) {
      const args =
        id === undefined ? [...d] : [...d, (...a: unknown[]) => this.#packet(ACK, a, id)];
      this.connected ? this.#dispatch(args) : this.#received.push(args);
    } else if (type === ACK) this.#acks.get(id!)?.(null, d);
    else if (type === CONNECT) this.#onConnect(d?.sid, d?.pid);
    else {
      this.#destroy();
      if (type === DISCONNECT) this.#onClose("io server disconnect");
      else {
        // CONNECT_ERROR carries { message, data? } (socket.io-protocol v5).
        const err: ConnectError = new HandshakeError(
          "SB_ERR_MIDDLEWARE_REFUSED",
          d?.message as string,
        );
        err.data = d?.data;
        this.emitReserved("connect_error", err);
      }
    }
  }

  #dispatch(args: unknown[]): void {
    for (const f of this.#any) f(...(args as [string]));
    (this.emitReserved as (...a: unknown[]) => void)(...args);
    // Connection state recovery: the server appends each event's offset.
    const last = args.at(-1);
    if (this.#pid && typeof last === "string") this.#offset = last;
  }

  #onConnect(id: string | undefined, pid: string | undefined): void {
    this.id = id;
    this.recovered = !!pid && pid === this.#pid;
    this.#pid = pid;
    this.connected = true;
    for (const args of this.#received.splice(0)) this.#dispatch(args);
    for (const p of this.sendBuffer.splice(0)) this.#out(p);
    this.#drain();
    this.emitReserved("connect");
  }

  #onClose(reason: DisconnectReason, description?: DisconnectDescription): void {
    const was = this.connected;
    this.connected = false;
    this.id = undefined;
    this.emitReserved("disconnect", reason, description);
    // A connection lost by accident: emits sent but not acked go out again, in order, with
    // their ack ids, once connected (the server answers a duplicate from its ledger); while
    // connected every emit goes out at once, so each pending ack's packet was sent. A
    // disconnect on purpose ("io client/server disconnect") ends them.
    if (was)
      for (const done of this.#acks.values())
        reason[0] === "i"
          ? done(closedError("socket has been disconnected"))
          : this.sendBuffer.push(done.p!);
  }

  // Inactive now: the connection closes when no socket of it is active.
  #destroy(): void {
    this.#active = false;
    if (!Object.values(this.io.nsps).some((s) => s.active)) this.io.disconnect();
  }
}
